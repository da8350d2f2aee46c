"""The drift trigger: which new drift reports deserve an alert and a retrain, and which do not.

Pure state in, state out, so the sensor is thin and every rule is testable without Dagster:
- hysteresis: in month order, a month fires when it drifts (its drift share reaches the threshold,
  or the report's verdict says so) while the trigger is armed; the trigger re-arms when a month
  no longer drifts;
- with ``new_causes`` (calibrated thresholds, where every drifted column is itself unusual),
  a month that drifts during an episode with a column (or a broken relation) that none of the
  episode's earlier months had fires too; with Evidently's thresholds against one reference,
  columns come and go with the seasons within an episode, and that would be a flood;
- a month that fired is not alerted again when it is re-materialized with the same verdict;
- cooldown: at most one retrain per cooldown; drift found during it is alerted at once and its
  retrain waits (the months are kept as pending) until the cooldown has passed;
- persistence (optional): a month alerts only when k of the last n months drifted;
- each alert says what changed since the previous one.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field

from drift_assets.lib.lifecycle import crossings


def persistent(months_drifted: dict[str, bool], month: str, k: int, n: int) -> bool:
    """Whether ``month`` drifted and at least ``k`` of the ``n`` months up to it drifted."""
    if not months_drifted.get(month):
        return False
    earlier = sorted(m for m in months_drifted if m <= month)[-n:]
    return sum(months_drifted[m] for m in earlier) >= k


@dataclass
class TriggerState:
    after: int | None = None  # last drift record id handled (lib.history)
    shares: dict[str, float] = field(default_factory=dict)  # month -> latest drift share
    drifts: dict[str, bool] = field(default_factory=dict)  # month -> latest dataset verdict
    columns: dict[str, list[str]] = field(default_factory=dict)  # month -> drifted columns
    alerted: list[str] = field(default_factory=list)  # months whose crossing was alerted
    pending: list[str] = field(default_factory=list)  # alerted, retrain waiting for cooldown
    last_retrain: str | None = None  # ISO time of the last retrain request
    last_alert: dict = field(default_factory=dict)  # {"month", "share", "columns"}
    quality_after: int | None = None  # last quality record id handled
    quality_failing: list[str] = field(default_factory=list)  # months alerted as broken
    # Retrains asked for and not yet started: {"run_key", "months", "records", "changes"}.
    # Asked again at every evaluation until a run with that key exists, so a process that
    # stops between deciding and starting the run loses nothing, and the run key doubles none.
    requests: list[dict] = field(default_factory=list)

    def dumps(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def loads(cls, cursor: str | None) -> TriggerState:
        return cls(**json.loads(cursor)) if cursor else cls()


@dataclass(frozen=True)
class Report:
    month: str
    share: float
    threshold: float
    columns: list[str]  # the causes: drifted columns, and "relation between …" when broken
    drift: bool | None = None  # the report's verdict; None: share >= threshold
    record: int | None = None  # the drift record it was read from
    report: str = ""


@dataclass
class Decision:
    state: TriggerState
    fired: list[Report] = field(default_factory=list)  # new crossings, alerted now
    retrain_months: list[str] = field(default_factory=list)  # empty: no retrain this tick
    skip: str = ""  # why nothing happens, naming the values compared
    changes: str = ""  # what changed since the previous alert

    @property
    def records(self) -> list[int]:
        return [r.record for r in self.fired if r.record is not None]


def _changes(previous: dict, report: Report) -> str:
    if not previous:
        return "first drift alert"
    before, now = set(previous["columns"]), set(report.columns)
    parts = [f"since {previous['month']}: share {previous['share']:.2f} -> {report.share:.2f}"]
    if now - before:
        parts.append("newly drifted " + ", ".join(sorted(now - before)))
    if before - now:
        parts.append("no longer drifted " + ", ".join(sorted(before - now)))
    if now == before:
        parts.append("same columns")
    return "; ".join(parts)


def _new_causes(drifting: dict[str, float], causes: dict[str, list[str]]) -> list[str]:
    """Months that drift during an episode (consecutive drifting months) with a cause that none
    of the episode's earlier months had."""
    fired, seen = [], None
    for month in sorted(drifting):
        if drifting[month] < 0.5:
            seen = None
            continue
        now = set(causes.get(month, []))
        if seen is not None and now - seen:
            fired.append(month)
        seen = now if seen is None else seen | now
    return fired


def evaluate(
    state: TriggerState,
    reports: list[Report],
    last_storage_id: int | None,
    threshold: float,
    cooldown: dt.timedelta,
    now: dt.datetime,
    persistence: tuple[int, int] = (1, 1),
    new_causes: bool = False,
) -> Decision:
    """Fold the new reports into the state and decide this tick's alert and retrain.

    ``persistence`` (k, n): a month counts as drifted only when k of the n months up to it
    reached the threshold, so a single odd month does not alert."""
    state = TriggerState(**json.loads(state.dumps()))  # never mutate the caller's
    if last_storage_id is not None:
        state.after = last_storage_id
    by_month = {r.month: r for r in reports}
    for report in reports:
        state.shares[report.month] = report.share
        state.drifts[report.month] = (report.share >= threshold if report.drift is None
                                      else report.drift)
        state.columns[report.month] = report.columns
    k, n = persistence
    effective = {m: 1.0 if persistent(state.drifts, m, k, n) else 0.0 for m in state.drifts}
    fired_months = crossings(effective, 0.5)
    if new_causes:
        fired_months = sorted(set(fired_months) | set(_new_causes(effective, state.columns)))
    new = [m for m in fired_months if m not in state.alerted and m in by_month]
    state.alerted = fired_months
    decision = Decision(state=state, fired=[by_month[m] for m in new])
    if decision.fired:
        decision.changes = _changes(state.last_alert, decision.fired[-1])
        last = decision.fired[-1]
        state.last_alert = {"month": last.month, "share": last.share, "columns": last.columns}
    waiting = sorted(set(state.pending) | set(new))
    if not waiting:
        if not reports:
            decision.skip = f"no new drift record after id {state.after}"
        elif any(state.drifts[r.month] for r in reports):
            decision.skip = (f"{len(reports)} new report(s): drift stays (share threshold "
                             f"{threshold:.2f}) since the alert for {', '.join(fired_months)}")
        else:
            worst = max(reports, key=lambda r: r.share)
            decision.skip = (f"{len(reports)} new report(s), none drifted: highest drift share "
                             f"{worst.share:.2f} ({worst.month}) < threshold {threshold:.2f}")
        return decision
    last_retrain = dt.datetime.fromisoformat(state.last_retrain) if state.last_retrain else None
    if last_retrain is not None and now - last_retrain < cooldown:
        state.pending = waiting
        decision.skip = (f"drift in {', '.join(waiting)}; retrain deferred until "
                         f"{(last_retrain + cooldown):%Y-%m-%d %H:%M} UTC (cooldown "
                         f"{cooldown.total_seconds() / 3600:g} h)")
        return decision
    state.pending = []
    state.last_retrain = now.isoformat()
    decision.retrain_months = waiting
    return decision


def quality_failures(state: TriggerState, results: list[tuple[str, bool, str]],
                     last_storage_id: int | None) -> tuple[TriggerState, list[tuple[str, str]]]:
    """Fold new quality results (month, passed, summary) into the state; return the months that
    newly fail with their cause. A month is alerted once until it passes again."""
    state = TriggerState(**json.loads(state.dumps()))
    if last_storage_id is not None:
        state.quality_after = last_storage_id
    failing = set(state.quality_failing)
    new = []
    for month, passed, summary in sorted(results):
        if passed:
            failing.discard(month)
        elif month not in failing:
            failing.add(month)
            new.append((month, summary))
    state.quality_failing = sorted(failing)
    return state, new
