"""``drift-assets backfill``: the asset graph for a range of months, then the drift sensor once,
as the daemon would run them, on the instance ``make dev`` shows."""

from __future__ import annotations

import sys

import pandas as pd

from drift_assets.cli.instance import open_instance
from drift_assets.lib.months import month_label, months_between, partition_key

# Runs log at WARNING on the terminal; every event is still in the instance for the UI.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _finding(evaluation) -> str:
    """'value_ranges: temp, atemp' for a failed check; ERROR checks are marked with '!'."""
    columns = evaluation.metadata.get("columns")
    mark = "!" if evaluation.severity.value == "ERROR" else ""
    return f"{mark}{evaluation.check_name}: {columns.value if columns else ''}"


def run_sensor_once(defs, instance) -> tuple[str | None, dict[str, int]]:
    """Evaluate the drift sensor as the daemon would, and run the retrains it asks for.

    The sensor keeps its state in the warehouse, shared with the daemon: a record handled here
    is not handled again by the daemon, and the other way round. A retrain it asks for stays in
    that state until a run with its run key exists, so a process stopped before starting it
    runs it on its next start, and a run key already used is not run again.
    Returns the sensor's skip message and the model version trained per drifted month.
    """
    from dagster import RunsFilter, build_sensor_context

    from drift_assets.sensors import RUN_KEY_TAG, drift_sensor

    tick = drift_sensor.evaluate_tick(build_sensor_context(instance=instance,
                                                           resources=defs.resources))
    training = defs.resolve_job_def("training_job")
    versions: dict[str, int] = {}
    for request in tick.run_requests or []:
        if instance.get_run_records(RunsFilter(tags={RUN_KEY_TAG: request.run_key}), limit=1):
            continue  # started elsewhere (the daemon, another backfill)
        tags = {**request.tags, RUN_KEY_TAG: request.run_key,
                "dagster/sensor_name": drift_sensor.name}
        result = training.execute_in_process(run_config={**request.run_config, **QUIET},
                                             tags=tags, instance=instance)
        events = result.asset_materializations_for_node("trained_model")
        version = events[-1].metadata["version"].value if events else None
        for month in request.tags.get("drift_assets/drift_months", "").split(","):
            versions[month] = version
    return tick.skip_message, versions


def run_backfill(first: str, last: str, out=sys.stdout) -> list[dict]:
    """Materialize the reference and every month from ``first`` to ``last``, then evaluate the
    drift sensor once, as the daemon would, and run the retrain it asks for."""
    from drift_assets.definitions import defs
    from drift_assets.lib.history import MonthHistory

    instance = open_instance()
    defs.resolve_job_def("reference_job").execute_in_process(instance=instance, run_config=QUIET)
    monthly = defs.resolve_job_def("monthly_drift_job")
    history = MonthHistory(defs.resources["warehouse"].engine)
    rows = []
    for first_day in months_between(first, last):
        month = month_label(first_day)
        result = monthly.execute_in_process(
            partition_key=partition_key(first_day), instance=instance, raise_on_error=False,
            run_config=QUIET,
        )
        drift = history.drift_records().get(month)
        if drift is not None and drift.run_id != result.run_id:
            drift = None  # an earlier run's verdict, not this one's
        ingest = result.asset_materializations_for_node("current_data")
        checks = [e for e in result.get_asset_check_evaluations() if not e.passed]
        failure = next((e for e in result.all_events if e.is_step_failure), None)
        rows.append({
            "month": month,
            "rows": ingest[-1].metadata["dagster/row_count"].value if ingest else None,
            "quality": "; ".join(_finding(e) for e in checks) or "ok",
            "drift_share": drift.share if drift else None,
            "drift": drift.drift if drift else None,
            "action": "failed: " + failure.step_failure_data.error.message.strip().split("\n")[0]
            if failure else "",
        })
    skip, versions = run_sensor_once(defs, instance)
    for row in rows:
        if row["month"] in versions:
            row["action"] = f"retrained v{versions[row['month']]}"
    _print_summary(rows, skip, instance, defs, out)
    return rows


def _print_summary(rows: list[dict], skip: str | None, instance, defs, out) -> None:
    from drift_assets.cli.instance import dagster_home

    table = pd.DataFrame(rows)
    table["rows"] = table["rows"].map(lambda v: "-" if v is None or v != v else f"{int(v)}")
    table["drift_share"] = table["drift_share"].map(
        lambda v: "-" if v is None or v != v else f"{v:.2f}")
    table["drift"] = table["drift"].map({True: "DRIFT", False: "no"}).fillna("-")
    print(table.to_string(index=False), file=out)
    if skip:
        print(f"\nsensor: {skip}", file=out)
    store, notifier = defs.resources["model_store"], defs.resources["notifier"]
    print(f"\nreports:  {defs.resources['settings'].reports_dir}", file=out)
    print(f"models:   {store.uri(store.prefix)}", file=out)
    if hasattr(notifier, "outbox"):
        print(f"alerts:   {notifier.outbox}", file=out)
    print(f"instance: DAGSTER_HOME={dagster_home()} (run `make dev` to see it in the UI)",
          file=out)
