"""The drift sensor: new drift reports become alerts and retrains, through the drift trigger."""

from __future__ import annotations

import datetime as dt
import json

from dagster import (
    AssetKey,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from drift_assets.history import materializations
from drift_assets.jobs import monthly_drift_job, training_job
from drift_assets.lib.alerts import Alert
from drift_assets.lib.source import month_location
from drift_assets.lib.trigger import Report, TriggerState, evaluate, quality_failures
from drift_assets.outbox import flush, send_or_keep
from drift_assets.partitions import monthly_partitions
from drift_assets.resources import DataSource, DriftSettings, FileSource, Notifier, S3Arrivals

DRIFT_REPORT = AssetKey("drift_report")
QUALITY_REPORT = AssetKey("data_quality_report")


def _report(event) -> Report:
    metadata = {k: v.value for k, v in event.metadata.items()}
    table = metadata.get("columns")
    drifted = [r.data for r in table.records if r.data.get("drifted")] if table else []
    columns = [d["column"] for d in drifted] if table else \
        [c for c in str(metadata.get("drifted_columns", "")).split(", ") if c]
    relation = [f"relation between {metadata.get('relations/columns')} broken"] \
        if metadata.get("relations/drift") else []
    scores = ", ".join(f"{d['column']} ({d['method']} {d['score']:.4g}, threshold "
                       f"{d['threshold']:g})" for d in drifted)
    details = [f"columns {scores}"] if drifted else []
    return Report(
        month=(event.partition or "")[:7],
        share=float(metadata.get("drift_share", 0.0)),
        threshold=float(metadata.get("drift_share_threshold", 0.5)),
        columns=columns + relation,
        details="; ".join(details + relation),
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
    flush(context.instance, notifier, context.log)  # alerts a failing channel kept waiting
    state = TriggerState.loads(context.cursor)
    results, quality_last = new_quality(state.quality_after, context)
    state, broken = quality_failures(state, results, quality_last)
    if broken:
        send_or_keep(context.instance, notifier, quality_alert(broken), context.log)
    reports, last = new_reports(state.after, context)
    k, n = (int(part) for part in settings.persistence.split("/"))
    decision = evaluate(
        state, reports, last, settings.drift_share,
        dt.timedelta(hours=settings.retrain_cooldown_hours), dt.datetime.now(dt.UTC),
        persistence=(k, n), new_causes=settings.thresholds == "calibrated",
    )
    cursor = decision.state.dumps()
    if decision.fired and not decision.retrain_months:
        send_or_keep(
            context.instance, notifier,
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


# --- S3 arrivals: an uploaded month is checked at once, instead of waiting for Monday. ---

# Objects modified this long before the newest one seen are still looked at: an upload that
# started earlier but finished later than another one is not missed.
ARRIVAL_LOOKBACK = dt.timedelta(minutes=15)


def _expected_object(source: DataSource, month: str) -> str | None:
    """The file the monthly run reads for ``month``, when the source names one file a month."""
    if isinstance(source, FileSource) and "{month}" in source.location:
        return month_location(source.location, month)
    return None


@sensor(
    job=monthly_drift_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Checks a month as soon as its file is uploaded under the watched S3 prefix "
    "(DRIFT_S3_BUCKET, DRIFT_S3_INCOMING_PREFIX): loads it, checks its quality and its drift.",
)
def s3_arrival_sensor(context: SensorEvaluationContext, arrivals: S3Arrivals,
                      source: DataSource):
    """A new or re-uploaded object whose file name names a month (``incoming/2011-07.csv``)
    requests that month's partition of ``monthly_drift_job``; the run key is the object's key and
    ETag, so one upload makes one run. The cursor holds the newest LastModified seen and the
    objects seen shortly before it. Without ``DRIFT_S3_BUCKET`` it skips, saying so."""
    if not arrivals.configured:
        return SkipReason("DRIFT_S3_BUCKET is not set: no S3 prefix is watched for new files")
    state = json.loads(context.cursor) if context.cursor else {"last_modified": None, "seen": []}
    since = dt.datetime.fromisoformat(state["last_modified"]) if state["last_modified"] else None
    seen = set(state["seen"])
    listed = arrivals.list()
    new = sorted(
        (a for a in listed if (since is None or a.last_modified >= since - ARRIVAL_LOOKBACK)
         and f"{a.key}@{a.etag}" not in seen),
        key=lambda a: (a.last_modified, a.key),
    )
    newest = max([a.last_modified for a in listed] + ([since] if since else []), default=None)
    cursor = json.dumps({
        "last_modified": newest.isoformat() if newest else None,
        "seen": sorted(f"{a.key}@{a.etag}" for a in listed
                       if a.last_modified >= newest - ARRIVAL_LOOKBACK),
    })
    chosen, ignored = {}, []
    for arrival in new:
        month, expected = arrival.month, None
        if month is not None:
            expected = _expected_object(source, month)
        if month is None:
            ignored.append(f"{arrival.key} (no YYYY-MM in its name)")
        elif not monthly_partitions.has_partition_key(f"{month}-01"):
            ignored.append(f"{arrival.key} ({month} is not a partition)")
        elif expected is not None and expected != arrival.uri:
            ignored.append(f"{arrival.key} (the run would read {expected}: DRIFT_SOURCE)")
        else:
            if expected is None:
                context.log.warning(f"{arrival.uri}: the source ({source.describe()}) does not "
                                    f"read this object; {month} is checked from the source")
            chosen[month] = arrival  # the newest upload of a month wins
    if ignored:
        context.log.warning("ignored: " + "; ".join(ignored))
    requests = [
        RunRequest(partition_key=f"{month}-01", run_key=f"{a.key}@{a.etag}",
                   tags={"drift_assets/s3_object": a.uri, "drift_assets/s3_etag": a.etag})
        for month, a in sorted(chosen.items())
    ]
    if requests:
        return SensorResult(run_requests=requests, cursor=cursor)
    where = f"since {since.isoformat()}" if since else "at all"
    why = f"; ignored {'; '.join(ignored)}" if ignored else ""
    return SensorResult(
        skip_reason=f"no new object naming a month under {arrivals.location} {where} "
        f"({len(listed)} object(s) listed){why}",
        cursor=cursor,
    )
