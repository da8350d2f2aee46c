"""Resources, and the choice between their implementations that the settings make.

Local implementations are the defaults, so a laptop or a test needs no server and no credential.
"""

from __future__ import annotations

from collections.abc import Mapping

from dagster import EnvVar

from drift_assets.resources.arrivals import S3Arrivals
from drift_assets.resources.cluster import DaskCluster
from drift_assets.resources.model_store import LocalModelStore, ModelStore, S3ModelStore
from drift_assets.resources.notifier import LogNotifier, Notifier, SlackNotifier
from drift_assets.resources.settings import DriftSettings
from drift_assets.resources.source import DataSource, FileSource, GeneratedSource
from drift_assets.resources.warehouse import Warehouse
from drift_assets.settings import Settings, load_settings

__all__ = [
    "DaskCluster", "DataSource", "DriftSettings", "FileSource", "GeneratedSource",
    "LocalModelStore", "LogNotifier", "ModelStore", "Notifier", "S3Arrivals", "S3ModelStore",
    "SlackNotifier",
    "Warehouse", "build_executor", "build_resources", "celery_problems",
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


def build_resources(settings: Settings | Mapping[str, str] | None = None) -> dict:
    """The resources these settings choose (given as :class:`Settings`, or as an environment
    to read them from; default ``os.environ``), keyed as the assets ask for them."""
    settings = _settings(settings)
    folder = settings.data_dir
    if settings.source:
        source: DataSource = FileSource(location=settings.source,
                                        unique_days=settings.rows_per_day == 1)
    else:
        source = GeneratedSource(seed=settings.seed, rows_per_day=settings.rows_per_day)
    # A production URL carries a password: resolve it at run time so it never shows in the UI.
    warehouse_url = (EnvVar("DRIFT_WAREHOUSE_URL") if settings.warehouse_url_set
                     else settings.warehouse_default)
    # S3: credentials, region and AWS_ENDPOINT_URL are boto3's own environment variables, read by
    # boto3 when the client is made; nothing of them shows in the resources' config.
    model_store: ModelStore = (
        S3ModelStore(bucket=settings.s3_bucket, prefix=settings.s3_prefix)
        if settings.s3_bucket else LocalModelStore(root=str(folder))
    )
    notifier: Notifier = LogNotifier(outbox=str(folder / "notifications.jsonl"))
    if settings.slack_token_set:
        notifier = SlackNotifier(token=EnvVar("SLACK_BOT_TOKEN"), channel=settings.slack_channel,
                                 base_url=settings.slack_base_url)
    return {
        "source": source,
        "warehouse": Warehouse(url=warehouse_url),
        "model_store": model_store,
        "notifier": notifier,
        "settings": DriftSettings(reports_dir=str(settings.reports_dir),
                                  reports_url=settings.reports_url, **settings.drift),
        # A Dask scheduler runs the quality and drift assets on that cluster; Dask is imported
        # only then.
        "cluster": DaskCluster(scheduler=settings.dask_scheduler),
        "arrivals": S3Arrivals(bucket=settings.s3_bucket, prefix=settings.s3_incoming_prefix),
    }


def _settings(given: Settings | Mapping[str, str] | None) -> Settings:
    return given if isinstance(given, Settings) else load_settings(given)


def _storage_problems(settings: Settings) -> list[str]:
    """What is wrong, for steps on other machines, with the instance DAGSTER_HOME configures.

    The instance's dagster.yaml is read (not opened: no connection at load time) and its
    storage must be a server every machine reaches; a SQLite instance would give each worker a
    run and event log of its own, so the run would never see its steps finish."""
    import yaml

    if "DAGSTER_HOME" not in settings.variables:
        return ["DAGSTER_HOME is not set: the Dagster instance would be a temporary SQLite one; "
                "point it at a folder whose dagster.yaml has a PostgreSQL storage (the "
                "repository's dagster.yaml)"]
    home = settings.dagster_home
    config_file = home / "dagster.yaml"
    if not config_file.is_file():
        return [f"DAGSTER_HOME={home} has no dagster.yaml: the instance would be SQLite in that "
                "folder; copy the repository's dagster.yaml (PostgreSQL storage) there"]
    try:
        config = yaml.safe_load(config_file.read_text()) or {}
    except yaml.YAMLError as exc:
        return [f"{config_file} is not valid YAML: {exc}"]
    if not isinstance(config, Mapping):
        return [f"{config_file} is not an instance configuration (a mapping of settings)"]
    storage = config.get("storage") or {}
    if "postgres" in storage or "mysql" in storage:
        kind = "postgres" if "postgres" in storage else "mysql"
        unset = sorted(name for name in _env_names(storage[kind])
                       if name not in settings.variables)
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


def celery_problems(settings: Settings | Mapping[str, str] | None = None) -> list[str]:
    """Why this environment cannot run steps on Celery workers on other machines; empty if it
    can. Steps share nothing but the instance, the warehouse and the model store, so each of
    them must be a server, and the broker must be named."""
    settings = _settings(settings)
    problems = _storage_problems(settings)
    if not settings.warehouse_url_set:
        problems.append("DRIFT_WAREHOUSE_URL is not set: the warehouse would be a SQLite file on "
                        "each worker; set it to a postgresql:// URL")
    elif settings.warehouse_scheme.startswith("sqlite"):
        # Only the scheme: the rest of the URL may hold a password.
        problems.append("DRIFT_WAREHOUSE_URL is a sqlite URL: a file on one machine cannot be "
                        "the warehouse of several; use a postgresql:// URL")
    if not settings.s3_bucket:
        problems.append("DRIFT_S3_BUCKET is not set: models would be stored in each worker's "
                        "local data folder; name the bucket of the model store")
    if not settings.celery_broker_set:
        problems.append("DRIFT_CELERY_BROKER is not set: name the broker the workers listen to, "
                        "e.g. amqp://user:password@rabbitmq:5672/drift")
    return problems


def build_executor(settings: Settings | Mapping[str, str] | None = None):
    """The executor of launched runs: ``DRIFT_EXECUTOR``, unset for Dagster's default.

    ``in_process`` runs every step in the run's process; ``celery`` sends each step to a Celery
    worker through ``DRIFT_CELERY_BROKER``, results back through ``DRIFT_CELERY_BACKEND``, and
    refuses to load (naming every problem) where workers could not share the run's state.
    ``execute_in_process`` (tests, ``drift-assets backfill``) ignores the executor either way."""
    settings = _settings(settings)
    if not settings.executor:
        return None
    if settings.executor == "in_process":
        from dagster import in_process_executor

        return in_process_executor
    problems = celery_problems(settings)
    if problems:
        raise ValueError("DRIFT_EXECUTOR=celery runs steps on workers that share nothing but the "
                         "instance, the warehouse and the model store, and this environment "
                         "cannot:\n" + "\n".join(f"  - {p}" for p in problems))
    # Imported here: the default path needs neither Celery nor a broker.
    from dagster_celery import celery_executor

    # {env: …}: the URLs (the broker's carries a password) are read when a run starts, so they
    # show neither in the UI's launchpad nor in the stored run config.
    config = {"broker": {"env": "DRIFT_CELERY_BROKER"}, "config_source": dict(CELERY_SETTINGS)}
    if settings.celery_backend_set:
        config["backend"] = {"env": "DRIFT_CELERY_BACKEND"}
    return celery_executor.configured(config, name="celery")
