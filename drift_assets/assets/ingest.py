"""Ingest: the reference table (the baseline) and each month's current data."""


from contextlib import contextmanager

import pandas as pd
from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue, asset

from drift_assets.lib.source import SourceError
from drift_assets.partitions import monthly_partitions
from drift_assets.resources import DataSource, DriftSettings, Warehouse

KINDS = {"pandas", "sql"}


@contextmanager
def _named_failure():
    """A bad file fails the asset naming the file, column and problem."""
    try:
        yield
    except SourceError as exc:
        raise Failure(
            description=str(exc),
            metadata={"file": exc.source, "column": exc.column or "", "problem": exc.problem},
        ) from exc


def _load(source: DataSource, month: str) -> pd.DataFrame:
    with _named_failure():
        return source.load_month(month)


def _summary(rows: int, days: list, head: pd.DataFrame) -> dict:
    return {
        "dagster/row_count": rows,
        "first_day": str(min(days)),
        "last_day": str(max(days)),
        "preview": MetadataValue.md(head.to_markdown(index=False)),
    }


def _frame_summary(frame: pd.DataFrame) -> dict:
    return _summary(len(frame), [frame["dteday"].min(), frame["dteday"].max()], frame.head(5))


@asset(group_name="ingest", kinds=KINDS)
def reference_table(
    source: DataSource, warehouse: Warehouse, settings: DriftSettings
) -> MaterializeResult:
    """The baseline the model was trained on: the configured reference months (default 2011-01),
    stored in the warehouse table `reference`, replacing what was there."""
    months = settings.reference_choice.months
    frame = pd.concat([_load(source, m) for m in months], ignore_index=True)
    warehouse.replace_reference(frame)
    return MaterializeResult(
        metadata={
            **_frame_summary(frame),
            "reference_months": ", ".join(months),
            "source": source.describe(),
        }
    )


@asset(group_name="ingest", kinds=KINDS, partitions_def=monthly_partitions)
def current_data(
    context: AssetExecutionContext, source: DataSource, warehouse: Warehouse
) -> MaterializeResult:
    """One month of production data, checked against the schema and written to the warehouse
    table `current`. Re-materializing a month replaces that month's rows in one transaction."""
    month = context.partition_key
    # the month is written chunk by chunk (a folder of Parquet files: one file at a time), so
    # the metadata is gathered on the way rather than from the whole frame
    stats = {"rows": 0, "labelled": 0, "days": [], "head": None}

    def chunks():
        for frame in source.iter_month(month):
            stats["rows"] += len(frame)
            stats["labelled"] += int(frame["cnt"].notna().sum())
            stats["days"] += [frame["dteday"].min(), frame["dteday"].max()]
            if stats["head"] is None:
                stats["head"] = frame.head(5)
            yield frame

    with _named_failure():
        warehouse.replace_month_chunks(month, chunks())
    return MaterializeResult(metadata={
        **_summary(stats["rows"], stats["days"], stats["head"]),
        "labelled_rows": stats["labelled"],
        "source": source.describe(),
    })
