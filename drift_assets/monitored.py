"""A declared dataset as the asset factory sees it: its keys, partitions, source, schema,
settings and model name, everything that makes one dataset's assets its own."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from dagster import (
    AssetCheckSpec,
    AssetKey,
    Failure,
    MonthlyPartitionsDefinition,
    PreviewWarning,
)

from drift_assets.lib.declaration import Dataset
from drift_assets.lib.examples import EXAMPLES, Example
from drift_assets.lib.months import month_start, next_month
from drift_assets.lib.schema import Schema
from drift_assets.resources import (
    DataSource,
    DriftSettings,
    FileSource,
    GeneratedSource,
    Notifier,
    Warehouse,
)
from drift_assets.resources.warehouse import DatasetWarehouse


@dataclass(frozen=True)
class Monitored:
    """One dataset of the declaration, with what the environment leaves to it."""

    dataset: Dataset
    generated_default: bool = True  # no DRIFT_SOURCE: a dataset without a source is generated

    @property
    def name(self) -> str:
        return self.dataset.name

    def key(self, asset: str) -> AssetKey:
        return AssetKey([self.name, asset])

    def labels(self, stage: str) -> dict:
        """What the UI groups and filters an asset by: the dataset's group, its declared owners,
        and tags naming the dataset and the stage (ingest, quality, drift, model)."""
        return {"group_name": self.name, "owners": list(self.dataset.owners),
                "tags": {"dataset": self.name, "stage": stage}}

    def job_name(self, job: str) -> str:
        return f"{self.name}__{job}"

    @property
    def example(self) -> Example | None:
        """The generator of an example dataset whose source is generated."""
        generated = self.dataset.generated or (self.dataset.source is None
                                               and self.generated_default)
        return EXAMPLES.get(self.name) if generated else None

    @property
    def schema_hint(self) -> Schema:
        """The example's schema, or the declared roles with the kinds still to be inferred."""
        if self.example is not None:
            return self.example.schema
        d = self.dataset
        return Schema((), d.timestamp, d.id, tuple(d.labels), d.timestamp_format)

    @cached_property
    def partitions(self) -> MonthlyPartitionsDefinition:
        """Months from the declared start; a generated dataset's end with its data, a file's at
        its declared ``end``, anything else runs to the month in progress (kept as a partition,
        so the weekly schedule can check it)."""
        start = f"{self.dataset.start}-01"
        last = self.example.last_day if self.example is not None else (
            month_start(self.dataset.end) if self.dataset.end else None)
        if last is None:
            return MonthlyPartitionsDefinition(start_date=start, end_offset=1)
        # end_offset: the month that holds "now" is a partition while it is in progress (the
        # weekly schedule's), up to the last month with data
        return MonthlyPartitionsDefinition(start_date=start, end_offset=1,
                                           end_date=f"{next_month(month_start(last)):%Y-%m-%d}")

    def check_spec(self, name: str, stage: str, description: str, blocking: bool
                   ) -> AssetCheckSpec:
        """A check of the asset ``stage``, partitioned as the asset is: each month's result
        is that month's, shown by partition in the UI (its history and partition bar), rather
        than one check whose last month hides the others."""
        with warnings.catch_warnings():
            # preview in Dagster 1.13; the version is pinned, and without partitions a
            # backfill's months leave "skipped" evaluations beside their results
            warnings.simplefilter("ignore", PreviewWarning)
            return AssetCheckSpec(name, asset=self.key(stage), description=description,
                                  blocking=blocking, partitions_def=self.partitions)

    def source(self, resource: DataSource) -> DataSource:
        """Where the dataset's rows come from: its declared file, its example's generator
        (seeded as the resource is), or the resource (DRIFT_SOURCE) when it declares none."""
        d = self.dataset
        if d.source is not None and not d.generated:
            location = d.source
            if "://" not in location:  # a path, glob or {month} pattern: from the declaring file
                path = Path(location).expanduser()
                location = str(path if path.is_absolute() else Path(d.file).parent / path)
            # a declared table may hold many rows a day (sales, tickets): its id, when it has
            # one, is what must not repeat; one row a day is the bike table's rule
            return FileSource(location=location, unique_days=False)
        example = self.example
        if example is not None and isinstance(resource, GeneratedSource):
            return GeneratedSource(seed=resource.seed, rows_per_day=resource.rows_per_day,
                                   example=example.name)
        if example is not None and d.generated:
            return GeneratedSource(example=example.name)
        return resource

    def store(self, warehouse: Warehouse) -> DatasetWarehouse:
        """The dataset's part of the warehouse."""
        example = self.example
        return warehouse.dataset(self.name, example.schema if example is not None else None)

    def settings(self, settings: DriftSettings) -> DriftSettings:
        """The environment's settings with the dataset's declared keys over them."""
        d = self.dataset
        values = {name: getattr(settings, name) for name in DriftSettings.model_fields}
        declared = {"reference": d.reference, "thresholds": d.thresholds,
                    "drift_share": d.drift_share, "persistence": d.persistence,
                    "max_missing_share": d.missing_share,
                    "features": list(d.features) if d.features else None}
        values.update({k: v for k, v in declared.items() if v is not None})
        if not values["reference_months"]:
            values["reference_months"] = [d.start]
        values["reports_dir"] = str(Path(settings.reports_dir) / self.name)
        if settings.reports_url:
            values["reports_url"] = f"{settings.reports_url}/{self.name}"
        return DriftSettings(**values)

    def features(self, settings: DriftSettings, schema: Schema) -> list[str]:
        """The columns checked for drift and quality: the settings' (declared, or
        DRIFT_FEATURES), else every column but the timestamp, the key, the labels and the
        model's target; a named column the table does not have fails the run naming it."""
        if settings.features:
            absent = [c for c in settings.features if c not in schema.kinds]
            if absent:
                raise Failure(description=f"{self.dataset.file}, dataset {self.name!r}: no "
                              f"column {absent[0]!r} to monitor; the table has "
                              f"{', '.join(schema.names)}")
            return list(settings.features)
        model = self.dataset.model
        roles = {schema.timestamp, schema.key, *schema.labels, model.target if model else None}
        return [c for c in schema.names if c not in roles]

    def column_types(self, features: list[str]) -> dict[str, str] | None:
        """The declared categorical features as Evidently's "cat"; None: all inferred."""
        declared = self.dataset.categorical
        return {c: "cat" for c in declared if c in features} if declared else None

    def notifier(self, resource: Notifier) -> Notifier:
        """The notifier of the dataset: its declared Slack channel, else the resource's."""
        return resource.to_channel(self.dataset.slack_channel)

    @property
    def model_name(self) -> str:
        return self.name
