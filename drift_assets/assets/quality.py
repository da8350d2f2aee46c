"""Quality: a per-column profile of each month and the rules, reported as asset checks."""


import numpy as np
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from drift_assets.lib import quality
from drift_assets.lib.history import MonthHistory, QualityFinding, QualityRecord
from drift_assets.lib.months import month_label
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
                metadata={"columns": ", ".join(f.column for f in found), "findings": len(found)},
            )
        )
    return results


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
    specs = [AssetCheckSpec(rule, asset=key, description=meaning,
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
        std, min, max and the share outside the reference's range; and the rules (missing
        share, stuck sensors, constant codes, schema and type changes, values outside the
        reference range, the declared allowed values and bounds) on the monitored features, and
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
        if not cluster.enabled:
            report = quality.assess(store.read_month(month), store.read_reference(), features,
                                    allowed=allowed, **limits)
        else:
            with cluster.client() as client:
                month_frame, _ = store.dask_window([month], cluster.partition_rows)
                reference, _ = store.dask_window(None, cluster.partition_rows)
                ref_profile = quality.profile_on_cluster(reference, client)
                cur_profile = quality.profile_on_cluster(month_frame, client,
                                                         quality.reference_bounds(ref_profile))
            report = quality.apply_rules(cur_profile, ref_profile, features, **limits)
        MonthHistory(store.engine).record_quality(QualityRecord(
            month=month, passed=report.passed, run_id=context.run.run_id,
            findings=[QualityFinding(f.rule, f.column, f.severity, f.message)
                      for f in report.findings]))
        table = report.profile.round(4).to_markdown(index=False)
        return MaterializeResult(
            metadata={
                "passed": report.passed,
                "findings": len(report.findings),
                "summary": report.summary(),
                "errors": "; ".join(f.message for f in report.findings
                                    if f.severity == quality.ERROR),
                "profile": MetadataValue.md(table),
                "max_missing_share": float(report.profile["missing_share"].max()),
            },
            check_results=check_results(report),
        )

    return data_quality_report
