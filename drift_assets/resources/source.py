"""Where monthly data comes from: the generator (offline default) or a real file or URL."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterator

import pandas as pd
from dagster import ConfigurableResource
from pydantic import Field

from drift_assets.lib import generator, source


class DataSource(ConfigurableResource, ABC):
    """Gives the rows of one month, conformed to the bike-sharing schema."""

    @abstractmethod
    def load_month(self, month: str | dt.date) -> pd.DataFrame: ...

    def iter_month(self, month: str | dt.date) -> Iterator[pd.DataFrame]:
        """The month in pieces, for months too large to hold at once; one piece by default."""
        yield self.load_month(month)

    @abstractmethod
    def describe(self) -> str:
        """A short human name of the source for metadata."""


class GeneratedSource(DataSource):
    """Realistic generated data, deterministic for the seed."""

    seed: int = 0
    rows_per_day: int = Field(default=1, description="rows a day (stations or hours); 1 = daily")

    def load_month(self, month: str | dt.date) -> pd.DataFrame:
        frame = generator.generate_month(month, seed=self.seed, rows_per_day=self.rows_per_day)
        return source.conform(frame, self.describe(), unique_days=self.rows_per_day == 1)

    def describe(self) -> str:
        return f"generated (seed {self.seed}, {self.rows_per_day} row(s) a day)"


class FileSource(DataSource):
    """A CSV or Parquet table at a path or URL, or a folder or glob of Parquet files;
    '{month}' in it names one file (or folder) a month."""

    location: str = Field(description="path or URL of a CSV or Parquet file")
    unique_days: bool = Field(default=True, description="one row a day: a repeated day is an error")
    download_deadline: float = Field(default=source.DOWNLOAD_DEADLINE,
                                     description="seconds a download of a URL may take in all")

    def load_month(self, month: str | dt.date) -> pd.DataFrame:
        return source.load_month(self.location, month, unique_days=self.unique_days,
                                 deadline=self.download_deadline)

    def iter_month(self, month: str | dt.date) -> Iterator[pd.DataFrame]:
        """The month in chunks: a CSV file a chunk of rows at a time, Parquet by file or batch."""
        return source.iter_month(self.location, month, unique_days=self.unique_days,
                                 deadline=self.download_deadline)

    def describe(self) -> str:
        return self.location
