"""The backtest: a table's own history replayed with faults from the catalogue (:mod:`faults`)
injected at random months, columns and sizes, to say what each mode would have caught and how
often it cries wolf, on this table.

It runs the project's own functions as ``reference_profile``, ``data_quality_report`` and
``drift_report`` call them (the reference windows of :class:`ReferenceChoice`, the engine's
profile, :func:`calibrate`, :func:`judge`, the quality rules), not the Dagster graph:

1. **The clean replay**, once per mode: every month from the second on against its window, as a
   backfill would, the calibrated modes learning from the months that raised no alert before
   them. Its flags on the months from the second year on are the **false alarms** (a broken
   relation in a clean month counts once); the windows, the alerted months and the history it
   leaves are what each trial starts from.
2. **A trial** draws, from a generator seeded by its own seed, a fault kind, its size, its first
   month (from the second year on, so that every seasonal window exists) and its column(s).
   Only the fault's months are judged again, in order, each mode until it flags one of the
   fault's columns (drifted, named by a broken relation, or failing a blocking quality rule):
   the fault is **found**, and the months it took are its months to detection.

What is reused: each window's profile and calibrated thresholds are computed once and shared by
every trial and every mode with that window; a fault's month is quality-checked once for all
modes; with Evidently's thresholds a month's tests against a window are run once for all modes
that use it. What is approximated: a trial keeps the clean replay's windows (which months), and
a rolling window that holds an earlier, unfound month of the fault keeps the clean window's
calibrated thresholds (its profile is rebuilt from the faulted rows); seasonal and fixed windows
never hold a fault's month (faults last at most six months, from the second year on).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from drift_assets.engine import build_profile, detect_drift
from drift_assets.engine.calibration import calibrate
from drift_assets.engine.verdict import alike, judge
from drift_assets.lib import quality
from drift_assets.lib.faults import KINDS, NUMERIC, Baseline, Fault, column_roles
from drift_assets.lib.months import shift
from drift_assets.lib.reference import ReferenceChoice

# Changes the example generators put in their history on purpose: drift, not false alarms.
KNOWN_CHANGES: dict[str, dict[str, tuple[str, ...]]] = {
    "support_tickets": {
        "product": tuple(f"2024-{m:02d}" for m in range(3, 13)),  # ai_assistant from March
        "channel": ("2024-06",),  # the chat outage, and what it does to the others
        "first_response_minutes": ("2024-06",),
        "message_words": ("2024-06",),
    },
}


@dataclass(frozen=True)
class Mode:
    """A way of judging months: the reference (``first``: the table's first month, as a
    peer's user would; ``fixed``: the declared reference months; ``rolling:N``; ``seasonal``),
    the thresholds, and whether it is the pipeline's (``gated``: a blocking quality failure
    stops the month's drift check and names its columns; alerted months leave later windows)
    or a peer's (every month checked as it is)."""

    name: str
    reference: str
    thresholds: str
    gated: bool = True

    @property
    def peer(self) -> bool:
        return not self.gated


MODES: tuple[Mode, ...] = (
    Mode("Evidently defaults, first month (peer)", "first", "evidently", gated=False),
    Mode("Evidently defaults, seasonal (peer)", "seasonal", "evidently", gated=False),
    Mode("evidently, fixed", "fixed", "evidently"),
    Mode("evidently, rolling:3", "rolling:3", "evidently"),
    Mode("evidently, seasonal", "seasonal", "evidently"),
    Mode("calibrated, fixed", "fixed", "calibrated"),
    Mode("calibrated, rolling:3", "rolling:3", "calibrated"),
    Mode("calibrated, seasonal", "seasonal", "calibrated"),
)
RECOMMENDED = "calibrated, seasonal"


@dataclass
class Table:
    """A table's history as the backtest replays it: its months in order (conformed rows), the
    schema kinds, the monitored features, the declared categorical columns and reference months,
    the quality rules' arguments (``quality.assess``'s ``allowed`` and limits) and changes the
    history holds on purpose (column -> months), which are neither faults nor false alarms."""

    name: str
    months: dict[str, pd.DataFrame]
    kinds: dict[str, str]
    features: list[str]
    reference_months: tuple[str, ...]
    categorical: tuple[str, ...] = ()
    quality: dict = field(default_factory=dict)
    known: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self):
        self.months = dict(sorted(self.months.items()))
        self.order = list(self.months)
        if len(self.order) < 13:
            raise ValueError(f"table {self.name!r}: {len(self.order)} months; a backtest needs "
                             "at least 13 (a year of history, then a month to judge)")
        missing = [m for m in self.reference_months if m not in self.months]
        if missing:
            raise ValueError(f"table {self.name!r}: reference month {missing[0]} is not in its "
                             f"history ({self.order[0]}..{self.order[-1]})")

    @property
    def scored(self) -> list[str]:
        """The months from the second year on: the first is every seasonal window."""
        return [m for m in self.order if m >= shift(self.order[0], 12)]

    @property
    def column_types(self) -> dict[str, str] | None:
        declared = {c: "cat" for c in self.categorical if c in self.features}
        return declared or None

    def known_change(self, month: str, column: str) -> bool:
        return month in self.known.get(column, ())


@dataclass
class Replay:
    """One mode's clean replay: each month's window (``()``: the fixed reference), its flags
    per (month, column), the months that alerted, and per month the effect sizes it adds to
    the history of alike months (calibrated modes)."""

    mode: Mode
    windows: dict[str, tuple[str, ...]] = field(default_factory=dict)
    flags: dict[tuple[str, str], bool] = field(default_factory=dict)
    alerted: set[str] = field(default_factory=set)
    alike: dict[str, dict[str, float]] = field(default_factory=dict)

    def history(self, before: str, own: dict[str, dict[str, float]] | None = None
                ) -> dict[str, list[float]]:
        """The effect sizes of the alike months before ``before``, in month order; ``own``
        replaces the clean months a trial judged again."""
        history: dict[str, list[float]] = {}
        months = sorted(set(self.alike) | set(own or {}))
        for month in months:
            if month >= before:
                break
            effects = (own or {}).get(month, self.alike.get(month, {}))
            for key, effect in effects.items():
                history.setdefault(key, []).append(effect)
        return history


@dataclass(frozen=True)
class Outcome:
    """A trial: its seed, its fault, and per mode the months it took to find it (1: its first
    month; None: not found in its months)."""

    seed: int
    fault: Fault
    found: dict[str, int | None]


@dataclass
class Backtest:
    """A table's backtest: the clean replays of ``modes`` (computed on first use) and trials."""

    table: Table
    modes: tuple[Mode, ...] = MODES
    calibration: dict = field(default_factory=dict)  # calibrate's quantile, min_effect

    def __post_init__(self):
        t = self.table
        self.roles = column_roles(t.kinds, t.features, t.categorical)
        first_year = pd.concat([t.months[m] for m in t.order[:12]], ignore_index=True)
        self.baseline = Baseline.of(first_year, t.kinds, self.roles)
        self.fixed = pd.concat([t.months[m] for m in t.reference_months], ignore_index=True)
        self._windows: dict[tuple[str, ...], dict] = {}
        self._quality: dict[str, quality.QualityReport] = {}
        self._replays: dict[str, Replay] = {}

    # --- windows, quality, verdicts ---

    def _choice(self, mode: Mode) -> ReferenceChoice:
        t = self.table
        if mode.reference == "first":
            return ReferenceChoice.parse(f"fixed:{t.order[0]}")
        if mode.reference == "fixed":
            return ReferenceChoice.parse("fixed:" + ",".join(t.reference_months))
        return ReferenceChoice.parse(mode.reference, list(t.reference_months))

    def window(self, months: tuple[str, ...], calibrated: bool) -> dict:
        """The frame, profile and (when asked) calibrated thresholds of a window of clean
        months, computed once: ``drift_report``'s, where a window's month-sized sample is its
        rows over its months."""
        entry = self._windows.get(months)
        if entry is None:
            frame = pd.concat([self.table.months[m] for m in months], ignore_index=True)
            profile = build_profile(frame, self.table.features, self.table.column_types)
            entry = self._windows[months] = {"frame": frame, "profile": profile, "drift": {}}
        if calibrated and "thresholds" not in entry:
            entry["thresholds"] = calibrate(
                entry["frame"], entry["profile"].column_types,
                sample_rows=len(entry["frame"]) // len(months), **self.calibration)
        return entry

    def assess(self, month: str) -> quality.QualityReport:
        """``data_quality_report``'s rules on a clean month against the declared reference
        (computed once)."""
        if month not in self._quality:
            self._quality[month] = quality.assess(self.table.months[month], self.fixed,
                                                  self.table.features, **self.table.quality)
        return self._quality[month]

    def blocked(self, month: str, frame: pd.DataFrame, columns: tuple[str, ...]
                ) -> tuple[bool, set[str]]:
        """Whether a faulted month fails a blocking quality rule, and the fault's columns that
        fail one. The rules look at one column at a time, so only the fault's columns are
        assessed again; the others keep the clean month's findings."""
        limits = dict(self.table.quality)
        allowed = {c: v for c, v in (limits.pop("allowed", None) or {}).items() if c in columns}
        report = quality.assess(frame[list(columns)], self.fixed[list(columns)], list(columns),
                                allowed=allowed, **limits)
        broken = {f.column for f in report.findings if f.severity == quality.ERROR}
        others = any(f.severity == quality.ERROR and f.column not in columns
                     for f in self.assess(month).findings)
        return bool(broken) or others, broken

    def _judge(self, mode: Mode, window: dict, reference: pd.DataFrame, current: pd.DataFrame,
               history: dict[str, list[float]], cache_key=None, columns: list[str] | None = None):
        """``(flagged columns, verdict or None)`` of a month against a window, on ``columns``
        (default: the features). With Evidently's thresholds the verdict is ``detect_drift``'s
        as it is (``decide`` leaves it so), shared by the modes with that window; calibrated,
        ``judge``'s, a broken relation naming its columns."""
        features = columns or self.table.features
        if mode.thresholds != "calibrated":
            result = window["drift"].get(cache_key) if cache_key else None
            if result is None:
                result = detect_drift(window["profile"], current, features, max_workers=1)
                if cache_key:
                    window["drift"][cache_key] = result
            return {c.column for c in result.columns if c.drifted}, None
        verdict = judge(window["profile"], reference, current, features,
                        calibrated_thresholds=window["thresholds"], history=history)
        flagged = {c.column for c in verdict.result.columns if c.drifted}
        if verdict.relations is not None and verdict.relations.drifted:
            flagged |= set(verdict.relations.columns)
        return flagged, verdict

    @staticmethod
    def _alike_effects(verdict, flagged: set[str]) -> dict[str, float]:
        """The effect sizes a month adds to the history: its columns' that drifted not, and
        were not cleared as moved with a twin (as ``drift_report`` records them)."""
        clean = {c.column for c in verdict.result.columns
                 if alike(c.drifted, c.moved_with) and c.column not in flagged}
        return {k: e for k, e in verdict.effects.items() if k.split("=")[0] in clean}

    # --- the clean replay ---

    def replay(self, mode: Mode) -> Replay:
        """The mode's clean replay (computed once)."""
        if mode.name in self._replays:
            return self._replays[mode.name]
        t, choice = self.table, self._choice(mode)
        calibrated = mode.thresholds == "calibrated"
        run = Replay(mode)
        for month in t.order[1:]:
            months = tuple(choice.window(month, lambda m, now=month: m in t.months and m < now
                                         and not (mode.gated and m in run.alerted)))
            run.windows[month] = months
            if mode.gated:
                report = self.assess(month)
                if not report.passed:
                    broken = {f.column for f in report.findings if f.severity == quality.ERROR}
                    for column in t.features:
                        run.flags[(month, column)] = column in broken
                    run.alerted.add(month)
                    continue
            window = self.window(months or choice.months, calibrated)
            flagged, verdict = self._judge(mode, window, window["frame"], t.months[month],
                                           run.history(month), cache_key=month)
            if verdict is not None and verdict.relations is not None and \
                    verdict.relations.drifted:
                # one alarm about a pair: charged to its first column, not to each
                flagged = {c.column for c in verdict.result.columns if c.drifted} | {
                    verdict.relations.columns[0]}
            for column in t.features:
                run.flags[(month, column)] = column in flagged
            # as drift_report: against the fixed stand-in of an empty window the drift is the
            # season's, and the month is no alike period for the history either
            if not months and choice.kind != "fixed":
                continue
            if flagged:
                run.alerted.add(month)
            if verdict is not None:
                run.alike[month] = self._alike_effects(verdict, flagged)
        self._replays[mode.name] = run
        return run

    def false_alarms(self, mode: Mode) -> dict:
        """The clean replay's flags on the scored months, the table's known changes left out:
        the count, per column, the clean month-columns and per year."""
        run, t = self.replay(mode), self.table
        cells = [(m, c) for m in t.scored for c in t.features if not t.known_change(m, c)]
        per_column = {c: 0 for c in t.features}
        for month, column in cells:
            per_column[column] += bool(run.flags.get((month, column)))
        count = sum(per_column.values())
        years = len(t.scored) / 12
        return {"count": count, "per_column": per_column, "clean_cells": len(cells),
                "months": len(t.scored), "per_year": count / years,
                "per_year_five_columns": count / years * 5 / len(t.features)}

    # --- trials ---

    def applicable(self) -> dict[str, list[tuple[str, ...]]]:
        """Per fault kind, the columns (or pairs) of this table it can break; a kind with none
        (no related pair of columns, no categorical column) is not drawn."""
        return {name: self.baseline.candidates(kind) for name, kind in KINDS.items()}

    def draw(self, seed: int) -> Fault:
        """The fault of trial ``seed``: kind, size, first month and column(s), from a generator
        seeded by ``seed`` alone."""
        rng = np.random.default_rng(seed)
        applicable = {k: c for k, c in self.applicable().items() if c}
        name = list(applicable)[rng.integers(len(applicable))]
        kind = KINDS[name]
        size = float(kind.sizes[rng.integers(len(kind.sizes))])
        scored = self.table.scored
        # a fault fits in the history; in one too short for it, it runs to the last month
        starts = scored[:max(len(scored) - kind.months + 1, 1)]
        start = starts[rng.integers(len(starts))]
        months = tuple(m for m in (shift(start, k) for k in range(kind.months))
                       if m in self.table.months)
        candidates = [cs for cs in applicable[name]
                      if not any(self.table.known_change(m, c) for m in months for c in cs)] \
            or applicable[name]
        columns = candidates[rng.integers(len(candidates))]
        return Fault(name, tuple(columns), size, months, seed=seed)

    def trial(self, seed: int | None = None, fault: Fault | None = None) -> Outcome:
        """Trial ``seed`` (or the ``fault`` given): each mode's months to detection."""
        fault = fault if fault is not None else self.draw(seed)
        t = self.table
        faulted = {m: fault.apply(t.months[m], m, self.baseline) for m in fault.months}
        reports: dict[str, tuple[bool, set[str]]] = {}
        # The tests are per column: only the fault's columns are tested again, with, in the
        # calibrated modes, every numeric feature, which the relations and twins are judged on.
        numeric = [c for c in t.features if self.roles.get(c) == NUMERIC]
        judged = {False: list(fault.columns), True: [
            c for c in t.features if c in fault.columns or (
                c in numeric and any(self.roles.get(f) == NUMERIC for f in fault.columns))]}
        found: dict[str, int | None] = {}
        for mode in self.modes:
            run, choice = self.replay(mode), self._choice(mode)
            calibrated = mode.thresholds == "calibrated"
            own: dict[str, dict[str, float]] = {}
            found[mode.name] = None
            for step, month in enumerate(fault.months, start=1):
                current = faulted[month]
                # a column the clean month already flagged tells nobody about the fault
                target = {c for c in fault.columns if not run.flags.get((month, c))}
                if mode.gated:
                    if month not in reports:
                        reports[month] = self.blocked(month, current, fault.columns)
                    blocked, broken = reports[month]
                    if blocked:
                        if broken & target:
                            found[mode.name] = step
                            break
                        continue
                months = run.windows[month]
                window = self.window(months or choice.months, calibrated)
                reference, key = window["frame"], ("fault", fault, month)
                if any(m in faulted for m in months):  # an earlier month of the fault
                    reference = pd.concat([faulted.get(m, t.months[m]) for m in months],
                                          ignore_index=True)
                    window = {**window, "drift": {}, "profile": build_profile(
                        reference, t.features, t.column_types)}
                    key = None
                flagged, verdict = self._judge(mode, window, reference, current,
                                               run.history(month, own), cache_key=key,
                                               columns=judged[calibrated])
                if flagged & target:
                    found[mode.name] = step
                    break
                if verdict is not None and months:
                    # the judged columns' effects replace the clean month's; the others are
                    # the clean month's (their rows are)
                    own[month] = {**{k: e for k, e in run.alike.get(month, {}).items()
                                     if k.split("=")[0] not in judged[True]},
                                  **self._alike_effects(verdict, flagged)}
        # the fault's tests against clean windows are of no use to another trial
        for entry in self._windows.values():
            entry["drift"] = {k: v for k, v in entry["drift"].items() if not isinstance(k, tuple)}
        return Outcome(seed if seed is not None else fault.seed, fault, found)

    def run(self, seeds: range | list[int],
            progress: Callable[[int, int], None] | None = None) -> Report:
        """The clean replays and the trials of ``seeds``, summarised."""
        started = time.perf_counter()
        alarms = {mode.name: self.false_alarms(mode) for mode in self.modes}
        outcomes = []
        for i, seed in enumerate(seeds, start=1):
            outcomes.append(self.trial(seed))
            if progress is not None:
                progress(i, len(seeds))
        return Report(self.table.name, [m.name for m in self.modes], list(seeds), outcomes,
                      alarms, {k: [list(c) for c in cs] for k, cs in self.applicable().items()},
                      time.perf_counter() - started)


@dataclass
class Report:
    """A backtest's figures: per mode, kind and size the trials and the share found, the
    months to detection; per mode the false alarms."""

    table: str
    modes: list[str]
    seeds: list[int]
    outcomes: list[Outcome]
    false_alarms: dict[str, dict]
    applicable: dict[str, list[list[str]]]
    seconds: float = 0.0

    def detection(self) -> list[dict]:
        """One row per mode, kind and size: trials, found, found in the first month, mean
        months to detection of those found."""
        rows = []
        for mode in self.modes:
            for name, kind in KINDS.items():
                for size in kind.sizes:
                    these = [o.found[mode] for o in self.outcomes
                             if o.fault.kind == name and o.fault.size == size]
                    if not these:
                        continue
                    hits = [m for m in these if m is not None]
                    rows.append({"mode": mode, "kind": name, "size": size,
                                 "goal_size": size == kind.goal, "trials": len(these),
                                 "found": len(hits), "share": len(hits) / len(these),
                                 "first_month": sum(1 for m in hits if m == 1) / len(these),
                                 "months_to_detection": float(np.mean(hits)) if hits else None})
        return rows

    def at_goal(self) -> dict[str, dict[str, float | None]]:
        """Per mode, per kind, the share found at the kind's goal size (None: no trial)."""
        out: dict[str, dict[str, float | None]] = {m: {} for m in self.modes}
        for row in self.detection():
            if row["goal_size"]:
                out[row["mode"]][row["kind"]] = row["share"]
        for mode in self.modes:
            for name in KINDS:
                out[mode].setdefault(name, None)
        return out

    def goal(self, mode: str = RECOMMENDED, share: float = 0.95, alarms: float = 2.0) -> dict:
        """The issue's goal for ``mode``: every kind found in at least ``share`` of its trials
        at the goal size, at most ``alarms`` false alarms a year across five columns, and ahead
        of every peer on both (found at least as often, fewer or as few false alarms)."""
        at_goal = self.at_goal()
        peers = [m for m in self.modes if "(peer)" in m]
        mine = at_goal[mode]
        short = sorted(k for k, s in mine.items() if s is not None and s < share)
        # a kind this table has columns for, with no trial at its goal size: not judged
        untried = sorted(k for k, s in mine.items() if s is None and self.applicable.get(k))
        rate = self.false_alarms[mode]["per_year_five_columns"]
        behind = sorted({p for p in peers for k, s in at_goal[p].items()
                         if s is not None and mine[k] is not None and mine[k] < s}
                        | {p for p in peers
                           if self.false_alarms[p]["per_year_five_columns"] < rate})
        return {"mode": mode, "kinds_short": short, "kinds_untried": untried,
                "false_alarms_per_year": rate, "alarms_met": rate <= alarms,
                "behind_peers": behind,
                "met": not short and not untried and rate <= alarms and not behind}

    def to_dict(self) -> dict:
        return {
            "table": self.table, "trials": len(self.outcomes),
            "seeds": [self.seeds[0], self.seeds[-1]] if self.seeds else [],
            "seconds": round(self.seconds, 1), "modes": self.modes,
            "kinds": {name: {"sizes": list(k.sizes), "goal_size": k.goal, "unit": k.unit,
                             "months": k.months, "columns": self.applicable.get(name, [])}
                      for name, k in KINDS.items()},
            "detection": self.detection(),
            "false_alarms": self.false_alarms,
            "goal": self.goal() if RECOMMENDED in self.modes else None,
            "trials_list": [{"seed": o.seed, "kind": o.fault.kind,
                             "columns": list(o.fault.columns), "size": o.fault.size,
                             "months": list(o.fault.months), "found": o.found}
                            for o in self.outcomes],
        }
