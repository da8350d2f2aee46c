"""Ingest: the reference table (the baseline) and each month's current data."""


from contextlib import contextmanager

import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableRecord,
    TableSchema,
    asset,
)

from drift_assets.lib.source import SourceError
from drift_assets.monitored import Monitored
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
            metadata={"file": exc.source, "problem": exc.problem,
                      **({"column": exc.column} if exc.column else {})},
        ) from exc


def _table(frame: pd.DataFrame) -> MetadataValue:
    """A small frame as a table in the UI: numbers as numbers (NaN an empty cell), the rest as
    text."""
    kinds = {c: "int" if pd.api.types.is_integer_dtype(t) else
             "float" if pd.api.types.is_float_dtype(t) else "string"
             for c, t in frame.dtypes.items()}
    cast = {"int": int, "float": float, "string": str}
    records = [TableRecord({c: None if pd.isna(v) else cast[kinds[c]](v)
                            for c, v in row.items()}) for row in frame.to_dict("records")]
    return MetadataValue.table(records, schema=TableSchema(
        columns=[TableColumn(str(c), k) for c, k in kinds.items()]))


def _summary(rows: int, days: list, head: pd.DataFrame) -> dict:
    return {
        "dagster/row_count": rows,
        "first_day": str(min(days)),
        "last_day": str(max(days)),
        "preview": _table(head),
    }


def _frame_summary(frame: pd.DataFrame, time: str) -> dict:
    return _summary(len(frame), [frame[time].min(), frame[time].max()], frame.head(5))


def build_ingest_assets(monitored: Monitored) -> list[AssetsDefinition]:
    """``reference_table`` and ``current_data`` of one dataset."""

    @asset(name="reference_table", key_prefix=monitored.name, kinds=KINDS,
           **monitored.labels("ingest"))
    def reference_table(source: DataSource, warehouse: Warehouse, settings: DriftSettings
                        ) -> MaterializeResult:
        """The baseline the model was trained on: the configured reference months (default
        the dataset's first month), stored in the dataset's warehouse table `reference`,
        replacing what was there. A declared table's column kinds are inferred from it, and
        every later month is held to them."""
        months = monitored.settings(settings).reference_choice.months
        source = monitored.source(source)
        store = monitored.store(warehouse)
        with _named_failure():
            schema, frame = source.load_inferred(months, monitored.schema_hint)
        try:
            store.save_schema(schema)
        except ValueError as exc:
            raise Failure(description=str(exc)) from exc
        store.replace_reference(frame)
        return MaterializeResult(
            metadata={
                **_frame_summary(frame, schema.timestamp),
                "reference_months": ", ".join(months),
                "source": source.describe(),
                "columns": _table(pd.DataFrame(list(schema.columns),
                                               columns=["column", "kind"])),
            }
        )

    @asset(name="current_data", key_prefix=monitored.name, kinds=KINDS,
           partitions_def=monitored.partitions, deps=[reference_table],
           **monitored.labels("ingest"))
    def current_data(context: AssetExecutionContext, source: DataSource, warehouse: Warehouse
                     ) -> MaterializeResult:
        """One month of production data, checked against the dataset's schema and written to
        its warehouse table `current`. Re-materializing a month replaces that month's rows in
        one transaction."""
        month = context.partition_key
        source = monitored.source(source)
        store = monitored.store(warehouse)
        schema = store.schema
        labels = list(schema.labels)
        # the month is written chunk by chunk (a folder of Parquet files: one file at a time),
        # so the metadata is gathered on the way rather than from the whole frame
        stats = {"rows": 0, "labelled": 0, "days": [], "head": None}

        def chunks():
            for frame in source.iter_month(month, schema):
                stats["rows"] += len(frame)
                if labels:
                    stats["labelled"] += int(frame[labels].notna().all(axis=1).sum())
                stats["days"] += [frame[schema.timestamp].min(), frame[schema.timestamp].max()]
                if stats["head"] is None:
                    stats["head"] = frame.head(5)
                yield frame

        with _named_failure():
            store.replace_month_chunks(month, chunks())
        return MaterializeResult(metadata={
            **_summary(stats["rows"], stats["days"], stats["head"]),
            "labelled_rows": stats["labelled"],
            "source": source.describe(),
        })

    return [reference_table, current_data]
