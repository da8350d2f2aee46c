"""Quality: a per-column profile of each month and the rules, reported as asset checks."""


import numpy as np
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableRecord,
    TableSchema,
    asset,
)

from drift_assets.lib import quality
from drift_assets.lib.history import MonthHistory, QualityColumn, QualityFinding, QualityRecord
from drift_assets.lib.months import month_label
from drift_assets.lib.numbers import figure
from drift_assets.lib.schema import BIKE, Schema
from drift_assets.monitored import Monitored
from drift_assets.resources import DaskCluster, DriftSettings, Warehouse

_SEVERITY = {quality.ERROR: AssetCheckSeverity.ERROR, quality.WARN: AssetCheckSeverity.WARN}


def check_results(report: quality.QualityReport) -> list[AssetCheckResult]:
    """One result per rule, naming every column that broke it."""
    results = []
    for rule, (severity, _) in quality.RULES.items():
        found = report.findings_for(rule)
        results.append(
            AssetCheckResult(
                check_name=rule,
                passed=not found,
                severity=_SEVERITY[severity],
                description="; ".join(f.message for f in found) or "no findings",
                metadata={"findings": len(found),
                          **({"columns": ", ".join(f.column for f in found)} if found else {})},
            )
        )
    return results


PROFILE_TABLE = TableSchema(columns=[
    TableColumn("column", "string"),
    TableColumn("type", "string"),
    TableColumn("rows", "int"),
    TableColumn("missing", "int"),
    TableColumn("missing share", "float"),
    TableColumn("distinct", "int"),
    TableColumn("mean", "float"),
    TableColumn("std", "float"),
    TableColumn("min", "float"),
    TableColumn("max", "float"),
    TableColumn("outside seen range", "float",
                description="share of the values outside every value seen before"),
])


def _columns(report: quality.QualityReport) -> list[QualityColumn]:
    """Each column's missing share and range, which the history keeps for later months."""
    return [QualityColumn(r.column, float(r.missing_share),
                          None if r.min != r.min else float(r.min),  # NaN: no number
                          None if r.max != r.max else float(r.max))
            for r in report.profile.itertuples()]


def quality_metadata(report: quality.QualityReport) -> dict:
    """What a person reads of a month's quality: the verdict, the findings, and the profile
    as a table (figures to four significant digits; an empty cell where a figure does not
    apply, such as the mean of a text column)."""
    rows = [TableRecord({
        "column": r["column"], "type": r["dtype"], "rows": int(r["rows"]),
        "missing": int(r["missing"]), "missing share": figure(r["missing_share"]),
        "distinct": int(r["unique"]), "mean": figure(r["mean"]), "std": figure(r["std"]),
        "min": figure(r["min"]), "max": figure(r["max"]),
        "outside seen range": figure(r.get("outside_share")),
    }) for r in report.profile.to_dict("records")]
    metadata = {
        "passed": report.passed,
        "findings": len(report.findings),
        "summary": report.summary(),
        "profile": MetadataValue.table(rows, schema=PROFILE_TABLE),
        "max_missing_share": figure(float(report.profile["missing_share"].max())),
    }
    errors = "; ".join(f.message for f in report.findings if f.severity == quality.ERROR)
    if errors:
        metadata["errors"] = errors
    return metadata


def rule_limits(monitored: Monitored, schema: Schema) -> dict:
    """The dataset's bounds for the impossible_values rule and its per-column missing shares:
    the example's physical ranges (bike) and the declared min/max of each column; measurements
    (float columns) and numeric labels are also held to the reference's range."""
    example = monitored.example
    possible = dict(quality.POSSIBLE_RANGES) if example is not None and \
        example.schema == BIKE else {}
    rules = monitored.dataset.columns
    for column, rule in rules.items():
        if rule.min is not None or rule.max is not None:
            low, high = possible.get(column, (-np.inf, np.inf))
            possible[column] = (low if rule.min is None else rule.min,
                                high if rule.max is None else rule.max)
    held = [c for c, k in schema.columns
            if k == "float" or (c in schema.labels and k == "int")]
    missing = {c: r.missing_share for c, r in rules.items() if r.missing_share is not None}
    return {"possible": possible, "held": held, "missing_shares": missing}


def build_quality_asset(monitored: Monitored) -> AssetsDefinition:
    """``data_quality_report`` of one dataset, with its rules as asset checks."""
    key = monitored.key("data_quality_report")
    # ERROR rules block: a month with a broken column does not reach the drift check.
    specs = [monitored.check_spec(rule, "data_quality_report", description=meaning,
                                  blocking=severity == quality.ERROR)
             for rule, (severity, meaning) in quality.RULES.items()]

    @asset(
        key=key,
        **monitored.labels("quality"),
        kinds={"pandas"},
        partitions_def=monitored.partitions,
        deps=[monitored.key("reference_table"), monitored.key("current_data")],
        check_specs=specs,
    )
    def data_quality_report(
        context: AssetExecutionContext, warehouse: Warehouse, settings: DriftSettings,
        cluster: DaskCluster,
    ) -> MaterializeResult:
        """Per column of the month: rows, type, missing count and share, distinct values, mean,
        std, min, max and the share outside every value seen before (the reference's and
        the earlier months' range); and the rules (missing
        share, stuck sensors, constant codes, schema and type changes, values outside the
        range seen before, the declared allowed values and bounds) on the monitored features, and
        values no sensor or counter can produce on every column, as asset checks; the verdict is
        appended to the dataset's quality history, which the sensor and `drift-assets history`
        read. With a Dask scheduler the profiles are Dask's reductions on the workers, which
        read the warehouse themselves (declared allowed values are then not checked)."""
        settings = monitored.settings(settings)
        store = monitored.store(warehouse)
        features = monitored.features(settings, store.schema)
        limits = dict(max_missing_share=settings.max_missing_share,
                      max_out_of_range_share=settings.max_out_of_range_share,
                      **rule_limits(monitored, store.schema))
        allowed = {c: r.allowed for c, r in monitored.dataset.columns.items() if r.allowed}
        month = month_label(context.partition_key)
        history = MonthHistory(store.engine)
        seen = history.seen_ranges(before=month)
        if not cluster.enabled:
            report = quality.assess(store.read_month(month), store.read_reference(), features,
                                    allowed=allowed, seen=seen, **limits)
        else:
            with cluster.client() as client:
                month_frame, _ = store.dask_window([month], cluster.partition_rows)
                reference, _ = store.dask_window(None, cluster.partition_rows)
                ref_profile = quality.profile_on_cluster(reference, client)
                bounds = quality.widen(quality.reference_bounds(ref_profile), seen)
                cur_profile = quality.profile_on_cluster(month_frame, client, bounds)
            report = quality.apply_rules(cur_profile, ref_profile, features, bounds=bounds,
                                         **limits)
        history.record_quality(QualityRecord(
            month=month, passed=report.passed, run_id=context.run.run_id,
            findings=[QualityFinding(f.rule, f.column, f.severity, f.message)
                      for f in report.findings],
            columns=_columns(report)))
        return MaterializeResult(metadata=quality_metadata(report),
                                 check_results=check_results(report))

    return data_quality_report
