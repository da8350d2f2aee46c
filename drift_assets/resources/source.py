"""Where monthly data comes from: the generator (offline default) or a real file or URL."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterator

import pandas as pd
from dagster import ConfigurableResource
from pydantic import Field

from drift_assets.lib import source
from drift_assets.lib.schema import Schema, SchemaError, infer_schema


class DataSource(ConfigurableResource, ABC):
    """Gives the rows of one month, conformed to the table's schema."""

    @abstractmethod
    def load_month(self, month: str | dt.date, schema: Schema) -> pd.DataFrame: ...

    def iter_month(self, month: str | dt.date, schema: Schema) -> Iterator[pd.DataFrame]:
        """The month in pieces, for months too large to hold at once; one piece by default."""
        yield self.load_month(month, schema)

    @abstractmethod
    def load_inferred(self, months: list[str], hint: Schema) -> tuple[Schema, pd.DataFrame]:
        """Months of a table whose kinds are not known yet: ``hint``'s roles with the kinds
        inferred from the rows of all the months, and the rows conformed to them."""

    @abstractmethod
    def describe(self) -> str:
        """A short human name of the source for metadata."""


class GeneratedSource(DataSource):
    """Realistic generated data of an example table (lib.examples: the bike-sharing table by
    default, or the support tickets), deterministic for the seed."""

    seed: int = 0
    rows_per_day: int = Field(default=1, description="scale: rows a day for the bike table "
                              "(stations or hours; 1 = daily), 40 tickets a day times this "
                              "for the tickets")
    example: str = Field(default="bike_sharing", description="which example table to generate")

    def _generated(self, months: list[str | dt.date]) -> pd.DataFrame:
        from drift_assets.lib.examples import EXAMPLES

        generate = EXAMPLES[self.example].generate
        frames = [generate(m, self.seed, self.rows_per_day) for m in months]
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    @property
    def _unique_days(self) -> bool:
        from drift_assets.lib.examples import EXAMPLES

        return EXAMPLES[self.example].unique_days(self.rows_per_day)

    def load_month(self, month: str | dt.date, schema: Schema) -> pd.DataFrame:
        return source.conform(self._generated([month]), self.describe(), schema,
                              unique_days=self._unique_days)

    def load_inferred(self, months: list[str], hint: Schema) -> tuple[Schema, pd.DataFrame]:
        if not months:
            raise ValueError("no months to load")
        frame = self._generated(months)
        schema = hint
        if not hint.known:
            try:
                schema = infer_schema(frame, hint)
            except SchemaError as exc:  # the generator's columns do not hold the hint's roles
                raise source.SourceError(self.describe(), exc.problem, exc.column) from exc
        return schema, source.conform(frame, self.describe(), schema,
                                      unique_days=self._unique_days)

    def describe(self) -> str:
        scale = f"{self.rows_per_day} row(s) a day" if self.example == "bike_sharing" else \
            f"scale {self.rows_per_day}"
        return f"generated {self.example} (seed {self.seed}, {scale})"


class FileSource(DataSource):
    """A CSV or Parquet table at a path or URL, or a folder or glob of Parquet files;
    '{month}' in it names one file (or folder) a month."""

    location: str = Field(description="path or URL of a CSV or Parquet file")
    unique_days: bool = Field(default=True, description="one row a day: a repeated day is an error")
    download_deadline: float = Field(default=source.DOWNLOAD_DEADLINE,
                                     description="seconds a download of a URL may take in all")

    def load_month(self, month: str | dt.date, schema: Schema) -> pd.DataFrame:
        return source.load_month(self.location, month, schema, unique_days=self.unique_days,
                                 deadline=self.download_deadline)

    def iter_month(self, month: str | dt.date, schema: Schema) -> Iterator[pd.DataFrame]:
        """The month in chunks: a CSV file a chunk of rows at a time, Parquet by file or batch."""
        return source.iter_month(self.location, month, schema, unique_days=self.unique_days,
                                 deadline=self.download_deadline)

    def load_inferred(self, months: list[str], hint: Schema) -> tuple[Schema, pd.DataFrame]:
        return source.load_inferred(self.location, months, hint, unique_days=self.unique_days,
                                    deadline=self.download_deadline)

    def describe(self) -> str:
        return self.location
