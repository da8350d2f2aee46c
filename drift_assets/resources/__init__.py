"""Resources, and the one place that reads the environment to choose between implementations.

Local implementations are the defaults, so a laptop or a test needs no server and no credential.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from dagster import EnvVar

from drift_assets.resources.arrivals import S3Arrivals
from drift_assets.resources.model_store import LocalModelStore, ModelStore, S3ModelStore
from drift_assets.resources.notifier import LogNotifier, Notifier, SlackNotifier
from drift_assets.resources.settings import DriftSettings
from drift_assets.resources.source import DataSource, FileSource, GeneratedSource
from drift_assets.resources.warehouse import Warehouse

__all__ = [
    "DataSource", "DriftSettings", "FileSource", "GeneratedSource", "LocalModelStore",
    "LogNotifier", "ModelStore", "Notifier", "S3Arrivals", "S3ModelStore", "SlackNotifier",
    "Warehouse", "build_resources", "data_dir",
]


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
        # A folder, so that incoming/ does not also match incoming-old/.
        "arrivals": S3Arrivals(bucket=bucket, prefix=incoming.rstrip("/") + "/"),
    }
