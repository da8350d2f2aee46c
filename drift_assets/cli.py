"""The ``drift-assets`` command: run the graph for a range of months, or compare two files."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import pandas as pd

from drift_assets.lib.generator import FIRST_DAY, LAST_DAY, months_between
from drift_assets.lib.schema import DEFAULT_DRIFT_FEATURES, month_label
from drift_assets.lib.source import SourceError, pieces, read_table

SENSOR_CURSOR_KEY = "drift_assets/cli/drift_sensor_cursor"
# Runs log at WARNING on the terminal; every event is still in the instance for the UI.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _dagster_home() -> Path:
    """``DAGSTER_HOME``, or the project's local one, which ``make dev`` shows in the UI."""
    if not os.environ.get("DAGSTER_HOME"):
        from drift_assets.resources import data_dir

        os.environ["DAGSTER_HOME"] = str(data_dir() / "dagster_home")
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():  # the embedded default: SQLite storage in this folder
        config.write_text("telemetry:\n  enabled: false\n")
    return home


def _metadata(result, node: str) -> dict:
    events = result.asset_materializations_for_node(node)
    return {k: v.value for k, v in events[-1].metadata.items()} if events else {}


def _finding(evaluation) -> str:
    """'value_ranges: temp, atemp' for a failed check; ERROR checks are marked with '!'."""
    columns = evaluation.metadata.get("columns")
    mark = "!" if evaluation.severity.value == "ERROR" else ""
    return f"{mark}{evaluation.check_name}: {columns.value if columns else ''}"


def run_sensor_once(defs, instance) -> tuple[str | None, dict[str, int]]:
    """Evaluate the drift sensor as the daemon would, and run what it requests.

    Like the daemon, the tick (new cursor and its run requests) is saved before any run starts,
    and a request leaves the saved tick only once its run has succeeded; a process stopped in
    between finishes the saved requests on its next start, and a run key that already has a
    successful run is not run again. So no retrain is lost and none happens twice.
    Returns the sensor's skip message and the model version trained per drifted month.
    """
    from dagster import DagsterRunStatus, RunsFilter, build_sensor_context

    from drift_assets.sensors import drift_sensor

    def load() -> dict:
        raw = instance.run_storage.get_cursor_values({SENSOR_CURSOR_KEY}).get(SENSOR_CURSOR_KEY)
        return json.loads(raw) if raw else {"cursor": None, "requests": []}

    def save(state: dict) -> None:
        instance.run_storage.set_cursor_values({SENSOR_CURSOR_KEY: json.dumps(state)})

    state = load()
    skip = None
    if not state["requests"]:
        tick = drift_sensor.evaluate_tick(build_sensor_context(
            instance=instance, cursor=state["cursor"], resources=defs.resources))
        skip = tick.skip_message
        state = {"cursor": tick.cursor or state["cursor"], "requests": [
            {"run_key": r.run_key, "run_config": r.run_config, "tags": dict(r.tags)}
            for r in tick.run_requests or []]}
        save(state)
    training = defs.resolve_job_def("training_job")
    versions: dict[str, int] = {}
    while state["requests"]:
        request = state["requests"][0]
        tags = {**request["tags"], "dagster/run_key": request["run_key"],
                "dagster/sensor_name": drift_sensor.name}
        done = instance.get_runs(RunsFilter(tags={"dagster/run_key": request["run_key"]},
                                            statuses=[DagsterRunStatus.SUCCESS]), limit=1)
        if not done:
            result = training.execute_in_process(
                run_config={**request["run_config"], **QUIET}, tags=tags, instance=instance
            )
            version = _metadata(result, "trained_model").get("version")
            for month in request["tags"].get("drift_assets/drift_months", "").split(","):
                versions[month] = version
        state["requests"] = state["requests"][1:]
        save(state)
    return skip, versions


def run_backfill(first: str, last: str, out=sys.stdout) -> list[dict]:
    """Materialize the reference and every month from ``first`` to ``last``, then evaluate the
    drift sensor once, as the daemon would, and run the retrain it asks for."""
    home = _dagster_home()
    from dagster import DagsterInstance

    from drift_assets.definitions import defs

    instance = DagsterInstance.get()
    defs.resolve_job_def("reference_job").execute_in_process(instance=instance, run_config=QUIET)
    monthly = defs.resolve_job_def("monthly_drift_job")
    rows = []
    for first_day in months_between(first, last):
        month = month_label(first_day)
        result = monthly.execute_in_process(
            partition_key=first_day.isoformat(), instance=instance, raise_on_error=False,
            run_config=QUIET,
        )
        ingest, drift = _metadata(result, "current_data"), _metadata(result, "drift_report")
        checks = [e for e in result.get_asset_check_evaluations() if not e.passed]
        failure = next((e for e in result.all_events if e.is_step_failure), None)
        rows.append({
            "month": month,
            "rows": ingest.get("dagster/row_count"),
            "quality": "; ".join(_finding(e) for e in checks) or "ok",
            "drift_share": drift.get("drift_share"),
            "drift": drift.get("drift_detected"),
            "action": "failed: " + failure.step_failure_data.error.message.strip().split("\n")[0]
            if failure else "",
        })
    skip, versions = run_sensor_once(defs, instance)
    for row in rows:
        if row["month"] in versions:
            row["action"] = f"retrained v{versions[row['month']]}"
    _print_summary(rows, skip, home, out)
    return rows


def _print_summary(rows: list[dict], skip: str | None, home: Path, out) -> None:
    table = pd.DataFrame(rows).fillna("")
    table["drift_share"] = table["drift_share"].map(lambda v: f"{v:.2f}" if v != "" else "-")
    table["drift"] = table["drift"].map({True: "DRIFT", False: "no"}).fillna("-")
    print(table.to_string(index=False), file=out)
    if skip:
        print(f"\nsensor: {skip}", file=out)
    from drift_assets.resources import build_resources

    resources = build_resources()
    store = resources["model_store"]
    print(f"\nreports:  {resources['settings'].reports_dir}", file=out)
    print(f"models:   {store.uri(store.prefix)}", file=out)
    if hasattr(resources["notifier"], "outbox"):
        print(f"alerts:   {resources['notifier'].outbox}", file=out)
    print(f"instance: DAGSTER_HOME={home} (run `make dev` to see it in the UI)", file=out)


def run_detect(args) -> int:
    """The stand-alone drift check: exit 0 no drift, 1 drift, 2 error (as ``diff`` does)."""
    import time

    from drift_assets.engine import build_profile, detect_drift, save_evidently_html

    show = args.progress if args.progress is not None else sys.stderr.isatty()
    started = time.perf_counter()

    def progress(step: str) -> None:
        # On a terminal, big files take seconds per step: say which one is running.
        if show:
            print(f"[{time.perf_counter() - started:6.1f}s] {step}", file=sys.stderr, flush=True)

    scheduler = args.scheduler or os.environ.get("DRIFT_DASK_SCHEDULER")
    if scheduler:
        return _detect_on_cluster(args, scheduler, progress)
    try:
        progress(f"reading {args.reference}")
        reference = read_parquet_or_table(args.reference)
        progress(f"reading {args.current} (reference: {len(reference):,} rows)")
        current = read_parquet_or_table(args.current)
        columns = _detect_columns(args, reference.columns, current.columns)
        progress(f"profiling the reference ({len(columns)} columns; current: {len(current):,} "
                 "rows)")
        profile = build_profile(reference, columns)
        progress("testing the columns")
        result = detect_drift(profile, current, columns, drift_share=args.drift_share)
        if args.html:
            progress(f"writing Evidently's report to {args.html}")
            save_evidently_html(reference, current, columns, args.html)
        progress("done")
    except (SourceError, ValueError, KeyError) as exc:
        print(f"drift-assets detect: {exc}", file=sys.stderr)
        return 2
    return _print_result(args, result)


def _detect_columns(args, reference_columns, current_columns) -> list[str]:
    columns = args.columns or [c for c in DEFAULT_DRIFT_FEATURES if c in reference_columns]
    if not columns:
        columns = [c for c in reference_columns if c in current_columns]
    for name, present, path in (("reference", reference_columns, args.reference),
                                ("current", current_columns, args.current)):
        absent = [c for c in columns if c not in present]
        if absent:
            raise SourceError(path, f"{name} lacks column(s) {', '.join(absent)}")
    return columns


def read_parquet_or_table(location: str) -> pd.DataFrame:
    """A CSV or Parquet file, or every Parquet file of a folder or a glob."""
    files = pieces(location)
    if files == [location]:
        return read_table(location, as_text=False)
    try:
        return pd.read_parquet(files)
    except (OSError, ValueError) as exc:
        raise SourceError(location, f"not a readable set of Parquet files ({exc})") from exc


def _detect_on_cluster(args, scheduler: str, progress) -> int:
    """The same check on a Dask cluster: the workers read the Parquet pieces."""
    from distributed import Client

    from drift_assets.engine.distributed import detect_drift_distributed, read_parquet

    if args.html:
        print("drift-assets detect: --html needs the data in one process; drop the scheduler",
              file=sys.stderr)
        return 2
    try:
        progress(f"connecting to {scheduler}")
        for location in (args.reference, args.current):
            # Dask would read a glob that matches nothing as an empty frame
            if pieces(location) == [location] and not Path(location).exists():
                raise SourceError(location, "no such file or folder")
        with Client(scheduler, timeout="30s") as client:
            reference, current = read_parquet(args.reference), read_parquet(args.current)
            columns = _detect_columns(args, list(reference.columns), list(current.columns))
            progress(f"testing {len(columns)} columns on {len(client.nthreads())} workers")
            result = detect_drift_distributed(reference, current, columns,
                                              drift_share=args.drift_share, client=client)
        progress("done")
    except (SourceError, ValueError, KeyError, OSError) as exc:
        print(f"drift-assets detect: {exc}", file=sys.stderr)
        return 2
    return _print_result(args, result)


def _print_result(args, result) -> int:
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        table = pd.DataFrame([
            {"column": c.column, "type": c.column_type, "method": c.method,
             "score": f"{c.score:.6g}", "threshold": c.threshold,
             "drifted": "DRIFT" if c.drifted else "no"}
            for c in result.columns
        ])
        print(table.to_string(index=False))
        verdict = "DRIFT" if result.dataset_drift else "no drift"
        print(f"\n{verdict}: {result.drifted_count} of {len(result.columns)} columns drifted "
              f"(share {result.share:.2f}, threshold {result.drift_share_threshold:.2f})")
    return 1 if result.dataset_drift else 0


def history_rows(instance, registry) -> list[dict]:
    """One row per month from the instance and the registry: what was compared, found and sent."""
    from dagster import AssetKey, DagsterRunStatus, RunsFilter

    from drift_assets.history import materializations

    def latest(key: str) -> dict[str, dict]:
        out = {}
        for record in materializations(instance, AssetKey(key)):
            event = record.asset_materialization
            out[event.partition[:7]] = {k: v.value for k, v in event.metadata.items()}
        return out

    drift, quality = latest("drift_report"), latest("data_quality_report")
    performance = registry.performance().set_index("month").to_dict("index")
    alerted = {}
    for run in instance.get_runs(RunsFilter(job_name="training_job",
                                            statuses=[DagsterRunStatus.SUCCESS])):
        for month in run.tags.get("drift_assets/drift_months", "").split(","):
            if month:
                alerted.setdefault(month, f"drift alert, retrain run {run.run_id[:8]}")
    rows = []
    for month in sorted(set(drift) | set(quality)):
        report, checks, error = drift.get(month, {}), quality.get(month, {}), performance.get(
            month, {})
        table = report.get("columns")
        columns = [f"{r.data['column']} {r.data['score']:.3g}/{r.data['threshold']:.3g}"
                   for r in table.records if r.data["drifted"]] if table else []
        if report.get("relations/drift"):
            columns.append(f"relation {report.get('relations/columns')} "
                           f"{report['relations/error']:.3g}/{report['relations/threshold']:.3g}")
        broken = checks and not checks.get("passed", True)
        if broken:
            alerts = "quality alert; drift and model alerts suppressed"
        elif month in alerted:
            alerts = alerted[month]
        elif report.get("drift_detected"):
            alerts = "none (drift continues, already alerted)"
        else:
            alerts = "none"
        rows.append({
            "month": month,
            "reference": report.get("reference_window", "-"),
            "drift_share": report.get("drift_share"),
            "drifted": ", ".join(columns),
            "verdict": ("DRIFT" if report.get("drift_detected") else "no") if report else "-",
            "quality": (checks.get("errors") or "failed") if broken else ("ok" if checks else "-"),
            "estimated_rmsle": error.get("estimated_rmsle"),
            "realized_rmsle": error.get("rmsle"),
            "alerts": alerts,
        })
    return rows


def run_history(as_json: bool) -> int:
    """``history``: one row per month on the configured instance."""
    _dagster_home()
    from dagster import DagsterInstance
    from dagster import build_resources as open_resources

    from drift_assets.lib.registry import ModelRegistry
    from drift_assets.resources import build_resources

    with DagsterInstance.get() as instance, open_resources(build_resources()) as resources:
        rows = history_rows(instance, ModelRegistry(resources.warehouse.engine))
    if as_json:
        print(json.dumps(rows, indent=2, default=lambda v: None if v != v else v))
    elif rows:
        table = pd.DataFrame(rows)
        for column in ("drift_share", "estimated_rmsle", "realized_rmsle"):
            table[column] = table[column].map(lambda v: "-" if v is None or v != v else f"{v:.3f}")
        print(table.to_string(index=False))
    else:
        print("no month has been checked yet: run `drift-assets backfill`")
    return 0


def run_models(args) -> int:
    """``models list`` and ``models rollback [VERSION]`` on the configured registry and store."""
    from dagster import build_resources as open_resources

    from drift_assets.assets.model import load_model
    from drift_assets.lib.alerts import Alert
    from drift_assets.lib.registry import ModelRegistry
    from drift_assets.resources import build_resources

    with open_resources(build_resources()) as resources:
        registry = ModelRegistry(resources.warehouse.engine)
        if args.action == "list":
            table = registry.table()
            print(table.to_string(index=False) if len(table) else "no model registered yet")
            return 0
        current = registry.production()
        target = registry.get(args.version) if args.version else registry.previous_production()
        if target is None:
            print("drift-assets models rollback: no earlier production version", file=sys.stderr)
            return 2
        try:
            load_model(target, resources.model_store)  # refuses a file whose checksum differs
        except (ValueError, OSError) as exc:
            print(f"drift-assets models rollback: v{target.version} refused: {exc}",
                  file=sys.stderr)
            return 2
        detail = f"by hand from v{current.version if current else '-'}"
        if current is not None:
            registry.record_event(current.version, "rolled_back", detail)
        registry.promote(target.version, event="rolled_back_to", detail=detail)
        resources.notifier.notify_safely(Alert(
            title=f"Model rolled back to v{target.version} by hand", kind="rollback",
            action=f"v{target.version} is production; "
                   f"v{current.version if current else '-'} retired"))
        print(f"v{target.version} is production (checksum {target.sha256[:12]} verified)")
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="drift-assets", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    backfill = commands.add_parser(
        "backfill", help="materialize the graph for a range of months, then run the sensor once"
    )
    backfill.add_argument("--from", dest="first", default=month_label(FIRST_DAY))
    backfill.add_argument("--to", dest="last", default=month_label(LAST_DAY))
    detect = commands.add_parser(
        "detect", help="compare two CSV/Parquet files, Parquet folders or globs for drift")
    detect.add_argument("reference")
    detect.add_argument("current")
    detect.add_argument("--columns", nargs="+", help="columns to check (default: the features)")
    detect.add_argument("--drift-share", type=float, default=0.5)
    detect.add_argument("--json", action="store_true", help="print the result as JSON")
    detect.add_argument("--html", help="write Evidently's HTML report here")
    detect.add_argument("--scheduler", help="a Dask scheduler (tcp://host:port) to run on; "
                        "default DRIFT_DASK_SCHEDULER, else this process")
    detect.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show progress on stderr (default: when stderr is a terminal)")
    history = commands.add_parser("history", help="one row per month: drift, quality, error")
    history.add_argument("--json", action="store_true", help="print the rows as JSON")
    models = commands.add_parser("models", help="the model registry")
    actions = models.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every version with its status and scores")
    rollback = actions.add_parser("rollback", help="make an earlier version production again")
    rollback.add_argument("version", nargs="?", type=int,
                          help="the version (default: the previous production one)")
    args = parser.parse_args(argv)
    if args.command == "models":
        return run_models(args)
    if args.command == "history":
        return run_history(args.json)
    if args.command == "backfill":
        run_backfill(args.first, args.last)
        return 0
    return run_detect(args)


if __name__ == "__main__":
    sys.exit(main())
