"""The Dagster instance the commands run on: the one ``make dev`` shows in the UI."""

from __future__ import annotations

import fcntl
from pathlib import Path

from drift_assets.settings import load_settings


def dagster_home() -> Path:
    """``DAGSTER_HOME``, or the project's local one; made on first use, with the embedded
    default (SQLite storage in that folder)."""
    home = load_settings().dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        # written whole under a new name, then renamed: a second command starting at the same
        # moment reads either no file or all of it
        partial = config.with_suffix(".yaml.partial")
        partial.write_text("telemetry:\n  enabled: false\n")
        partial.replace(config)
    return home


def open_instance():
    """The instance in :func:`dagster_home`, opened without touching the environment.

    Two commands started together on a new folder would both create the instance's SQLite
    storage and stamp its schema version twice ("more than one head"); the first one opens it
    under a file lock, with its storage made, and the other waits for it."""
    from dagster import DagsterInstance

    home = dagster_home()
    with (home / ".drift_assets.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            instance = DagsterInstance.from_config(str(home))
            instance.get_runs(limit=1)  # the run storage, made now rather than by two at once
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return instance
