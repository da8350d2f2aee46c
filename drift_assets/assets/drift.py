"""Drift: each month against the reference, with Evidently's DataDriftPreset semantics."""


from pathlib import Path

import pandas as pd
from dagster import (
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableRecord,
    TableSchema,
    asset,
)

from drift_assets.assets.ingest import current_data, reference_table
from drift_assets.assets.quality import data_quality_report
from drift_assets.engine import ReferenceProfile, build_profile, detect_drift, save_evidently_html
from drift_assets.history import materializations
from drift_assets.lib import charts
from drift_assets.lib.lifecycle import crossings
from drift_assets.lib.schema import month_label
from drift_assets.partitions import monthly_partitions
from drift_assets.resources import DriftSettings, Warehouse

COLUMN_TABLE = TableSchema(
    columns=[
        TableColumn("column", "string"),
        TableColumn("method", "string"),
        TableColumn("score", "float"),
        TableColumn("threshold", "float"),
        TableColumn("drifted", "bool"),
        TableColumn("psi", "float"),
        TableColumn("ks_statistic", "float"),
    ]
)

# One reference profile per reference version (the storage id of its materialization), so a
# backfill of many months in one process profiles the reference once.
_PROFILES: dict[tuple, ReferenceProfile] = {}


def _profile(key: tuple, reference: pd.DataFrame, features: list[str]) -> ReferenceProfile:
    if key not in _PROFILES:
        _PROFILES.clear()
        _PROFILES[key] = build_profile(reference, features)
    return _PROFILES[key]


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


@asset(
    group_name="drift",
    kinds={"evidently", "pandas"},
    partitions_def=monthly_partitions,
    deps=[reference_table, current_data, data_quality_report],
)
def drift_report(
    context: AssetExecutionContext, warehouse: Warehouse, settings: DriftSettings
) -> MaterializeResult:
    """Data drift of the month against the reference on the monitored features: per column the
    statistical test Evidently's DataDriftPreset would choose (K-S, chi-squared or Z for small
    references, normed Wasserstein or Jensen-Shannon for large ones), dataset drift when the
    drifted share reaches the threshold, PSI and the K-S statistic per numeric feature, and
    Evidently's HTML report of the month."""
    month = context.partition_key
    reference = warehouse.read_reference()
    current = warehouse.read_month(month)
    latest = context.instance.fetch_materializations(reference_table.key, limit=1).records
    version = (warehouse.url, latest[0].storage_id if latest else None, tuple(settings.features))
    result = detect_drift(
        _profile(version, reference, settings.features),
        current,
        settings.features,
        drift_share=settings.drift_share,
    )
    html = Path(settings.reports_dir) / f"drift_{month_label(month)}.html"
    html.parent.mkdir(parents=True, exist_ok=True)
    rendered = save_evidently_html(
        reference, current, settings.features, str(html), max_rows=settings.html_max_rows
    )
    rows = [
        TableRecord(
            {
                "column": c.column,
                "method": c.method,
                "score": round(c.score, 6),
                "threshold": c.threshold,
                "drifted": c.drifted,
                "psi": _number(c.psi),
                "ks_statistic": _number(c.ks_statistic),
            }
        )
        for c in result.columns
    ]
    shares = {
        record.asset_materialization.partition[:7]: float(
            record.asset_materialization.metadata["drift_share"].value)
        for record in materializations(context.instance, context.assets_def.key)
    }
    shares[month_label(month)] = float(result.share)
    chart = charts.drift_chart(shares, settings.drift_share,
                               crossings(shares, settings.drift_share),
                               Path(settings.reports_dir) / "drift_share.png")
    per_column = {}
    for c in result.columns:
        if c.psi is not None:
            per_column[f"psi/{c.column}"] = float(c.psi)
        if c.ks_statistic is not None:
            per_column[f"ks_statistic/{c.column}"] = float(c.ks_statistic)
    return MaterializeResult(
        metadata={
            "drift_detected": result.dataset_drift,
            "drift_share": float(result.share),
            "drift_share_threshold": settings.drift_share,
            "drifted_columns_count": result.drifted_count,
            "drifted_columns": ", ".join(result.drifted_columns),
            "columns": MetadataValue.table(rows, schema=COLUMN_TABLE),
            "skipped_columns": ", ".join(f"{k} ({v})" for k, v in result.skipped.items()),
            **per_column,
            "report": MetadataValue.path(str(html.resolve())),
            "report_sampled": bool(rendered["sampled"]),
            "drift_chart": MetadataValue.path(chart),
            "reference_rows": len(reference),
            "current_rows": len(current),
        }
    )
