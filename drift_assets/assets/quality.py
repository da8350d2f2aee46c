"""Quality: a per-column profile of each month and the rules, reported as asset checks."""


from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset,
)

from drift_assets.assets.ingest import current_data, reference_table
from drift_assets.lib import quality
from drift_assets.lib.history import MonthHistory, QualityFinding, QualityRecord
from drift_assets.lib.months import month_label
from drift_assets.partitions import monthly_partitions
from drift_assets.resources import DaskCluster, DriftSettings, Warehouse

_SEVERITY = {quality.ERROR: AssetCheckSeverity.ERROR, quality.WARN: AssetCheckSeverity.WARN}
# ERROR rules block: a month with a broken column does not reach the drift check.
CHECK_SPECS = [
    AssetCheckSpec(rule, asset="data_quality_report", description=meaning,
                   blocking=severity == quality.ERROR)
    for rule, (severity, meaning) in quality.RULES.items()
]


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


@asset(
    group_name="quality",
    kinds={"pandas"},
    partitions_def=monthly_partitions,
    deps=[reference_table, current_data],
    check_specs=CHECK_SPECS,
)
def data_quality_report(
    context: AssetExecutionContext, warehouse: Warehouse, settings: DriftSettings,
    cluster: DaskCluster,
) -> MaterializeResult:
    """Per column of the month: rows, type, missing count and share, distinct values, mean, std,
    min, max and the share outside the reference's range; and the rules (missing share,
    stuck sensors, constant codes, schema and type changes, values outside the reference range)
    on the monitored features, and values no sensor or counter can produce on every column, as
    asset checks; the verdict is appended to the warehouse table
    quality_history, which the sensor and `drift-assets history` read. With a Dask scheduler
    the profiles are Dask's reductions on the workers, which read the warehouse themselves."""
    limits = dict(max_missing_share=settings.max_missing_share,
                  max_out_of_range_share=settings.max_out_of_range_share)
    if not cluster.enabled:
        report = quality.assess(warehouse.read_month(context.partition_key),
                                warehouse.read_reference(), settings.features, **limits)
    else:
        with cluster.client() as client:
            month, _ = warehouse.dask_window([month_label(context.partition_key)],
                                             cluster.partition_rows)
            reference, _ = warehouse.dask_window(None, cluster.partition_rows)
            ref_profile = quality.profile_on_cluster(reference, client)
            cur_profile = quality.profile_on_cluster(month, client,
                                                     quality.reference_bounds(ref_profile))
        report = quality.apply_rules(cur_profile, ref_profile, settings.features, **limits)
    MonthHistory(warehouse.engine).record_quality(QualityRecord(
        month=month_label(context.partition_key), passed=report.passed, run_id=context.run.run_id,
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
