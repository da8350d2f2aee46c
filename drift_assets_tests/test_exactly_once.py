"""One retrain and one message per cause, whatever crashes or runs twice: real processes, killed
with SIGKILL at each point of a retrain, then run again; and two backfills started together."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from drift_assets.lib.outbox import Outbox
from drift_assets.lib.registry import ModelRegistry
from drift_assets.resources import Warehouse
from drift_assets_tests.graph import bike

BIN = Path(sys.executable).parent
MONTHS = ["--from", "2011-02", "--to", "2011-03"]  # February drifts against January: a retrain

# Runs the command with one method replaced by one that kills its own process (SIGKILL: no
# cleanup, no finally) before or after doing its work.
CRASHING = """
import importlib, os, signal, sys
module, owner, method, when = sys.argv[1:5]
owner = getattr(importlib.import_module(module), owner)
real = getattr(owner, method)
def crash(*args, **kwargs):
    if when == "after":
        real(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
setattr(owner, method, crash)
from drift_assets.cli import main
sys.exit(main(sys.argv[5:]))
"""

CRASH_POINTS = {
    "before the model is stored": ("drift_assets.resources.model_store", "LocalModelStore",
                                   "_write", "before"),
    "after it is stored": ("drift_assets.lib.registry", "ModelRegistry", "register", "before"),
    "after it is registered": ("drift_assets.resources.notifier", "LogNotifier", "notify",
                               "before"),
    "after the message is sent": ("drift_assets.resources.notifier", "LogNotifier", "notify",
                                  "after"),
}


def _env(tmp_path) -> dict[str, str]:
    return {**os.environ, "DRIFT_DATA_DIR": str(tmp_path / "data"),
            "DAGSTER_HOME": str(tmp_path / "home")}


def _backfill(env, *crash) -> subprocess.CompletedProcess:
    command = ([sys.executable, "-c", CRASHING, *crash, "backfill", *MONTHS] if crash
               else [str(BIN / "drift-assets"), "backfill", *MONTHS])
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def _outcome(tmp_path) -> tuple[list[int], list[int], list[str]]:
    """Registered versions, stored versions, and the titles of the messages sent (the bike
    dataset's: its registry and outbox live in its own namespace of the warehouse)."""
    data = tmp_path / "data"
    warehouse = Warehouse(url=f"sqlite:///{data / 'warehouse.db'}")
    engine = bike(warehouse).engine
    registered = [r.version for r in ModelRegistry(engine).all()]
    stored = sorted(int(p.name[1:]) for p in (data / "models" / "bike_sharing").glob("v*")
                    if (p / "metadata.json").exists())
    outbox = data / "notifications.jsonl"
    titles = [json.loads(line)["title"] for line in outbox.read_text().splitlines()] \
        if outbox.exists() else []
    undelivered = Outbox(engine).undelivered()
    warehouse.dispose()
    assert undelivered == []
    return registered, stored, titles


@pytest.mark.slow
@pytest.mark.parametrize("point", list(CRASH_POINTS))
def test_a_crash_at_any_point_of_a_retrain_ends_with_one_version_and_one_message(tmp_path,
                                                                                  point):
    env = _env(tmp_path)
    crashed = _backfill(env, *CRASH_POINTS[point])
    assert crashed.returncode == -9, crashed.stderr[-2000:]  # killed where we said
    again = _backfill(env)
    assert again.returncode == 0, again.stderr[-2000:]
    registered, stored, titles = _outcome(tmp_path)
    assert registered == [1] and stored == [1]
    assert titles == ["Data drift in 2011-02: model retrained"]
    assert _backfill(env).returncode == 0  # and a third run changes nothing
    assert _outcome(tmp_path) == (registered, stored, titles)


@pytest.mark.slow
def test_two_backfills_at_once_retrain_once_and_alert_once(tmp_path):
    """Started together on a fresh folder: the instance stays readable, and the month that
    drifted is retrained and alerted once."""
    env = _env(tmp_path)
    command = [str(BIN / "drift-assets"), "backfill", *MONTHS]
    both = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    results = [(p.wait(timeout=600), p.stderr.read()) for p in both]
    assert [code for code, _ in results] == [0, 0], [err[-2000:] for _, err in results]
    registered, stored, titles = _outcome(tmp_path)
    assert registered == [1] and stored == [1]
    assert titles == ["Data drift in 2011-02: model retrained"]
    history = subprocess.run([str(BIN / "drift-assets"), "history", "--json"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert history.returncode == 0
    first = json.loads(history.stdout)[0]
    assert (first["dataset"], first["month"]) == ("bike_sharing", "2011-02")
