"""Alert quality: faults found and false alarms of every reference choice and threshold mode.

Generated data 2011-01..2014-12 with faults injected at known months and columns. Every mode runs
the project's own functions (the reference windows of ``ReferenceChoice``, the engine's profile,
``calibrate`` and ``judge`` as ``drift_report`` calls them, the quality rules of
``data_quality_report``), month by month from 2012-01, as the pipeline would; calibrated modes
learn from the months that raised no alert before them.

A fault counts as found when, in one of its months, one of its columns is flagged (drifted, named
by the relation signal, or failing a blocking quality rule). A false alarm is a clean month-column
that is flagged. Run: ``python benchmarks/alert_quality.py [--seed N]``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from drift_assets.engine import build_profile
from drift_assets.lib import quality
from drift_assets.lib.alerting import calibrate, judge
from drift_assets.lib.generator import generate_month, months_between
from drift_assets.lib.reference import ReferenceChoice, shift
from drift_assets.lib.schema import DEFAULT_DRIFT_FEATURES
from drift_assets.lib.source import conform

FEATURES = list(DEFAULT_DRIFT_FEATURES)
FIRST, LAST, CHECK_FROM = "2011-01", "2014-12", "2012-01"


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
        return out


FAULTS = [
    Fault("sensor offset", ("hum",), ("2013-03", "2013-04", "2013-05")),
    Fault("unit change", ("windspeed",), ("2012-08",)),
    Fault("recoded category", ("weathersit",), ("2013-09",)),
    Fault("rescaled twin", ("temp",), ("2014-02",)),
    Fault("quality failure", ("hum",), ("2014-06",)),
]


def build_data(seed: int) -> dict[str, pd.DataFrame]:
    data = {}
    for first in months_between(FIRST, LAST):
        month = first.strftime("%Y-%m")
        frame = conform(generate_month(month, seed=seed), "generated")
        for fault in FAULTS:
            if month in fault.months:
                frame = fault.apply(frame)
        data[month] = frame
    return data


def faulty(month: str, column: str) -> bool:
    return any(month in f.months and column in f.columns for f in FAULTS)


def run_mode(data, reference: str, thresholds: str, fdr: float | None, with_quality: bool):
    """Flags per (month, column) of one mode over the checked months."""
    choice = ReferenceChoice.parse(reference)
    fixed = pd.concat([data[m] for m in choice.months], ignore_index=True)
    flags: dict[tuple[str, str], bool] = {}
    alerted: set[str] = set()
    history: dict[str, list[float]] = {}
    cache: dict[tuple, tuple] = {}
    for first in months_between(CHECK_FROM, LAST):
        month = first.strftime("%Y-%m")
        current = data[month]
        window = choice.window(month, lambda m, now=month: m in data and m < now
                               and m not in alerted)
        ref = pd.concat([data[m] for m in window], ignore_index=True) if window else fixed
        if with_quality:
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
        # A broken relation names the column of the pair that moved most (listed first).
        named = set(verdict.relations.columns[:1]) if (
            limits is not None and verdict.relations and verdict.relations.drifted) else set()
        for c in verdict.result.columns:
            flags[(month, c.column)] = c.drifted or c.column in named
        if any(flags[(month, c)] for c in FEATURES):
            alerted.add(month)
        for column, effect in verdict.effects.items():
            if not flags[(month, column)]:  # a column that raised no alert: an alike period
                history.setdefault(column, []).append(effect)
    return flags


def score(flags) -> tuple[int, int, int]:
    found = sum(any(flags.get((m, c)) for m in f.months for c in f.columns) for f in FAULTS)
    false = sum(1 for (m, c), flagged in flags.items() if flagged and not faulty(m, c))
    clean = sum(1 for (m, c) in flags if not faulty(m, c))
    return found, false, clean


def natural_change(data) -> None:
    """Each fault's effect against the same month a year earlier, beside the clean change."""
    from drift_assets.lib.alerting import effect_size
    from drift_assets.lib.multivariate import RelationMonitor

    print("fault sizes (effect size against the same month a year earlier):")
    for fault in FAULTS:
        for month in fault.months[:1]:
            before = data[shift(month, -12)]
            clean = conform(generate_month(month, seed=SEED), "generated")
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


SEED = 0


def main() -> None:
    global SEED
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    SEED = args.seed
    data = build_data(args.seed)
    natural_change(data)
    modes = [
        ("Evidently defaults (peer)", "fixed:2011-01", "evidently", None, False),
        ("evidently, seasonal", "seasonal", "evidently", None, True),
        ("evidently, rolling:3", "rolling:3", "evidently", None, True),
        ("evidently + FDR 0.05, seasonal", "seasonal", "evidently", 0.05, True),
        ("calibrated, fixed:2011-01", "fixed:2011-01", "calibrated", None, True),
        ("calibrated, rolling:3", "rolling:3", "calibrated", None, True),
        ("calibrated, seasonal", "seasonal", "calibrated", None, True),
    ]
    print(f"\n{len(FAULTS)} faults; months {CHECK_FROM}..{LAST}; features {', '.join(FEATURES)}")
    print(f"{'mode':34s} {'faults found':>12s} {'false alarms':>12s} {'clean cells':>11s} "
          f"{'seconds':>8s}")
    for name, reference, thresholds, fdr, with_quality in modes:
        started = time.perf_counter()
        found, false, clean = score(run_mode(data, reference, thresholds, fdr, with_quality))
        print(f"{name:34s} {found:>9d}/{len(FAULTS)} {false:>12d} {clean:>11d} "
              f"{time.perf_counter() - started:>8.1f}")


if __name__ == "__main__":
    main()
