"""``drift-assets backfill``: the asset graph for a range of months, then the drift sensor once,
as the daemon would run them, on the instance ``make dev`` shows."""

from __future__ import annotations

import datetime as dt
import os
import socket
import sys
import time

import pandas as pd

from drift_assets.cli.instance import open_instance
from drift_assets.lib.months import month_label, month_start, months_between, partition_key

# Runs log at WARNING on the terminal; every event is still in the instance for the UI.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _finding(evaluation) -> str:
    """'value_ranges: temp, atemp' for a failed check; ERROR checks are marked with '!'."""
    columns = evaluation.metadata.get("columns")
    mark = "!" if evaluation.severity.value == "ERROR" else ""
    return f"{mark}{evaluation.check_name}: {columns.value if columns else ''}"


def run_sensor_once(defs, instance, monitored) -> tuple[str | None, dict[str, int]]:
    """Evaluate the drift sensor as the daemon would, and run the retrains it asks for.

    The sensor keeps its state in the warehouse, shared with the daemon: a record handled here
    is not handled again by the daemon, and the other way round. A retrain it asks for stays in
    that state until a run with its run key exists, so a process stopped before starting it
    runs it on its next start, and a run key already used is not run again.
    Returns the sensor's skip message and the model version trained per drifted month.
    """
    from dagster import build_sensor_context

    from drift_assets.sensors import RUN_KEY_TAG

    drift_sensor = defs.resolve_sensor_def(f"{monitored.name}__drift_sensor")
    tick = drift_sensor.evaluate_tick(build_sensor_context(instance=instance,
                                                           resources=defs.resources))
    if monitored.dataset.model is None:
        return tick.skip_message, {}
    training = defs.resolve_job_def(monitored.job_name("training_job"))
    trained = monitored.key("trained_model").to_python_identifier()
    versions: dict[str, int] = {}
    for request in tick.run_requests or []:
        if _started(instance, request.run_key):
            continue  # started elsewhere (the daemon, another backfill), or done
        tags = {**request.tags, RUN_KEY_TAG: request.run_key,
                "dagster/sensor_name": drift_sensor.name, HOST_TAG: socket.gethostname(),
                PID_TAG: str(os.getpid())}
        result = training.execute_in_process(run_config={**request.run_config, **QUIET},
                                             tags=tags, instance=instance)
        events = result.asset_materializations_for_node(trained)
        version = events[-1].metadata["version"].value if events else None
        for month in request.tags.get("drift_assets/drift_months", "").split(","):
            versions[month] = version
    return tick.skip_message, versions


# Which process runs a retrain in process, so that a later backfill can tell a run still going
# from one whose process was killed.
HOST_TAG, PID_TAG = "drift_assets/host", "drift_assets/pid"


def _started(instance, run_key: str) -> bool:
    """Whether a run with ``run_key`` has ended, or is going on in a live process. A run left
    started by a process of this machine that is gone is marked failed, and does not count."""
    from dagster import RunsFilter

    from drift_assets.sensors import FINISHED, RUN_KEY_TAG

    started = False
    for record in instance.get_run_records(RunsFilter(tags={RUN_KEY_TAG: run_key})):
        run = record.dagster_run
        if run.status not in FINISHED and run.tags.get(HOST_TAG) == socket.gethostname() \
                and not _alive(int(run.tags.get(PID_TAG, "0"))):
            instance.report_run_failed(run, "the process that ran it is gone")
            continue
        started = True
    return started


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class MonthRangeError(ValueError):
    """A --from/--to that cannot be run, named with the flag and the reason."""


class MonthArgumentError(MonthRangeError):
    """A --from/--to that is no month, or a range that runs backwards: wrong for every
    dataset."""


def months_to_run(first: str | None, last: str | None, monitored) -> list[dt.date]:
    """The first days of the months from ``first`` to ``last`` (default: the dataset's first
    and last partitions), both included.

    Raises MonthRangeError for a value that is not a month, --from after --to, a month before
    the dataset's first partition or after its last one (the month in progress, or the last
    month of a generated source or of a file's declared ``end``). A file source's own last
    month is not known before it is read: a month it lacks fails as a month, and exit status 1
    says so.
    """
    partitions = monitored.partitions
    earliest = month_start(partitions.get_first_partition_key())
    latest = month_start(partitions.get_last_partition_key())
    first = first or month_label(earliest)
    last = last or month_label(latest)

    def parse(flag: str, value: str) -> dt.date:
        try:
            return month_start(value)
        except ValueError:
            raise MonthArgumentError(f"{flag} {value!r} is not a month: use YYYY-MM") from None

    begin, end = parse("--from", first), parse("--to", last)
    if begin > end:
        raise MonthArgumentError(f"--from {month_label(begin)} is after --to "
                                 f"{month_label(end)}")
    what = "the last partition (the month in progress)" if partitions.end is None else (
        "the last month of the generated source" if monitored.example is not None
        else "the declared end")
    if begin < earliest:
        raise MonthRangeError(f"--from {month_label(begin)} is before the first partition of "
                              f"{monitored.name}, {month_label(earliest)}")
    if end > latest:
        raise MonthRangeError(f"--to {month_label(end)} is after {what} of {monitored.name}, "
                              f"{month_label(latest)}")
    return months_between(begin, end)


def _progress(line: str) -> None:
    # stderr, always: stdout keeps the summary alone, and a log shows the months as they end
    print(f"backfill: {line}", file=sys.stderr, flush=True)


def _failure(result) -> str | None:
    """What stopped a run: the first line of its first step failure, or None when no step
    failed. A month stopped by a blocking quality check failed too (its quality says which)."""
    failure = next((e for e in result.all_events if e.is_step_failure), None)
    if failure is None:
        return None
    error = failure.step_failure_data.error
    if error is None:
        return f"step {failure.step_key} failed"
    if error.cls_name == "DagsterAssetCheckFailedError":
        return "stopped by a blocking quality check"
    while error.cause is not None and error.cls_name.startswith("Dagster"):
        error = error.cause  # the root cause, not Dagster's wrapping of it
    return error.message.strip().split("\n")[0]


def run_backfill(first: str | None, last: str | None, out=None, dataset: str | None = None,
                 train_first: bool = False) -> int:
    """Materialize the reference and every month from ``first`` to ``last`` of each dataset
    (or of ``dataset``), one after the other, then evaluate the dataset's drift sensor once, as
    the daemon would, and run the retrain it asks for.

    One progress line per month on stderr as it finishes; the summary on ``out`` (stdout).
    Returns the exit status: 0 every month ran, 1 a month (or a reference) failed, 2 a bad
    argument (one line on stderr). Without ``dataset``, a month range given applies to each
    dataset where its months are partitions; a dataset with none of them is passed over.
    ``train_first``: a dataset with a model and no version yet gets one trained on its
    reference before the months, as a team starts with one, so every month is scored."""
    from drift_assets.cli.datasets import UnknownDataset, chosen

    out = out or sys.stdout
    try:
        defs, monitored = chosen(dataset)
    except UnknownDataset as exc:
        print(f"drift-assets backfill: {exc}", file=sys.stderr)
        return 2
    plans, problems = [], []
    try:
        for m in monitored:
            try:
                plans.append((m, months_to_run(first, last, m)))
            except MonthArgumentError:
                raise
            except MonthRangeError as exc:
                problems.append(str(exc))
        if problems and (dataset is not None or not plans):
            raise MonthRangeError(problems[0])
    except MonthRangeError as exc:
        print(f"drift-assets backfill: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        _progress(f"passed over: {problem}")
    warehouse = defs.resources["warehouse"]
    status = 0
    try:
        for m, days in plans:
            if len(plans) > 1:
                print(f"{m.name}", file=out)
            status = max(status, _backfill(defs, m, days, out, train_first))
            if len(plans) > 1:
                print(file=out)
    finally:
        warehouse.dispose()
    _print_places(defs, out)
    return status


def _train_first(defs, instance, monitored) -> int | None:
    """Train the dataset's first model on its reference, when it declares one and has none;
    returns the version trained (None: nothing to do). One request key: a backfill stopped
    half-way and run again finds the version instead of training a second."""
    from drift_assets.lib.registry import ModelRegistry
    from drift_assets.sensors import RUN_KEY_TAG

    if monitored.dataset.model is None:
        return None
    store = monitored.store(defs.resources["warehouse"])
    if ModelRegistry(store.engine).all():
        return None
    op = monitored.key("trained_model").to_python_identifier()
    result = defs.resolve_job_def(monitored.job_name("training_job")).execute_in_process(
        instance=instance, tags={RUN_KEY_TAG: f"first-model:{monitored.name}"},
        run_config={"ops": {op: {"config": {"reason": "first model, on the reference"}}},
                    **QUIET})
    events = result.asset_materializations_for_node(op)
    return events[-1].metadata["version"].value if events else None


class EvidentlyDefaults:
    """What the plain way would have said of each month (Evidently's tests and thresholds,
    every month against the fixed reference table), shown beside the pipeline's verdict when
    the dataset runs another mode."""

    def __init__(self, store, features: list[str], drift_share: float):
        from drift_assets.engine import build_profile

        self.store, self.drift_share = store, drift_share
        self.profile = build_profile(store.read_reference(), features)

    def drift(self, month: str) -> bool | None:
        from drift_assets.engine import detect_drift

        frame = self.store.read_month(month)
        if frame.empty:
            return None
        return detect_drift(self.profile, frame, drift_share=self.drift_share).dataset_drift


def _plain_way(defs, monitored) -> EvidentlyDefaults | None:
    settings = monitored.settings(defs.resources["settings"])
    if settings.thresholds == "evidently" and settings.reference_choice.kind == "fixed":
        return None  # the pipeline's verdict is that already
    store = monitored.store(defs.resources["warehouse"])
    return EvidentlyDefaults(store, monitored.features(settings, store.schema),
                             settings.drift_share)


def _backfill(defs, monitored, days: list[dt.date], out, train_first: bool = False) -> int:
    from drift_assets.lib.history import MonthHistory

    history = MonthHistory(monitored.store(defs.resources["warehouse"]).engine)
    instance = open_instance()
    started = time.perf_counter()
    name = monitored.name
    reference = defs.resolve_job_def(monitored.job_name("reference_job")).execute_in_process(
        instance=instance, run_config=QUIET, raise_on_error=False)
    problem = _failure(reference) or (None if reference.success else "the run failed")
    if problem:
        print(f"drift-assets backfill: {name}: the reference failed, no month was run: "
              f"{problem}", file=sys.stderr)
        return 1
    _progress(f"{name}: reference done ({time.perf_counter() - started:.1f}s)")
    first_model = _train_first(defs, instance, monitored) if train_first else None
    if first_model is not None:
        _progress(f"{name}: first model v{first_model}, trained on the reference")
    plain = _plain_way(defs, monitored)
    monthly = defs.resolve_job_def(monitored.job_name("monthly_drift_job"))
    loaded = monitored.key("current_data").to_python_identifier()
    rows, failed = [], []
    for index, first_day in enumerate(days, start=1):
        month = month_label(first_day)
        started = time.perf_counter()
        result = monthly.execute_in_process(
            partition_key=partition_key(first_day), instance=instance, raise_on_error=False,
            run_config=QUIET,
        )
        drift = history.drift_records().get(month)
        if drift is not None and drift.run_id != result.run_id:
            drift = None  # an earlier run's verdict, not this one's
        ingest = result.asset_materializations_for_node(loaded)
        checks = [e for e in result.get_asset_check_evaluations() if not e.passed
                  and e.asset_key == monitored.key("data_quality_report")]
        failure = _failure(result) or (None if result.success else "the run failed")
        row = {
            "month": month,
            "rows": ingest[-1].metadata["dagster/row_count"].value if ingest else None,
            "quality": "; ".join(_finding(e) for e in checks) or "ok",
            "drift_share": drift.share if drift else None,
            "drift": drift.drift if drift else None,
            "action": f"failed: {failure}" if failure else "",
        }
        if plain is not None:
            # beside the verdict, before the action: what the plain way would have alerted
            row = {**{k: v for k, v in row.items() if k != "action"},
                   "evidently_defaults": plain.drift(month) if not failure else None,
                   "action": row["action"]}
        rows.append(row)
        if failure:
            failed.append(month)
            outcome = f"FAILED: {failure}"
        else:
            outcome = "no verdict" if drift is None else \
                f"{'DRIFT' if drift.drift else 'no drift'} (share {drift.share:.2f})"
        outcome += f"; quality {row['quality']}"
        _progress(f"{name} {month} ({index}/{len(days)}, {time.perf_counter() - started:.1f}s)"
                  f": {outcome}")
    skip, versions = run_sensor_once(defs, instance, monitored)
    for row in rows:
        if row["month"] in versions:
            row["action"] = f"crossing: in retrain v{versions[row['month']]}"
    _print_summary(rows, skip, out)
    if plain is not None:
        said = sum(bool(r.get("evidently_defaults")) for r in rows)
        print(f"evidently_defaults: Evidently's tests and thresholds against the fixed "
              f"reference, the plain way: drift in {said} of {len(rows)} months, where this "
              f"mode found it in {sum(bool(r['drift']) for r in rows)}", file=out)
    for version in sorted({v for v in versions.values() if v is not None}):
        months = sorted(m for m, v in versions.items() if v == version)
        print(f"retrain:  v{version}, one run and one alert for the crossing"
              f"{'s' if len(months) > 1 else ''} in {', '.join(months)}", file=out)
    if failed:
        print(f"drift-assets backfill: {name}: {len(failed)} of {len(rows)} month(s) failed: "
              f"{', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _print_summary(rows: list[dict], skip: str | None, out) -> None:
    table = pd.DataFrame(rows)
    table["rows"] = table["rows"].map(lambda v: "-" if v is None or v != v else f"{int(v)}")
    table["drift_share"] = table["drift_share"].map(
        lambda v: "-" if v is None or v != v else f"{v:.2f}")
    for column in ("drift", "evidently_defaults"):
        if column in table:
            table[column] = table[column].map({True: "DRIFT", False: "no"}).fillna("-")
    print(table.to_string(index=False), file=out)
    if skip:
        print(f"\nsensor: {skip}", file=out)


def _print_places(defs, out) -> None:
    """Where to look next: reports, models, alerts and the instance the UI shows."""
    from drift_assets.cli.instance import dagster_home

    store, notifier = defs.resources["model_store"], defs.resources["notifier"]
    settings = defs.resources["settings"]
    print(f"reports:  {settings.reports_dir}/<dataset>/index.html (served at "
          f"{settings.reports_url}/<dataset>/ by `make dev` or `drift-assets reports`)",
          file=out)
    print(f"models:   {store.uri(store.prefix)}", file=out)
    if hasattr(notifier, "outbox"):
        print(f"alerts:   {notifier.outbox}", file=out)
    print(f"instance: DAGSTER_HOME={dagster_home()} (run `make dev` to see it in the UI)",
          file=out)
