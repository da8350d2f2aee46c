"""Benchmark: one month through the monthly job against the seed's plain script, on both
warehouses, side by side in one run.

    python benchmarks/pipeline_month.py                       # 32,000 rows a day, 3 repeats
    python benchmarks/pipeline_month.py --rows-per-day 4000 --repeat 1 --warehouse sqlite

Generated bike data (``DRIFT_ROWS_PER_DAY``, the project's ``GeneratedSource``): the reference
(2011-01) is loaded and a model trained once per warehouse (not timed); every repetition then
starts from a copy of that state (the data folder and the Dagster instance copied, a PostgreSQL
database made from it as a template) and times, each in a fresh process:

* **the seed's way**: the month from the source, the reference table read from the warehouse
  with pandas, Evidently's ``DataDriftPreset`` on the five features, the month appended to the
  warehouse with ``to_sql``;
* **the job**: ``bike_sharing__monthly_drift_job`` for 2011-02, run in process through the
  project's definitions on a temporary ``DAGSTER_HOME`` and data folder; each step's time is
  read from the run's step events (start to success).

Warehouses: the embedded default (SQLite) and PostgreSQL on 127.0.0.1:5432 (a temporary database,
dropped at the end; ``--pg-admin-url`` to change). Peak memory is the process's ``VmHWM``. The
figures printed are medians over ``--repeat`` runs; the ratio is the job's month over the seed
way's. Not run by CI.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATASET = "bike_sharing"
REFERENCE_MONTH = "2011-01"
MONTH = "2011-02"
STEPS = ("current_data", "data_quality_report", "reference_profile", "drift_report",
         "model_performance")
SEED_STEPS = ("source", "read_reference", "evidently", "append")
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _job(name: str) -> str:
    return f"{DATASET}__{name}"


def _instance(home: Path):
    from dagster import DagsterInstance

    return DagsterInstance.from_config(str(home))


# --- what each child process does (the environment is already set) ---

def child_setup(home: Path) -> dict:
    """The reference loaded and a model trained: the state every repetition starts from."""
    from drift_assets.definitions import build_defs

    defs = build_defs()
    with _instance(home) as instance:
        for job in ("reference_job", "training_job"):
            result = defs.resolve_job_def(_job(job)).execute_in_process(instance=instance)
            assert result.success, f"{job} failed"
    defs.resources["warehouse"].dispose()
    return {"peak_mb": _peak_mb()}


def child_job(home: Path) -> dict:
    """The monthly job on the month, in process; per-step seconds from the run's events."""
    from dagster import DagsterEventType

    from drift_assets.definitions import build_defs

    defs = build_defs()
    job = defs.resolve_job_def(_job("monthly_drift_job"))
    with _instance(home) as instance:
        start = time.perf_counter()
        result = job.execute_in_process(partition_key=f"{MONTH}-01", instance=instance,
                                        raise_on_error=False)
        month = time.perf_counter() - start
        begun, steps = {}, {}
        for entry in instance.all_logs(result.run_id):
            event = entry.dagster_event
            if event is None or event.step_key is None:
                continue
            step = event.step_key.rsplit("__", 1)[-1]
            if event.event_type == DagsterEventType.STEP_START:
                begun[step] = entry.timestamp
            elif event.event_type == DagsterEventType.STEP_SUCCESS:
                steps[step] = entry.timestamp - begun[step]
    defs.resources["warehouse"].dispose()
    return {"success": result.success, "steps": steps, "month": month, "peak_mb": _peak_mb()}


def child_seed(_home: Path) -> dict:
    """The seed's plain script on the same warehouse and rows."""
    import warnings

    import pandas as pd
    import sqlalchemy as sa
    from evidently import Report
    from evidently.presets import DataDriftPreset

    from drift_assets.lib.schema import BIKE, DEFAULT_DRIFT_FEATURES
    from drift_assets.resources import build_resources

    resources = build_resources()
    store = resources["warehouse"].dataset(DATASET)
    engine = store.engine  # the dataset's namespace (schema or attached file)
    features = list(DEFAULT_DRIFT_FEATURES)
    steps = {}
    start = time.perf_counter()
    month = resources["source"].load_month(MONTH, BIKE)
    steps["source"] = time.perf_counter() - start
    mark = time.perf_counter()
    with engine.connect() as conn:
        reference = pd.read_sql(sa.text(f"SELECT * FROM {store.namespace}.reference"), conn)
    steps["read_reference"] = time.perf_counter() - mark
    mark = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Report([DataDriftPreset()]).run(current_data=month[features],
                                        reference_data=reference[features])
    steps["evidently"] = time.perf_counter() - mark
    mark = time.perf_counter()
    with engine.begin() as conn:
        month.to_sql("current", conn, schema=store.namespace, if_exists="append", index=False)
    steps["append"] = time.perf_counter() - mark
    month_seconds = time.perf_counter() - start
    resources["warehouse"].dispose()
    return {"steps": steps, "month": month_seconds, "peak_mb": _peak_mb()}


CHILDREN = {"setup": child_setup, "job": child_job, "seed": child_seed}


# --- the parent: states, copies, children, medians ---

def run_child(role: str, env: dict, home: Path, profile: str | None = None) -> dict:
    profiled = ["-m", "cProfile", "-o", profile] if profile else []
    out = subprocess.run(
        [sys.executable, *profiled, __file__, "--child", role, "--home", str(home)],
        env={**os.environ, **env}, capture_output=True, text=True, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"{role} child failed ({out.returncode}):\n{out.stderr[-4000:]}")
    return json.loads(lines[-1])


def _pg(admin_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(statement)


class State:
    """The reference loaded and a model trained, on one warehouse; copies for each run."""

    def __init__(self, warehouse: str, root: Path, rows_per_day: int, admin_url: str):
        self.warehouse, self.root, self.admin_url = warehouse, root, admin_url
        self.rows_per_day = rows_per_day
        self.databases: list[str] = []
        self.template = self._place("template")

    def _place(self, tag: str, template: str | None = None) -> tuple[dict, Path]:
        folder = self.root / f"{self.warehouse}-{tag}"
        env = {"DRIFT_DATA_DIR": str(folder / "data"), "DAGSTER_HOME": str(folder / "home"),
               "DRIFT_ROWS_PER_DAY": str(self.rows_per_day), "DRIFT_SEED": "0"}
        for name in ("DRIFT_WAREHOUSE_URL", "DRIFT_SOURCE", "DRIFT_CONFIG", "DRIFT_EXECUTOR",
                     "DRIFT_DASK_SCHEDULER", "DRIFT_REFERENCE", "DRIFT_THRESHOLDS"):
            env[name] = ""
        if self.warehouse == "postgresql":
            import sqlalchemy as sa

            name = f"drift_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            _pg(self.admin_url, f'CREATE DATABASE "{name}"' +
                (f' TEMPLATE "{template}"' if template else ""))
            self.databases.append(name)
            url = sa.make_url(self.admin_url).set(database=name)
            env["DRIFT_WAREHOUSE_URL"] = url.render_as_string(hide_password=False)
        return env, folder / "home"

    def build(self) -> float:
        env, home = self.template
        home.mkdir(parents=True)
        start = time.perf_counter()
        run_child("setup", env, home)
        return time.perf_counter() - start

    def copy(self, tag: str) -> tuple[dict, Path]:
        template_env, template_home = self.template
        template = self.databases[0] if self.databases else None
        env, home = self._place(tag, template)
        shutil.copytree(template_home.parent, home.parent)
        return env, home

    def drop(self) -> None:
        for name in self.databases:
            _pg(self.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(results: dict, repeat: int) -> None:
    print(f"\nmedians over {repeat} run(s); seconds, peak RSS of the process in MB")
    header = ["warehouse", "way", *STEPS, "month", "peak MB", "job/seed"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for warehouse, ways in results.items():
        seed_month = _median([r["month"] for r in ways["seed"]])
        for way, runs in ways.items():
            if not runs:
                continue
            month = _median([r["month"] for r in runs])
            if way == "job":
                steps = [f"{_median([r['steps'].get(s, float('nan')) for r in runs]):.1f}"
                         for s in STEPS]
                ratio = f"{month / seed_month:.2f}"
            else:
                parts = ", ".join(f"{s} {_median([r['steps'][s] for r in runs]):.1f}"
                                  for s in SEED_STEPS)
                steps = [parts, *[""] * (len(STEPS) - 1)]
                ratio = ""
            peak = _median([r["peak_mb"] for r in runs])
            print(f"| {warehouse} | {way} | " + " | ".join(steps) +
                  f" | **{month:.1f}** | {peak:.0f} | {ratio} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows-per-day", type=int, default=32_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--warehouse", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    parser.add_argument("--job-only", action="store_true", help="time the job alone (no ratio)")
    parser.add_argument("--json", help="also write every run's figures to this file")
    parser.add_argument("--profile", metavar="DIR",
                        help="run the job under cProfile, one DIR/<warehouse>-job<N>.prof a run "
                        "(read with python -m pstats; times are then inflated)")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child](Path(args.home))))
        return

    # stopped with SIGTERM, still drop the temporary databases (the finally below)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    warehouses = ["sqlite", "postgresql"] if args.warehouse == "both" else [args.warehouse]
    print(f"generated bike data, {args.rows_per_day:,} rows a day; reference {REFERENCE_MONTH}, "
          f"month {MONTH}; {args.repeat} repetition(s); {os.cpu_count()} CPUs")
    results: dict = {w: {"seed": [], "job": []} for w in warehouses}
    with tempfile.TemporaryDirectory(prefix="pipeline_month_") as tmp:
        states = {w: State(w, Path(tmp), args.rows_per_day, args.pg_admin_url)
                  for w in warehouses}
        try:
            for warehouse, state in states.items():
                print(f"{warehouse}: reference loaded and model trained in "
                      f"{state.build():.1f} s", flush=True)
            for i in range(args.repeat):
                for warehouse, state in states.items():
                    # alternate which way runs first, so neither always meets a warm cache
                    ways = ["seed", "job"] if i % 2 == 0 else ["job", "seed"]
                    ways = ["job"] if args.job_only else ways
                    for way in ways:
                        env, home = state.copy(f"{way}{i}")
                        profile = str(Path(args.profile) / f"{warehouse}-{way}{i}.prof") \
                            if args.profile and way == "job" else None
                        figures = run_child(way, env, home, profile)
                        if way == "job" and not figures["success"]:
                            raise RuntimeError(f"{warehouse}: the monthly job failed")
                        results[warehouse][way].append(figures)
                        shutil.rmtree(home.parent, ignore_errors=True)
                        steps = ", ".join(f"{k} {v:.1f}" for k, v in figures["steps"].items())
                        print(f"  run {i + 1} {warehouse} {way}: month {figures['month']:.1f} s, "
                              f"peak {figures['peak_mb']:.0f} MB ({steps})", flush=True)
        finally:
            for state in states.values():
                state.drop()
    report(results, args.repeat)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
