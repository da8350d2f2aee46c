"""Where the drift engine runs: in the asset's process, or on a Dask cluster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
from dagster import ConfigurableResource
from pydantic import Field


class DaskCluster(ConfigurableResource):
    """A Dask scheduler for months too large for one process; none: pandas in the process.

    On a cluster, ``data_quality_report``, ``reference_profile`` and ``drift_report`` read their
    months from the warehouse on the workers, a partition of days per task; the quality profile
    and every per-column test and effect size are computed over all rows and equal the
    in-process engine's. The relation between
    columns, the calibration resamples and the HTML report need rows in one process: they use a
    uniform sample of ``sample_rows`` rows of each side (the whole side when it is smaller).
    """

    scheduler: str = Field(default="", description="tcp://host:port of a Dask scheduler; "
                           "empty: the engine runs in the asset's process")
    sample_rows: int = Field(default=200_000, description="rows per side brought into the "
                             "process for the statistics that need rows")
    partition_rows: int = Field(default=1_000_000, description="rows per warehouse partition "
                                "a worker reads")

    @property
    def enabled(self) -> bool:
        return bool(self.scheduler)

    @contextmanager
    def client(self) -> Iterator:
        import dask
        from distributed import Client

        # The default client for the block: Dask's sort computes its divisions with it. Text
        # stays object, as in pandas, so both engines name a column's type alike.
        with dask.config.set({"dataframe.convert-string": False}), \
                Client(self.scheduler, timeout="30s") as client:
            yield client

    def sample(self, client, frame, rows: int) -> pd.DataFrame:
        """``frame`` whole when it has at most ``sample_rows`` rows, else a uniform sample of
        about that many, in the frame's order either way."""
        if rows > self.sample_rows:
            frame = frame.map_partitions(_keep, self.sample_rows / rows, meta=frame._meta)
        return client.compute(frame, sync=True).reset_index(drop=True)


def _keep(part: pd.DataFrame, share: float, partition_info=None) -> pd.DataFrame:
    """About ``share`` of the rows of a partition, in order (blocks of days stay blocks)."""
    seed = (partition_info or {}).get("number", 0)
    return part[np.random.default_rng(seed).random(len(part)) < share]
