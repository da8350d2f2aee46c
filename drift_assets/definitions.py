"""Everything Dagster loads: assets, checks, jobs, schedule, sensor and resources."""

import os
from collections.abc import Mapping

from dagster import Definitions

from drift_assets.assets import build_assets
from drift_assets.jobs import monthly_drift_job, reference_job, training_job
from drift_assets.resources import build_executor, build_resources
from drift_assets.schedules import weekly_drift_schedule
from drift_assets.sensors import drift_sensor, s3_arrival_sensor


def build_defs(env: Mapping[str, str] = os.environ) -> Definitions:
    """The project's definitions with the resources and the executor this environment selects."""
    resources = build_resources(env)
    executor = build_executor(env)
    return Definitions(
        assets=build_assets(resources["settings"]),
        jobs=[monthly_drift_job, reference_job, training_job],
        schedules=[weekly_drift_schedule],
        sensors=[drift_sensor, s3_arrival_sensor],
        resources=resources,
        executor=executor,
    )


defs = build_defs()
