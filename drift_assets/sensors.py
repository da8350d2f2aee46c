"""The drift sensor: new drift reports become alerts and retrains, through the drift trigger."""

from __future__ import annotations

import datetime as dt
import json

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from drift_assets.lib.cursor import SensorCursor
from drift_assets.lib.history import DriftRecord, MonthHistory, QualityRecord
from drift_assets.lib.messages import Alert
from drift_assets.lib.outbox import Outbox
from drift_assets.lib.source import month_location
from drift_assets.lib.trigger import Decision, Report, TriggerState, evaluate, quality_failures
from drift_assets.monitored import Monitored
from drift_assets.resources import (
    DataSource,
    DriftSettings,
    FileSource,
    Notifier,
    S3Arrivals,
    Warehouse,
)
from drift_assets.resources.warehouse import DatasetWarehouse

RUN_KEY_TAG = "dagster/run_key"
RETRAIN_TAG = "drift_assets/retrain"


def _report(record: DriftRecord) -> Report:
    return Report(month=record.month, share=record.share, threshold=record.share_threshold,
                  columns=record.causes, drift=record.drift, record=record.id,
                  report=record.report)


def _newest(records: dict) -> int | None:
    return max((r.id for r in records.values()), default=None)


def quality_alert(failures: list[QualityRecord]) -> Alert:
    """One message for every month whose data broke, naming each cause; the checks that the
    failure blocked are listed instead of alerting on their own."""
    months = ", ".join(r.month for r in failures)
    return Alert(
        title=f"Data quality failure in {months}: {failures[0].describe_errors()}",
        facts=[(r.month, r.describe_errors()) for r in failures],
        action=f"suppressed for {months}: the drift alert and the model performance alert "
               "(drift_report and model_performance did not run behind the blocking checks); "
               "fix the source and re-materialize the month",
        kind="quality",
    )


def _retrain_request(decision: Decision) -> dict:
    months = decision.retrain_months
    return {"run_key": f"retrain:{decision.state.after}:{','.join(months)}", "months": months,
            "records": decision.records, "changes": decision.changes}


def run_request(monitored: Monitored, request: dict) -> RunRequest:
    config = {"reason": "drift", "drift_months": request["months"],
              "drift_records": request["records"], "changes": request["changes"]}
    op = monitored.key("trained_model").to_python_identifier()
    return RunRequest(run_key=request["run_key"],
                      run_config={"ops": {op: {"config": config}}},
                      tags={"drift_assets/drift_months": ",".join(request["months"]),
                            # one retrain of a dataset at a time (dagster.yaml's run queue)
                            RETRAIN_TAG: monitored.name})


def build_drift_sensor(monitored: Monitored, training_job, monthly_job):
    """The drift sensor of one dataset: it reads the dataset's records, keeps its state in the
    dataset's namespace and asks for the dataset's retrain (``training_job``; a dataset
    without a model alerts only, and the sensor targets its ``monthly_job``)."""

    @sensor(
        name=f"{monitored.name}__drift_sensor",
        job=training_job or monthly_job,
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description=f"{monitored.name}: alerts, and retrains the model, when new drift reports "
        "cross the drift threshold; alerts on months whose quality checks failed.",
    )
    def drift_sensor(context: SensorEvaluationContext, settings: DriftSettings,
                     notifier: Notifier, warehouse: Warehouse):
        return evaluate_drift(context, monitored, monitored.settings(settings),
                              monitored.notifier(notifier), monitored.store(warehouse),
                              retrains=training_job is not None)

    return drift_sensor


def evaluate_drift(context: SensorEvaluationContext, monitored: Monitored,
                   settings: DriftSettings, notifier: Notifier, warehouse: DatasetWarehouse,
                   retrains: bool = True):
    """Each month's drift and quality record (``lib.history``) is handled once, whichever
    process evaluates this sensor: the state lives in the warehouse (``lib.cursor``), not in a
    cursor of the daemon's own. Months whose data broke make one quality alert naming the
    cause. Months that cross the drift threshold (with hysteresis: not again while they stay
    above) make one retrain request per evaluation, whose run sends one notification for all of
    them. During the retrain cooldown the drift alert is sent at once and the retrain waits."""
    outbox = Outbox(warehouse.engine)
    outbox.deliver(notifier, context.log)  # alerts a failing channel kept waiting
    cursor = SensorCursor(warehouse.engine, "drift_sensor")
    saved, version = cursor.load()
    state = TriggerState.loads(saved)
    history = MonthHistory(warehouse.engine)
    quality = history.quality_records(after=state.quality_after)
    state, broken = quality_failures(
        state, [(m, r.passed, r.describe_errors()) for m, r in quality.items()],
        _newest(quality))
    drift = history.drift_records(after=state.after)
    k, n = (int(part) for part in settings.persistence.split("/"))
    decision = evaluate(
        state, [_report(r) for r in drift.values()], _newest(drift), settings.drift_share,
        dt.timedelta(hours=settings.retrain_cooldown_hours), dt.datetime.now(dt.UTC),
        persistence=(k, n), new_causes=settings.thresholds == "calibrated",
    )
    state = decision.state
    state.requests, failed = _follow_requests(context.instance, state.requests)
    if decision.retrain_months and retrains:
        state.requests.append(_retrain_request(decision))
    alerts = [(f"retrain-failed:{request['run_key']}", failure) for request, failure in failed]
    if broken:
        records = [quality[month] for month, _ in broken]
        alerts.append((f"quality:{','.join(str(r.id) for r in records)}",
                       quality_alert(records)))
    if decision.fired and not (decision.retrain_months and retrains):
        alerts.append((f"drift:{','.join(str(i) for i in decision.records)}", Alert(
            title=f"Data drift in {', '.join(r.month for r in decision.fired)}",
            drift=[drift[r.month].fact() for r in decision.fired],
            facts=[("changes", decision.changes)],
            action=decision.skip if retrains else
            f"{monitored.name} declares no model (monitored only): read the report",
            link=decision.fired[-1].report)))
    # The state and the alerts it raised are saved together: a crash after this line loses
    # neither, and an evaluation that lost the race to another saves neither.
    if not cursor.save(state.dumps(), version, alerts):
        return SkipReason("another evaluation of drift_sensor handled these records at the "
                          "same time; the next one starts from its state")
    outbox.deliver(notifier, context.log)
    if not state.requests:
        return SkipReason(decision.skip)
    return SensorResult(run_requests=[run_request(monitored, r) for r in state.requests])


FINISHED = (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)


def _follow_requests(instance, requests: list[dict]) -> tuple[list[dict], list[tuple]]:
    """The retrains still to ask for (no run yet, or one still going), and the failed ones
    with their alert. A retrain whose run succeeded leaves the state; one whose every run
    ended without success leaves it too, as an alert: a failed retrain never blocks later
    months and is never reported as done."""
    still, failed = [], []
    for request in requests:
        runs = [r.dagster_run for r in instance.get_run_records(
            RunsFilter(tags={RUN_KEY_TAG: request["run_key"]}))]
        if any(run.status == DagsterRunStatus.SUCCESS for run in runs):
            continue
        if runs and all(run.status in FINISHED for run in runs):
            failed.append((request, _failure_alert(instance, request, runs[0])))
            continue
        still.append(request)
    return still, failed


def _failure_alert(instance, request: dict, run) -> Alert:
    from dagster import DagsterEventType

    failures = instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_FAILURE)
    error = failures[0].dagster_event.step_failure_data.error if failures else None
    while error is not None and error.cause is not None:  # the root cause, not Dagster's wrap
        error = error.cause
    why = error.message.strip().splitlines()[0] if error is not None else \
        f"the run ended {run.status.value}"
    return Alert(title=f"Retrain for drift in {', '.join(request['months'])} failed",
                 facts=[("run", run.run_id), ("error", why)],
                 action="the production model is unchanged; fix the cause and run training_job "
                        "(or the next drift retrains)", kind="model")


# --- S3 arrivals: an uploaded month is checked at once, instead of waiting for Monday. ---

# Objects modified this long before the newest one seen are still looked at: an upload that
# started earlier but finished later than another one is not missed.
ARRIVAL_LOOKBACK = dt.timedelta(minutes=15)


def _expected_object(source: DataSource, month: str) -> str | None:
    """The file the monthly run reads for ``month``, when the source names one file a month."""
    if isinstance(source, FileSource) and "{month}" in source.location:
        return month_location(source.location, month)
    return None


def build_arrival_sensor(monitored: Monitored, monthly_job):
    """The S3 arrival sensor of one dataset (listed only where a bucket is configured)."""

    @sensor(
        name=f"{monitored.name}__s3_arrival_sensor",
        job=monthly_job,
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description=f"{monitored.name}: checks a month as soon as its file is uploaded under "
        "the watched S3 prefix (DRIFT_S3_BUCKET, DRIFT_S3_INCOMING_PREFIX): loads it, checks "
        "its quality and its drift.",
    )
    def s3_arrival_sensor(context: SensorEvaluationContext, arrivals: S3Arrivals,
                          source: DataSource):
        return evaluate_arrivals(context, monitored, arrivals, monitored.source(source))

    return s3_arrival_sensor


def evaluate_arrivals(context: SensorEvaluationContext, monitored: Monitored,
                      arrivals: S3Arrivals, source: DataSource):
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
        elif not monitored.partitions.has_partition_key(f"{month}-01"):
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
