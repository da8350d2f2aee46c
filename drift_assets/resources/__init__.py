"""Resources, and the one place that reads the environment to choose between implementations.

Local implementations are the defaults, so a laptop or a test needs no server and no credential.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from dagster import EnvVar

from drift_assets.resources.model_store import LocalModelStore, ModelStore
from drift_assets.resources.notifier import LogNotifier, Notifier
from drift_assets.resources.settings import DriftSettings
from drift_assets.resources.source import DataSource, FileSource, GeneratedSource
from drift_assets.resources.warehouse import Warehouse

__all__ = [
    "DataSource", "DriftSettings", "FileSource", "GeneratedSource", "LocalModelStore",
    "LogNotifier", "ModelStore", "Notifier", "Warehouse", "build_resources", "data_dir",
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
    return {
        "source": source,
        "warehouse": Warehouse(url=warehouse_url),
        "model_store": LocalModelStore(root=str(folder)),
        "notifier": LogNotifier(outbox=str(folder / "notifications.jsonl")),
        "settings": settings,
    }
