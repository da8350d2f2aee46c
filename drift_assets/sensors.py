"""The drift sensor: new drift reports with drift become one retrain per tick."""

from __future__ import annotations

import json

from dagster import (
    AssetKey,
    AssetRecordsFilter,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from drift_assets.jobs import training_job

DRIFT_REPORT = AssetKey("drift_report")
PAGE = 1000


def _value(metadata, key, default=None):
    entry = metadata.get(key)
    return default if entry is None else entry.value


def read_cursor(cursor: str | None) -> tuple[int | None, set[str]]:
    """(last storage id seen, months already alerted that still drift)."""
    if not cursor:
        return None, set()
    state = json.loads(cursor)
    return state["after"], set(state["drifting"])


def new_reports(after: int | None, context: SensorEvaluationContext) -> tuple[dict, int | None]:
    """The newest materialization per month since ``after``, and the last storage id seen."""
    latest: dict[str, dict] = {}
    last = after
    while True:
        page = context.instance.fetch_materializations(
            AssetRecordsFilter(asset_key=DRIFT_REPORT, after_storage_id=last),
            limit=PAGE,
            ascending=True,
        )
        for record in page.records:
            event = record.asset_materialization
            metadata = event.metadata
            latest[event.partition] = {
                "month": (event.partition or "")[:7],
                "drift": bool(_value(metadata, "drift_detected", False)),
                "share": float(_value(metadata, "drift_share", 0.0)),
                "threshold": float(_value(metadata, "drift_share_threshold", 0.5)),
                "columns": _value(metadata, "drifted_columns", ""),
                "report": _value(metadata, "report", ""),
            }
            last = record.storage_id
        if len(page.records) < PAGE:
            return latest, last


@sensor(
    job=training_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Retrains the model once per tick when new drift reports show dataset drift.",
)
def drift_sensor(context: SensorEvaluationContext):
    """Each drift_report materialization is looked at once (the cursor holds its storage id);
    all the newly drifted months found in one tick, a backfill's for example, make one retrain
    request whose run sends one summary notification. A month re-materialized with the drift
    already alerted does not alert again until it has come back below the threshold."""
    after, drifting = read_cursor(context.cursor)
    reports, last = new_reports(after, context)
    if not reports:
        return SkipReason(f"no new drift_report materialization after storage id {after}")
    for report in reports.values():
        if not report["drift"]:
            drifting.discard(report["month"])
    drifted = sorted((r for r in reports.values() if r["drift"] and r["month"] not in drifting),
                     key=lambda r: r["month"])
    drifting |= {r["month"] for r in reports.values() if r["drift"]}
    cursor = json.dumps({"after": last, "drifting": sorted(drifting)})
    if not drifted:
        worst = max(reports.values(), key=lambda r: r["share"])
        context.update_cursor(cursor)
        if worst["drift"]:
            return SkipReason(f"{len(reports)} new report(s): the drift in "
                              f"{', '.join(sorted(drifting))} was already alerted")
        return SkipReason(
            f"{len(reports)} new report(s), none drifted: highest drift share "
            f"{worst['share']:.2f} ({worst['month']}) < threshold {worst['threshold']:.2f}"
        )
    summary = [
        f"{r['month']}: share {r['share']:.2f} >= {r['threshold']:.2f}; columns {r['columns']}"
        for r in drifted
    ]
    config = {
        "reason": "drift",
        "drift_months": [r["month"] for r in drifted],
        "drift_summary": summary,
        "report": str(drifted[-1]["report"]),
    }
    request = RunRequest(
        run_key=f"retrain-after-{last}",
        run_config={"ops": {"trained_model": {"config": config}}},
        tags={"drift_assets/drift_months": ",".join(config["drift_months"])},
    )
    return SensorResult(run_requests=[request], cursor=cursor)
