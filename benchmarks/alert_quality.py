"""Alert quality: faults found and false alarms of every reference choice and threshold mode.

Six faults are injected at known months and columns, either into generated data (2011-01..2014-12,
the default) or into a real table of the bike-sharing schema (``--data day.csv``, a path or URL:
the public table's 2011-01..2012-12). Every mode runs the project's own functions (the reference
windows of ``ReferenceChoice``, the engine's profile, ``calibrate`` and ``judge`` as
``drift_report`` calls them, the quality rules of ``data_quality_report``) month by month from the
second month on, as a backfill would; calibrated modes learn from the months that raised no alert
before them. Months from the second year on are scored.

A fault counts as found when, in one of its months, one of its columns is flagged (drifted, named
by the relation signal, or failing a blocking quality rule). A false alarm is a clean month-column
that is flagged. The peers run as their users would: every month against the first month, or
against the same month a year earlier, with no quality gate. Run:
``python benchmarks/alert_quality.py [--seed N] [--data PATH_OR_URL]``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from drift_assets.engine import build_profile
from drift_assets.engine.calibration import calibrate, effect_size
from drift_assets.engine.relations import RelationMonitor
from drift_assets.engine.verdict import alike, judge
from drift_assets.lib import quality
from drift_assets.lib.generator import generate_month
from drift_assets.lib.months import month_label, months_between, shift
from drift_assets.lib.reference import ReferenceChoice
from drift_assets.lib.schema import BIKE, DEFAULT_DRIFT_FEATURES
from drift_assets.lib.source import conform, read_table, select_month

FEATURES = list(DEFAULT_DRIFT_FEATURES)


@dataclass(frozen=True)
class Fault:
    name: str
    columns: tuple[str, ...]
    months: tuple[str, ...]

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        if self.name == "sensor offset":
            out["hum"] = (out["hum"] + 0.25).clip(upper=1.0)
        elif self.name == "unit change":
            out["windspeed"] = out["windspeed"] * 67  # km/h instead of normalised
        elif self.name == "recoded category":
            out["weathersit"] = out["weathersit"].replace({1: 3})  # clear days coded as rain
        elif self.name == "rescaled twin":
            out["temp"] = out["temp"] * 1.3  # atemp, its twin, unchanged
        elif self.name == "quality failure":
            out.loc[out.index[::2], "hum"] = np.nan
        elif self.name == "stuck sensor":
            out["atemp"] = out["atemp"].iloc[0]  # the first day's reading, all month
        return out


# Where the faults go: in generated data over 2012..2014, and in the real table's second year.
SCHEDULES = {
    "generated": {"unit change": ("2012-08",), "sensor offset": ("2013-03", "2013-04", "2013-05"),
                  "recoded category": ("2013-09",), "rescaled twin": ("2014-02",),
                  "quality failure": ("2014-06",), "stuck sensor": ("2014-10",)},
    "real": {"sensor offset": ("2012-03", "2012-04", "2012-05"), "quality failure": ("2012-06",),
             "unit change": ("2012-08",), "recoded category": ("2012-09",),
             "stuck sensor": ("2012-10",), "rescaled twin": ("2012-11",)},
}
COLUMNS = {"sensor offset": ("hum",), "unit change": ("windspeed",),
           "recoded category": ("weathersit",), "rescaled twin": ("temp",),
           "quality failure": ("hum",), "stuck sensor": ("atemp",)}


@dataclass
class Bench:
    clean: dict[str, pd.DataFrame]  # month -> the month as it arrived
    faults: list[Fault]

    @property
    def months(self) -> list[str]:
        return sorted(self.clean)

    @property
    def scored(self) -> list[str]:
        """Every month from the second year on: the first is every seasonal reference."""
        return [m for m in self.months if m >= shift(self.months[0], 12)]

    def data(self) -> dict[str, pd.DataFrame]:
        out = {}
        for month, frame in self.clean.items():
            for fault in self.faults:
                if month in fault.months:
                    frame = fault.apply(frame)
            out[month] = frame
        return out

    def faulty(self, month: str, column: str) -> bool:
        return any(month in f.months and column in f.columns for f in self.faults)


def generated(seed: int) -> Bench:
    clean = {m.strftime("%Y-%m"): conform(generate_month(m, seed=seed), "generated", BIKE)
             for m in months_between("2011-01", "2014-12")}
    return Bench(clean, [Fault(n, COLUMNS[n], ms) for n, ms in SCHEDULES["generated"].items()])


def real(location: str) -> Bench:
    """A real table of the bike-sharing schema, read and checked as ``current_data`` would."""
    table = conform(read_table(location), location, BIKE)
    months = sorted({month_label(d) for d in table["dteday"]})
    clean = {m: select_month(table, m, location, BIKE) for m in months}
    faults = [Fault(n, COLUMNS[n], ms) for n, ms in SCHEDULES["real"].items()
              if all(m in clean for m in ms)]
    return Bench(clean, faults)


def run_mode(bench: Bench, data, reference: str, thresholds: str, fdr: float | None,
             gated: bool):
    """Flags per (month, column) of one mode over the scored months.

    ``gated``: this project's pipeline (a failed blocking quality check stops the month's drift
    check, and months that raised an alert leave the seasonal and rolling windows); otherwise
    the peer's (every month's drift checked against its window as it is)."""
    choice = ReferenceChoice.parse(reference, [bench.months[0]])
    fixed = pd.concat([data[m] for m in choice.months], ignore_index=True)
    flags: dict[tuple[str, str], bool] = {}
    alerted: set[str] = set()
    history: dict[str, list[float]] = {}
    cache: dict[tuple, tuple] = {}
    for month in bench.months[1:]:
        current = data[month]
        window = choice.window(month, lambda m, now=month: m in data and m < now
                               and not (gated and m in alerted))
        ref = pd.concat([data[m] for m in window], ignore_index=True) if window else fixed
        if gated:
            report = quality.assess(current, ref, FEATURES)
            if not report.passed:  # blocking: drift is not checked, the cause is flagged
                broken = {f.column for f in report.findings if f.severity == quality.ERROR}
                for column in FEATURES:
                    flags[(month, column)] = column in broken
                alerted.add(month)
                continue
        key = tuple(window) or choice.months
        if key not in cache:
            profile = build_profile(ref, FEATURES)
            limits = calibrate(ref, profile.column_types, len(current)) if thresholds == \
                "calibrated" else None
            cache[key] = (profile, limits)
        profile, limits = cache[key]
        verdict = judge(profile, ref, current, FEATURES, calibrated_thresholds=limits,
                        history=history if limits is not None else None, fdr=fdr)
        named = relation_flags(bench, month, verdict) if limits is not None else set()
        for c in verdict.result.columns:
            flags[(month, c.column)] = c.drifted or c.column in named
        # As drift_report: against the fixed stand-in of an empty window, drift is the
        # season's, and the month is no alike period for the history either.
        if not window and choice.kind != "fixed":
            continue
        if any(flags[(month, c)] for c in FEATURES):
            alerted.add(month)
        clean = {c.column for c in verdict.result.columns
                 if alike(c.drifted, c.moved_with) and not flags[(month, c.column)]}
        for key, effect in verdict.effects.items():  # keys: columns, and column=category
            if key.split("=")[0] in clean:
                history.setdefault(key, []).append(effect)
    return {cell: flagged for cell, flagged in flags.items() if cell[0] in bench.scored}


def relation_flags(bench: Bench, month: str, verdict) -> set[str]:
    """A broken relation is one alarm about the columns it names: it finds a fault in any of
    them, and in a clean month it is one false alarm (charged to the first), not one a column."""
    relations = verdict.relations
    if relations is None or not relations.drifted:
        return set()
    return {c for c in relations.columns if bench.faulty(month, c)} or {relations.columns[0]}


def score(bench: Bench, flags) -> tuple[int, int, int]:
    found = sum(any(flags.get((m, c)) for m in f.months for c in f.columns) for f in bench.faults)
    false = sum(1 for (m, c), flagged in flags.items() if flagged and not bench.faulty(m, c))
    clean = sum(1 for (m, c) in flags if not bench.faulty(m, c))
    return found, false, clean


def natural_change(bench: Bench, data) -> None:
    """Each fault's effect against the same month a year earlier, beside the clean change."""
    print("fault sizes (effect size against the same month a year earlier):")
    for fault in bench.faults:
        month = fault.months[0]
        before, clean = data[shift(month, -12)], bench.clean[month]
        for column in fault.columns:
            kind = "cat" if column == "weathersit" else "num"
            print(f"  {fault.name:17s} {column:10s} {month}: fault "
                  f"{effect_size(before[column], data[month][column], kind):.2f}, natural "
                  f"{effect_size(before[column], clean[column], kind):.2f}")
        if fault.name == "rescaled twin":
            monitor = RelationMonitor(before, ["temp", "atemp", "hum", "windspeed"])
            print(f"  {'':17s} relations  {month}: fault "
                  f"{monitor.check(data[month]).error:.2f}, natural "
                  f"{monitor.check(clean).error:.2f} (threshold {monitor.upper:.2f})")


MODES = [
    # name, reference, thresholds, fdr, gated
    ("Evidently defaults, first month (peer)", "fixed", "evidently", None, False),
    ("Evidently defaults, seasonal (peer)", "seasonal", "evidently", None, False),
    ("evidently, seasonal", "seasonal", "evidently", None, True),
    ("evidently + FDR 0.05, seasonal", "seasonal", "evidently", 0.05, True),
    ("evidently, rolling:3", "rolling:3", "evidently", None, True),
    ("calibrated, first month", "fixed", "calibrated", None, True),
    ("calibrated, rolling:3", "rolling:3", "calibrated", None, True),
    ("calibrated, seasonal", "seasonal", "calibrated", None, True),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated data")
    parser.add_argument("--data", help="a real table (CSV or Parquet path or URL) instead")
    parser.add_argument("--export", help="write the faulted data and the fault cells to this "
                        "folder for benchmarks/nannyml_peer.py, and stop")
    args = parser.parse_args()
    bench = real(args.data) if args.data else generated(args.seed)
    data = bench.data()
    if args.export:
        folder = Path(args.export)
        folder.mkdir(parents=True, exist_ok=True)
        pd.concat([data[m] for m in bench.months]).to_csv(folder / "data.csv", index=False)
        pd.DataFrame([(f.name, m, c) for f in bench.faults for m in f.months for c in f.columns],
                     columns=["fault", "month", "column"]).to_csv(folder / "faults.csv",
                                                                  index=False)
        return
    natural_change(bench, data)
    print(f"\n{len(bench.faults)} faults; months {bench.scored[0]}..{bench.scored[-1]} scored; "
          f"features {', '.join(FEATURES)}")
    print(f"{'mode':40s} {'faults found':>12s} {'false alarms':>12s} {'clean cells':>11s} "
          f"{'seconds':>8s}")
    for name, reference, thresholds, fdr, gated in MODES:
        started = time.perf_counter()
        found, false, clean = score(bench, run_mode(bench, data, reference, thresholds, fdr,
                                                    gated))
        print(f"{name:40s} {found:>9d}/{len(bench.faults)} {false:>12d} {clean:>11d} "
              f"{time.perf_counter() - started:>8.1f}")


if __name__ == "__main__":
    main()
