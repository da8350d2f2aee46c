"""Steps on Celery workers: RabbitMQ as the broker, Redis as the result backend.

Each test gets a RabbitMQ vhost, a Redis database, a PostgreSQL database for the Dagster instance
and one for the warehouse, and an S3 bucket (moto) for the model store, all its own and all
removed afterwards. Two workers are started the way docs/deployment.md starts them
(``dagster-celery worker start … -y deploy/celery_worker.yaml``) in processes of their own; the
test process only orchestrates the runs, as the run worker of a launched run does.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    ReexecutionOptions,
    RunsFilter,
    execute_job,
)
from dagster._core.definitions.reconstruct import ReconstructableRepository

from drift_assets.definitions import build_defs
from drift_assets.lib.generator import generate_month
from drift_assets.resources import CELERY_SETTINGS, Warehouse
from drift_assets_tests.graph import bike, job, key, node

pytestmark = [pytest.mark.scaleout, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[1]
WORKER_YAML = ROOT / "deploy" / "celery_worker.yaml"
RABBITMQ = "127.0.0.1:5672"
REDIS = "127.0.0.1:6379"
MONTHS = ["2011-01", "2011-02", "2011-03", "2011-04", "2011-05", "2011-06"]


def celery_defs():
    """The definitions of the environment at call time, as a worker or a run process builds
    them on import. (The imported ``drift_assets.definitions.defs`` of this test process was
    built before the test set its environment.)"""
    return build_defs()


MODULE = "drift_assets_tests.test_scaleout_celery"


def _recon(job_name: str):
    return ReconstructableRepository.for_module(
        MODULE, "celery_defs", working_directory=str(ROOT)).get_reconstructable_job(job_name)


def run_month_main() -> None:
    """``python -c 'from … import run_month_main; run_month_main()' MONTH TAG [PARENT_RUN_ID]``:
    one month's run orchestrated in a process of its own, as the run worker of a launched run
    is. (``execute_job`` is not thread-safe: two in one process deadlock in logging's locks.)"""
    month, tag = sys.argv[1], sys.argv[2]
    with DagsterInstance.get() as instance:
        options = (ReexecutionOptions.from_failure(sys.argv[3], instance) if len(sys.argv) > 3
                   else None)
        execute_job(_recon(job("monthly_drift_job")), instance=instance, raise_on_error=False,
                    tags={"dagster/partition": f"{month}-01", "drift_test/tag": tag},
                    reexecution_options=options)


# --- Servers of this machine, one private part each per test ---------------------------------


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def rabbitmq_vhost():
    """A RabbitMQ vhost of this test's own; yields the broker URL."""
    if not shutil.which("rabbitmqctl"):
        pytest.skip("rabbitmqctl is not installed")
    vhost = f"drift_test_{uuid.uuid4().hex[:10]}"
    _rabbitmqctl("add_vhost", vhost)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"amqp://guest:guest@{RABBITMQ}/{vhost}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture
def redis_db():
    """A Redis database (7..15) that holds no key, claimed with a marker and flushed after."""
    import redis

    marker = f"drift_assets:test:{uuid.uuid4().hex}"
    for db in range(7, 16):
        client = redis.Redis.from_url(f"redis://{REDIS}/{db}")
        # The marker claims the database against another test process choosing at once.
        if client.dbsize() == 0 and client.set(marker, "1", nx=True) and client.dbsize() == 1:
            break
        client.close()
    else:
        pytest.skip("no empty Redis database among 7..15")
    try:
        yield f"redis://{REDIS}/{db}"
    finally:
        client.flushdb()
        client.close()


class MonthServer:
    """Serves generated months as CSV (``/2011-03.csv``); a month in ``hold`` is answered only
    once ``release`` is set, so that a step can be caught in the middle."""

    def __init__(self):
        self.hold: set[str] = set()
        self.requested: dict[str, threading.Event] = defaultdict(threading.Event)
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the name http.server calls
                month = self.path.strip("/").removesuffix(".csv")
                server.requested[month].set()
                if month in server.hold:
                    server.release.wait(120)
                body = generate_month(month, seed=0).to_csv(index=False).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/csv")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the worker that asked was killed meanwhile
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/" + "{month}.csv"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def month_server():
    server = MonthServer()
    yield server
    server.close()


@pytest.fixture
def deployment(rabbitmq_vhost, redis_db, pg_database, s3, month_server, tmp_path, monkeypatch):
    """The environment of every process of a Celery deployment, set in this process too (the
    run's process reads the EnvVars from it); yields ``(env, instance)``."""
    _, bucket = s3
    _, instance_db = pg_database("celery_instance")
    warehouse_url, _ = pg_database("celery_warehouse")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {
        "DAGSTER_HOME": str(home), "DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": "5432",
        "DAGSTER_PG_USER": "postgres", "DAGSTER_PG_PASSWORD": "", "DAGSTER_PG_DB": instance_db,
        "DRIFT_DATA_DIR": str(tmp_path / "data"),
        "DRIFT_WAREHOUSE_URL": warehouse_url,
        "DRIFT_SOURCE": month_server.url,
        "DRIFT_S3_BUCKET": bucket,
        "DRIFT_EXECUTOR": "celery",
        "DRIFT_CELERY_BROKER": rabbitmq_vhost,
        "DRIFT_CELERY_BACKEND": redis_db,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    instance = DagsterInstance.get()
    try:
        yield env, instance
    finally:
        instance.dispose()
        Warehouse(url=warehouse_url).dispose()  # before pg_database drops the database


class Workers:
    """``dagster-celery worker start`` processes, each in a session of its own so that the
    worker, its Celery main process and its pool child can be killed together."""

    def __init__(self, broker: str, logs: Path):
        self.broker = broker
        self.logs = logs
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str) -> None:
        bin_dir = str(Path(sys.executable).parent)
        env = {**os.environ,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                           os.environ.get("PYTHONPATH")])),
               "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        self.procs[name] = subprocess.Popen(
            [str(Path(bin_dir) / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app",
             "-y", str(WORKER_YAML), "-n", name, "--loglevel", "INFO",
             "--", "--pool", "prefork", "--concurrency", "1", "--without-gossip",
             "--without-mingle"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def wait_ready(self, names: list[str], timeout: float = 90) -> None:
        from celery import Celery

        app = Celery(broker=self.broker)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                answered = {next(iter(r)).split("@")[0] for r in app.control.ping(timeout=1)}
                if set(names) <= answered:
                    return
                for name in names:
                    if self.procs[name].poll() is not None:
                        raise AssertionError(f"worker {name} exited:\n{self.log(name)}")
        finally:
            app.close()
        raise AssertionError(f"workers {names} not ready in {timeout}s:\n"
                             + "\n".join(self.log(n) for n in names))

    def pids(self, name: str) -> set[int]:
        import psutil

        proc = psutil.Process(self.procs[name].pid)
        return {proc.pid} | {p.pid for p in proc.children(recursive=True)}

    def kill(self, name: str) -> None:
        """SIGKILL to the worker and its pool: its machine is gone."""
        try:
            os.killpg(self.procs[name].pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.procs[name].wait(30)

    def log(self, name: str) -> str:
        return f"--- {name} ---\n" + (self.logs / f"{name}.log").read_text(errors="replace")[-6000:]

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


@pytest.fixture
def workers(deployment, tmp_path):
    env, _ = deployment
    pool = Workers(env["DRIFT_CELERY_BROKER"], tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()


# --- What the instance recorded ---------------------------------------------------------------


def _events(instance, run_id: str):
    return [e for e in instance.all_logs(run_id) if e.dagster_event is not None]


def _step_workers(instance, run_id: str) -> dict[str, list[str]]:
    """step key -> the Celery workers that said they execute it, in order."""
    seen = defaultdict(list)
    for entry in _events(instance, run_id):
        event = entry.dagster_event
        if event.event_type == DagsterEventType.ENGINE_EVENT and event.step_key:
            worker = event.engine_event_data.metadata.get("Celery worker")
            if worker is not None:
                seen[event.step_key].append(worker.value.split("@")[0])
    return seen


def _step_start_pids(instance, run_id: str) -> dict[str, list[int]]:
    pids = defaultdict(list)
    for entry in _events(instance, run_id):
        if entry.dagster_event.event_type == DagsterEventType.STEP_START:
            pids[entry.step_key].append(entry.dagster_event.pid)
    return pids


def _materialized_partitions(instance, asset: str) -> list[str]:
    records = instance.fetch_materializations(key(asset), limit=1000).records
    return sorted(r.asset_materialization.partition for r in records)


class MonthRun:
    """A month's run of ``monthly_drift_job`` orchestrated by a process of its own."""

    def __init__(self, month: str, logs: Path, parent_run_id: str | None = None):
        self.month, self.tag = month, uuid.uuid4().hex
        self.log = logs / f"run-{month}-{self.tag[:6]}.log"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", f"from {MODULE} import run_month_main; run_month_main()",
                 month, self.tag, *([parent_run_id] if parent_run_id else [])],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    def run_id(self, instance, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = instance.get_runs(RunsFilter(tags={"drift_test/tag": self.tag}), limit=1)
            if runs:
                return runs[0].run_id
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"the run of {self.month} did not start:\n{self.output()}")

    def wait(self, instance, timeout: float = 150):
        try:
            self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        return instance.get_run_by_id(self.run_id(instance, timeout=1))

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]


MONTHLY_STEPS = {node(a) for a in ("current_data", "data_quality_report", "reference_profile",
                                   "drift_report", "model_performance")}


def test_the_worker_yaml_carries_the_executors_settings():
    config = yaml.safe_load(WORKER_YAML.read_text())["execution"]["config"]
    assert config["config_source"] == CELERY_SETTINGS
    assert config["broker"] == {"env": "DRIFT_CELERY_BROKER"}
    assert config["backend"] == {"env": "DRIFT_CELERY_BACKEND"}


def test_a_six_month_backfill_runs_its_steps_on_both_workers(deployment, workers, tmp_path):
    env, instance = deployment
    for name in ("w1", "w2"):
        workers.start(name)
    workers.wait_ready(["w1", "w2"])
    worker_pids = workers.pids("w1") | workers.pids("w2")

    assert execute_job(_recon(job("reference_job")), instance=instance).success
    # Every month's run at once, each orchestrated by a process of its own; the steps queue in
    # the broker and the two workers take them one at a time each.
    runs = [MonthRun(month, tmp_path) for month in MONTHS]
    finished = {run.month: run.wait(instance) for run in runs}
    failed = [m for m, r in finished.items() if r.status != DagsterRunStatus.SUCCESS]
    assert not failed, (f"failed months {failed}\n" + "\n".join(r.output() for r in runs)
                        + workers.log("w1") + workers.log("w2"))

    used = set()
    for month, result in finished.items():
        steps = _step_workers(instance, result.run_id)
        assert set(steps) >= MONTHLY_STEPS, (month, steps)
        # Each step ran once, in a worker's pool process, never in this process.
        assert all(len(names) == 1 for names in steps.values()), (month, steps)
        used |= {names[0] for names in steps.values()}
        for step, pids in _step_start_pids(instance, result.run_id).items():
            assert len(pids) == 1 and pids[0] != os.getpid(), (month, step, pids)
            assert pids[0] in worker_pids | workers.pids("w1") | workers.pids("w2"), (step, pids)
    assert used == {"w1", "w2"}

    # The broker's and the backend's URLs (passwords) are in no run's config and no event.
    for dagster_run in instance.get_runs():
        stored = repr(dagster_run.run_config) + "".join(
            repr(e) for e in instance.all_logs(dagster_run.run_id))
        assert env["DRIFT_CELERY_BROKER"] not in stored
        assert env["DRIFT_CELERY_BACKEND"] not in stored

    partitions = [f"{m}-01" for m in MONTHS]
    for asset in ("current_data", "data_quality_report", "reference_profile", "drift_report",
                  "model_performance"):
        assert _materialized_partitions(instance, asset) == partitions, asset
    with Warehouse(url=env["DRIFT_WAREHOUSE_URL"]).engine.connect() as conn:
        import sqlalchemy as sa

        rows = dict(conn.execute(sa.text(
            "SELECT to_char(dteday, 'YYYY-MM'), count(*) FROM drift_bike_sharing.current "
            "GROUP BY 1")).all())
    assert rows == {m: len(generate_month(m)) for m in MONTHS}
    # Nothing went through an IO manager (its files would be under storage/<run id>/<step>):
    # the steps hand data over in the warehouse and S3 only. Compute logs are all there is.
    storage = Path(env["DAGSTER_HOME"]) / "storage"
    assert [p for p in storage.rglob("*") if p.is_file()]  # the step logs: the walk sees files
    assert not [p for p in storage.rglob("*") if p.is_file() and "compute_logs" not in p.parts]


def _wait_for_step_start(instance, run_id: str, step: str, attempt: int = 1,
                         timeout: float = 90) -> tuple[str, int]:
    """The worker and the pid that started ``step`` (its ``attempt``-th start) in the run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = _step_start_pids(instance, run_id).get(step, [])
        names = _step_workers(instance, run_id).get(step, [])
        if len(pids) >= attempt and len(names) >= attempt:
            return names[attempt - 1], pids[attempt - 1]
        time.sleep(0.2)
    raise AssertionError(f"{step} did not start in {timeout}s")


def _failure_text(instance, run_id: str) -> str:
    lines = []
    for entry in _events(instance, run_id):
        event = entry.dagster_event
        lines.append(str(event.message))
        data = event.event_specific_data
        error = getattr(data, "error", None)
        if error is not None:
            lines.append(error.to_string())
    return "\n".join(lines)


def test_a_killed_worker_fails_or_retries_its_step_and_nothing_is_doubled(
    deployment, workers, month_server, tmp_path
):
    env, instance = deployment
    for name in ("w1", "w2"):
        workers.start(name)
    workers.wait_ready(["w1", "w2"])
    assert execute_job(_recon(job("reference_job")), instance=instance).success
    warehouse = bike(Warehouse(url=env["DRIFT_WAREHOUSE_URL"]))

    # 1. The pool process running current_data of 2011-03 is killed (as the OOM killer would):
    # the worker's main process reports it and the run fails, naming the cause.
    month_server.hold = {"2011-03"}
    first = MonthRun("2011-03", tmp_path)
    run_id = first.run_id(instance)
    assert month_server.requested["2011-03"].wait(90)
    _, pid = _wait_for_step_start(instance, run_id, node("current_data"))
    os.kill(pid, signal.SIGKILL)
    failed = first.wait(instance)
    month_server.release.set()
    assert failed.status == DagsterRunStatus.FAILURE, first.output()
    failure = _failure_text(instance, run_id)
    assert "WorkerLostError" in failure and "SIGKILL" in failure, failure
    assert "2011-03" not in warehouse.month_counts()

    # Re-executed from the failure, it completes.
    again = MonthRun("2011-03", tmp_path, parent_run_id=run_id).wait(instance)
    assert again.status == DagsterRunStatus.SUCCESS
    assert warehouse.month_counts() == {"2011-03": 31}

    # 2. A whole worker is killed (its machine lost) in the middle of current_data of 2011-04:
    # the broker hands the unacknowledged step to the other worker and the run succeeds.
    month_server.release.clear()
    month_server.hold = {"2011-04"}
    second = MonthRun("2011-04", tmp_path)
    run_id = second.run_id(instance)
    assert month_server.requested["2011-04"].wait(90)
    victim, _ = _wait_for_step_start(instance, run_id, node("current_data"))
    workers.kill(victim)
    month_server.release.set()
    done = second.wait(instance)
    assert done.status == DagsterRunStatus.SUCCESS, (second.output() + workers.log("w1")
                                                     + workers.log("w2"))
    survivor = {"w1": "w2", "w2": "w1"}[victim]
    assert _step_workers(instance, run_id)[node("current_data")] == [victim, survivor]

    # Every month once, in the instance and in the warehouse.
    assert warehouse.month_counts() == {"2011-03": 31, "2011-04": 30}
    assert _materialized_partitions(instance, "current_data") == ["2011-03-01", "2011-04-01"]
    assert _materialized_partitions(instance, "drift_report") == ["2011-03-01", "2011-04-01"]
