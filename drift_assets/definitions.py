"""Everything Dagster loads: assets, checks, jobs, schedule, sensor and resources."""

from dagster import Definitions

from drift_assets.assets import ALL_ASSETS
from drift_assets.jobs import monthly_drift_job, reference_job, training_job
from drift_assets.resources import build_resources
from drift_assets.schedules import weekly_drift_schedule
from drift_assets.sensors import drift_sensor

defs = Definitions(
    assets=ALL_ASSETS,
    jobs=[monthly_drift_job, reference_job, training_job],
    schedules=[weekly_drift_schedule],
    sensors=[drift_sensor],
    resources=build_resources(),
)
