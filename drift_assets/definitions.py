"""Everything Dagster loads: assets, checks, jobs, schedule, sensor and resources."""

import os
from collections.abc import Mapping

from dagster import Definitions

from drift_assets.assets import ALL_ASSETS
from drift_assets.jobs import monthly_drift_job, reference_job, training_job
from drift_assets.resources import build_resources
from drift_assets.schedules import weekly_drift_schedule
from drift_assets.sensors import drift_sensor


def build_defs(env: Mapping[str, str] = os.environ) -> Definitions:
    """The project's definitions with the resources this environment selects."""
    return Definitions(
        assets=ALL_ASSETS,
        jobs=[monthly_drift_job, reference_job, training_job],
        schedules=[weekly_drift_schedule],
        sensors=[drift_sensor],
        resources=build_resources(env),
    )


defs = build_defs()
