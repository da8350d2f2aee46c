"""Shared fixtures: a private data folder and a temporary Dagster instance per test."""

from __future__ import annotations

import pytest
from dagster import instance_for_test

from drift_assets.resources import build_resources


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """The environment of an embedded-default deployment whose data folder is the test's own."""
    return {"DRIFT_DATA_DIR": str(tmp_path / "data")}


@pytest.fixture
def resources(env) -> dict:
    built = build_resources(env)
    yield built
    built["warehouse"].dispose()


@pytest.fixture
def instance(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    with instance_for_test(temp_dir=str(home)) as inst:
        yield inst
