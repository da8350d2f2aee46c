"""One factory for every declared dataset: its assets, checks, jobs, schedule and sensors."""

from __future__ import annotations

from dagster import Definitions

from drift_assets.assets import build_assets
from drift_assets.assets.backtest import build_backtest_asset
from drift_assets.jobs import build_jobs
from drift_assets.lib.declaration import load_declarations
from drift_assets.monitored import Monitored
from drift_assets.resources.settings import DriftSettings
from drift_assets.schedules import build_schedule
from drift_assets.sensors import build_arrival_sensor, build_drift_sensor
from drift_assets.settings import Settings, SettingsError


def monitored_datasets(settings: Settings) -> list[Monitored]:
    """The datasets the declaration (``DRIFT_CONFIG``) names, in its order. ``DRIFT_FEATURES``
    is checked here against the datasets it applies to whose columns are known (examples
    without declared features); a declared table's columns are known once its reference is
    loaded, and a name it lacks fails that run."""
    monitored = [Monitored(dataset, generated_default=settings.source is None)
                 for dataset in load_declarations(settings.config_path).values()]
    for m in monitored:
        names = m.schema_hint.names
        unknown = [c for c in settings.drift.get("features", []) if c not in names]
        if m.dataset.features is None and names and unknown:
            raise SettingsError(f"DRIFT_FEATURES names {', '.join(unknown)}, which dataset "
                                f"{m.name!r} does not have; it has {', '.join(names)}")
    return monitored


def dataset_definitions(monitored: Monitored, drift: DriftSettings, watch_s3: bool
                        ) -> Definitions:
    """The definitions of one dataset; no I/O: the declaration is all it reads."""
    modelled = monitored.dataset.model is not None
    jobs = build_jobs(monitored, modelled)
    sensors = [build_drift_sensor(monitored, jobs.get("training_job"),
                                  jobs["monthly_drift_job"])]
    if watch_s3:
        sensors.append(build_arrival_sensor(monitored, jobs["monthly_drift_job"]))
    return Definitions(
        # the backtest replays the whole history on demand: in the group, in no job
        assets=[*build_assets(monitored, drift), build_backtest_asset(monitored)],
        jobs=list(jobs.values()),
        schedules=[build_schedule(monitored, jobs["monthly_drift_job"])],
        sensors=sensors,
    )
