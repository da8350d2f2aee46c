"""Resources, and the one place that reads the environment to choose between implementations.

Local implementations are the defaults, so a laptop or a test needs no server and no credential.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from dagster import EnvVar

from drift_assets.resources.arrivals import S3Arrivals
from drift_assets.resources.cluster import DaskCluster
from drift_assets.resources.model_store import LocalModelStore, ModelStore, S3ModelStore
from drift_assets.resources.notifier import LogNotifier, Notifier, SlackNotifier
from drift_assets.resources.settings import DriftSettings
from drift_assets.resources.source import DataSource, FileSource, GeneratedSource
from drift_assets.resources.warehouse import Warehouse

__all__ = [
    "DaskCluster", "DataSource", "DriftSettings", "FileSource", "GeneratedSource",
    "LocalModelStore", "LogNotifier", "ModelStore", "Notifier", "S3Arrivals", "S3ModelStore",
    "SlackNotifier",
    "Warehouse", "build_executor", "build_resources", "celery_problems", "data_dir",
]

# Celery settings the executor (the run's side) and every worker must share: the worker reads
# them from deploy/celery_worker.yaml, which a test keeps equal to this.
CELERY_SETTINGS = {
    # A task is acknowledged when it ends, not when a worker takes it: if the worker's machine
    # dies mid-step, the broker hands the step to another worker instead of the run waiting
    # forever for a result that will never come.
    "task_acks_late": True,
    # One step at a time per pool process: a prefetched step would wait behind a long one while
    # another worker sits idle.
    "worker_prefetch_multiplier": 1,
}


def data_dir(env: Mapping[str, str] = os.environ) -> Path:
    """The local data folder: ``DRIFT_DATA_DIR``, or ``data/`` at the project's root."""
    return Path(env.get("DRIFT_DATA_DIR") or Path(__file__).resolve().parents[2] / "data")


def build_resources(env: Mapping[str, str] = os.environ) -> dict:
    """The resources for this environment, keyed as the assets ask for them."""
    folder = data_dir(env)
    if env.get("DRIFT_SOURCE"):
        source: DataSource = FileSource(location=env["DRIFT_SOURCE"],
                                        unique_days=int(env.get("DRIFT_ROWS_PER_DAY", 1)) == 1)
    else:
        source = GeneratedSource(seed=int(env.get("DRIFT_SEED", 0)),
                                 rows_per_day=int(env.get("DRIFT_ROWS_PER_DAY", 1)))
    # A production URL carries a password: resolve it at run time so it never shows in the UI.
    warehouse_url = (EnvVar("DRIFT_WAREHOUSE_URL") if env.get("DRIFT_WAREHOUSE_URL")
                     else f"sqlite:///{folder / 'warehouse.db'}")
    settings = DriftSettings.from_env(env, folder)
    # S3: credentials, region and AWS_ENDPOINT_URL are boto3's own environment variables, read by
    # boto3 when the client is made; nothing of them shows in the resources' config.
    bucket = env.get("DRIFT_S3_BUCKET", "")
    model_store: ModelStore = (
        S3ModelStore(bucket=bucket, prefix=env.get("DRIFT_S3_PREFIX") or "models")
        if bucket else LocalModelStore(root=str(folder))
    )
    notifier: Notifier = LogNotifier(outbox=str(folder / "notifications.jsonl"))
    if env.get("SLACK_BOT_TOKEN"):
        if not env.get("DRIFT_SLACK_CHANNEL"):  # fail at load time rather than post nowhere
            raise ValueError("SLACK_BOT_TOKEN is set but DRIFT_SLACK_CHANNEL is not: name the "
                             "channel to post to, e.g. #model-alerts")
        notifier = SlackNotifier(token=EnvVar("SLACK_BOT_TOKEN"),
                                 channel=env["DRIFT_SLACK_CHANNEL"],
                                 base_url=env.get("DRIFT_SLACK_BASE_URL") or None)
    incoming = env.get("DRIFT_S3_INCOMING_PREFIX") or "incoming/"
    return {
        "source": source,
        "warehouse": Warehouse(url=warehouse_url),
        "model_store": model_store,
        "notifier": notifier,
        "settings": settings,
        # A Dask scheduler runs the quality and drift assets on that cluster; Dask is imported
        # only then.
        "cluster": DaskCluster(scheduler=env.get("DRIFT_DASK_SCHEDULER", "")),
        # A folder, so that incoming/ does not also match incoming-old/.
        "arrivals": S3Arrivals(bucket=bucket, prefix=incoming.rstrip("/") + "/"),
    }


def _storage_problems(env: Mapping[str, str]) -> list[str]:
    """What is wrong, for steps on other machines, with the instance DAGSTER_HOME configures.

    The instance's dagster.yaml is validated (not opened: no connection at load time) and its
    storage must be a server every machine reaches; a SQLite instance would give each worker a
    run and event log of its own, so the run would never see its steps finish."""
    from dagster import DagsterInvalidConfigError
    from dagster._core.instance.config import dagster_instance_config

    home = env.get("DAGSTER_HOME")
    if not home:
        return ["DAGSTER_HOME is not set: the Dagster instance would be a temporary SQLite one; "
                "point it at a folder whose dagster.yaml has a PostgreSQL storage (the "
                "repository's dagster.yaml)"]
    config_file = Path(home) / "dagster.yaml"
    if not config_file.is_file():
        return [f"DAGSTER_HOME={home} has no dagster.yaml: the instance would be SQLite in that "
                "folder; copy the repository's dagster.yaml (PostgreSQL storage) there"]
    try:
        config, _ = dagster_instance_config(home)
    except DagsterInvalidConfigError as exc:
        return [f"{config_file} is not a valid instance configuration: {exc}"]
    storage = config.get("storage") or {}
    if "postgres" in storage or "mysql" in storage:
        kind = "postgres" if "postgres" in storage else "mysql"
        unset = sorted(name for name in _env_names(storage[kind]) if name not in env)
        if unset:
            return [f"{config_file} reads {', '.join(unset)} for its {kind} storage, and "
                    f"{'it is' if len(unset) == 1 else 'they are'} not set"]
        return []
    classes = [str((storage.get("custom") or {}).get("class", ""))] if "custom" in storage else [
        str((config.get(key) or {}).get("class", "")) for key in ("run_storage",
                                                                   "event_log_storage")]
    if classes and all(c and "sqlite" not in c.lower() and "inmemory" not in c.lower()
                       for c in classes):
        return []  # a storage class of one's own: trusted to be shared
    return [f"{config_file} keeps runs and events in SQLite (no postgres storage): every worker "
            "would write to a database of its own; use the repository's dagster.yaml"]


def _env_names(config) -> set[str]:
    """The environment variables a config block reads through ``{env: NAME}``."""
    if isinstance(config, Mapping):
        if set(config) == {"env"}:
            return {str(config["env"])}
        return set().union(*(_env_names(v) for v in config.values()))
    return set()


def celery_problems(env: Mapping[str, str] = os.environ) -> list[str]:
    """Why this environment cannot run steps on Celery workers on other machines; empty if it
    can. Steps share nothing but the instance, the warehouse and the model store, so each of
    them must be a server, and the broker must be named."""
    problems = _storage_problems(env)
    url = env.get("DRIFT_WAREHOUSE_URL", "")
    if not url:
        problems.append("DRIFT_WAREHOUSE_URL is not set: the warehouse would be a SQLite file on "
                        "each worker; set it to a postgresql:// URL")
    elif url.strip().lower().startswith("sqlite"):
        # Only the scheme: the rest of the URL may hold a password.
        problems.append("DRIFT_WAREHOUSE_URL is a sqlite URL: a file on one machine cannot be "
                        "the warehouse of several; use a postgresql:// URL")
    if not env.get("DRIFT_S3_BUCKET"):
        problems.append("DRIFT_S3_BUCKET is not set: models would be stored in each worker's "
                        "local data folder; name the bucket of the model store")
    if not env.get("DRIFT_CELERY_BROKER"):
        problems.append("DRIFT_CELERY_BROKER is not set: name the broker the workers listen to, "
                        "e.g. amqp://user:password@rabbitmq:5672/drift")
    return problems


def build_executor(env: Mapping[str, str] = os.environ):
    """The executor of launched runs: ``DRIFT_EXECUTOR``, unset for Dagster's default.

    ``in_process`` runs every step in the run's process; ``celery`` sends each step to a Celery
    worker through ``DRIFT_CELERY_BROKER``, results back through ``DRIFT_CELERY_BACKEND``, and
    refuses to load (naming every problem) where workers could not share the run's state.
    ``execute_in_process`` (tests, ``drift-assets backfill``) ignores the executor either way."""
    choice = (env.get("DRIFT_EXECUTOR") or "").strip().lower()
    if choice in ("", "default"):
        return None
    if choice in ("in_process", "in-process"):
        from dagster import in_process_executor

        return in_process_executor
    if choice != "celery":
        raise ValueError(f"DRIFT_EXECUTOR={env['DRIFT_EXECUTOR']!r} is not known: use "
                         "in_process or celery, or leave it unset")
    problems = celery_problems(env)
    if problems:
        raise ValueError("DRIFT_EXECUTOR=celery runs steps on workers that share nothing but the "
                         "instance, the warehouse and the model store, and this environment "
                         "cannot:\n" + "\n".join(f"  - {p}" for p in problems))
    # Imported here: the default path needs neither Celery nor a broker.
    from dagster_celery import celery_executor

    # {env: …}: the URLs (the broker's carries a password) are read when a run starts, so they
    # show neither in the UI's launchpad nor in the stored run config.
    config = {"broker": {"env": "DRIFT_CELERY_BROKER"}, "config_source": dict(CELERY_SETTINGS)}
    if env.get("DRIFT_CELERY_BACKEND"):
        config["backend"] = {"env": "DRIFT_CELERY_BACKEND"}
    return celery_executor.configured(config, name="celery")
