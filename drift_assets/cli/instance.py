"""The Dagster instance the commands run on: the one ``make dev`` shows in the UI."""

from __future__ import annotations

from pathlib import Path

from drift_assets.settings import load_settings


def dagster_home() -> Path:
    """``DAGSTER_HOME``, or the project's local one; made on first use, with the embedded
    default (SQLite storage in that folder)."""
    home = load_settings().dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    return home


def open_instance():
    """The instance in :func:`dagster_home`, opened without touching the environment."""
    from dagster import DagsterInstance

    return DagsterInstance.from_config(str(dagster_home()))
