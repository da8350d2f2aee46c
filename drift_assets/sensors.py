"""The drift sensor: new drift reports become alerts and retrains, through the drift trigger."""

from __future__ import annotations

import datetime as dt

from dagster import (
    AssetKey,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from drift_assets.history import materializations
from drift_assets.jobs import training_job
from drift_assets.lib.alerts import Alert
from drift_assets.lib.trigger import Report, TriggerState, evaluate, quality_failures
from drift_assets.resources import DriftSettings, Notifier

DRIFT_REPORT = AssetKey("drift_report")
QUALITY_REPORT = AssetKey("data_quality_report")


def _report(event) -> Report:
    metadata = {k: v.value for k, v in event.metadata.items()}
    table = metadata.get("columns")
    drifted = [r.data for r in table.records if r.data.get("drifted")] if table else []
    return Report(
        month=(event.partition or "")[:7],
        share=float(metadata.get("drift_share", 0.0)),
        threshold=float(metadata.get("drift_share_threshold", 0.5)),
        columns=[d["column"] for d in drifted] if table else
        [c for c in str(metadata.get("drifted_columns", "")).split(", ") if c],
        details=", ".join(f"{d['column']} ({d['method']} {d['score']:.4g}, threshold "
                          f"{d['threshold']:g})" for d in drifted),
        report=str(metadata.get("report", "")),
        drift=bool(metadata["drift_detected"]) if "drift_detected" in metadata else None,
    )


def new_reports(after: int | None, context: SensorEvaluationContext
                ) -> tuple[list[Report], int | None]:
    """The newest materialization per month since ``after``, and the last storage id seen."""
    latest: dict[str, Report] = {}
    last = after
    for record in materializations(context.instance, DRIFT_REPORT, after):
        report = _report(record.asset_materialization)
        latest[report.month] = report
        last = record.storage_id
    return sorted(latest.values(), key=lambda r: r.month), last


def new_quality(after: int | None, context: SensorEvaluationContext
                ) -> tuple[list[tuple[str, bool, str]], int | None]:
    """(month, passed, findings) of the quality reports since ``after``, newest per month.

    The checks' verdicts travel in the report's metadata too: a failed check does not fail the
    run, so the sensor reads the results itself."""
    latest, last = {}, after
    for record in materializations(context.instance, QUALITY_REPORT, after):
        event = record.asset_materialization
        metadata = {k: v.value for k, v in event.metadata.items()}
        latest[event.partition[:7]] = (event.partition[:7], bool(metadata.get("passed", True)),
                                       str(metadata.get("errors", "")))
        last = record.storage_id
    return list(latest.values()), last


def quality_alert(failures: list[tuple[str, str]]) -> Alert:
    """One message for every month whose data broke, naming each cause; the checks that the
    failure blocked are listed instead of alerting on their own."""
    months = ", ".join(m for m, _ in failures)
    return Alert(
        title=f"Data quality failure in {months}: {failures[0][1]}",
        facts=[(month, cause) for month, cause in failures],
        action=f"suppressed for {months}: the drift alert and the model performance alert "
               "(drift_report and model_performance did not run behind the blocking checks); "
               "fix the source and re-materialize the month",
        kind="quality",
    )


@sensor(
    job=training_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Alerts and retrains the model when new drift reports cross the drift threshold.",
)
def drift_sensor(context: SensorEvaluationContext, settings: DriftSettings, notifier: Notifier):
    """Each drift_report and data_quality_report materialization is read once (the cursor holds
    their storage ids). Months whose data broke make one quality alert per tick naming the cause.
    Months whose drift share crosses the threshold (with hysteresis: not again while it stays
    above) make one retrain request per tick, whose run sends one notification for all of them.
    During the retrain cooldown the drift alert is sent at once and the retrain waits."""
    state = TriggerState.loads(context.cursor)
    results, quality_last = new_quality(state.quality_after, context)
    state, broken = quality_failures(state, results, quality_last)
    if broken:
        notifier.notify_safely(quality_alert(broken), context.log)
    reports, last = new_reports(state.after, context)
    k, n = (int(part) for part in settings.persistence.split("/"))
    decision = evaluate(
        state, reports, last, settings.drift_share,
        dt.timedelta(hours=settings.retrain_cooldown_hours), dt.datetime.now(dt.UTC),
        persistence=(k, n),
    )
    cursor = decision.state.dumps()
    if decision.fired and not decision.retrain_months:
        notifier.notify_safely(
            Alert(title=f"Data drift in {', '.join(r.month for r in decision.fired)}",
                  facts=[("drift", line) for line in decision.summary()]
                  + [("changes", decision.changes)],
                  action=decision.skip, link=decision.fired[-1].report),
            context.log,
        )
    if not decision.retrain_months:
        return SensorResult(skip_reason=decision.skip, cursor=cursor)
    config = {
        "reason": "drift",
        "drift_months": decision.retrain_months,
        "drift_summary": decision.summary() + ([f"changes {decision.changes}"]
                                               if decision.changes else []),
        "report": decision.fired[-1].report if decision.fired else "",
    }
    request = RunRequest(
        run_key=f"retrain:{decision.state.after}:{','.join(decision.retrain_months)}",
        run_config={"ops": {"trained_model": {"config": config}}},
        tags={"drift_assets/drift_months": ",".join(decision.retrain_months)},
    )
    return SensorResult(run_requests=[request], cursor=cursor)
