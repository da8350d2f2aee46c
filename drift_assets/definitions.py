"""Everything Dagster loads: assets, checks, jobs, schedule, sensor and resources."""

from collections.abc import Mapping

from dagster import Definitions

from drift_assets.assets import build_assets
from drift_assets.jobs import monthly_drift_job, reference_job, training_job
from drift_assets.resources import build_executor, build_resources
from drift_assets.schedules import weekly_drift_schedule
from drift_assets.sensors import drift_sensor, s3_arrival_sensor
from drift_assets.settings import load_settings


def build_defs(env: Mapping[str, str] | None = None) -> Definitions:
    """The project's definitions with the resources and the executor that the settings of this
    environment (``os.environ`` unless given) select."""
    settings = load_settings(env)
    resources = build_resources(settings)
    return Definitions(
        assets=build_assets(resources["settings"]),
        jobs=[monthly_drift_job, reference_job, training_job],
        schedules=[weekly_drift_schedule],
        sensors=[drift_sensor, s3_arrival_sensor],
        resources=resources,
        executor=build_executor(settings),
    )


defs = build_defs()
