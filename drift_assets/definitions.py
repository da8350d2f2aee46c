"""Everything Dagster loads: each declared dataset's assets, checks, jobs, schedule and sensors,
and the resources they share."""

from collections.abc import Mapping

from dagster import Definitions

from drift_assets.datasets import dataset_definitions, monitored_datasets
from drift_assets.resources import build_executor, build_resources
from drift_assets.settings import load_settings


def build_defs(env: Mapping[str, str] | None = None) -> Definitions:
    """The project's definitions for the datasets of the declaration, with the resources and
    the executor that the settings of this environment (``os.environ`` unless given) select."""
    settings = load_settings(env)
    resources = build_resources(settings)
    per_dataset = [dataset_definitions(m, resources["settings"], bool(settings.s3_bucket))
                   for m in monitored_datasets(settings)]
    return Definitions.merge(
        *per_dataset,
        Definitions(resources=resources, executor=build_executor(settings)),
    )


defs = build_defs()
