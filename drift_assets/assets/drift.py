"""Drift: each month against its declared reference, with Evidently's DataDriftPreset semantics.

``reference_profile`` decides, for every month, the window it is compared against (fixed,
rolling or seasonal) and holds the engine's profile of it, fed by Dagster partition mappings so
that lineage shows which months each check used; ``drift_report`` tests the month against that
window and appends the verdict to the month history (:mod:`drift_assets.lib.history`), from which
its metadata is rendered.
"""

import hashlib
import warnings

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetDep,
    AssetExecutionContext,
    AssetRecordsFilter,
    AssetsDefinition,
    BetaWarning,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableRecord,
    TableSchema,
    TimeWindowPartitionMapping,
    asset,
)

from drift_assets.engine import build_profile, save_evidently_html
from drift_assets.engine.calibration import METHOD_VERSION, calibrate
from drift_assets.engine.distributed import infer_column_types
from drift_assets.engine.verdict import Verdict, judge, judge_on_cluster
from drift_assets.lib import charts
from drift_assets.lib.history import ColumnVerdict, DriftRecord, MonthHistory, RelationRecord
from drift_assets.lib.months import month_label, partition_key
from drift_assets.lib.numbers import figure
from drift_assets.lib.profiles import ProfileStore
from drift_assets.lib.reference import ReferenceChoice, ReferenceWindow
from drift_assets.lib.reports import ReportsFolder
from drift_assets.monitored import Monitored
from drift_assets.resources import DaskCluster, DriftSettings, Warehouse
from drift_assets.resources.warehouse import DatasetWarehouse

COLUMN_TABLE = TableSchema(
    columns=[
        TableColumn("column", "string"),
        TableColumn("method", "string", description="the test, or the calibrated effect size"),
        TableColumn("score", "float"),
        TableColumn("threshold", "float"),
        TableColumn("drifts when", "string", description="a p-value drifts below its threshold; "
                    "a distance or an effect above it"),
        TableColumn("drifted", "bool"),
        TableColumn("moved with", "string", description="its twin, when a drift was cleared as "
                    "weather: both moved and their relation held"),
        TableColumn("psi", "float"),
        TableColumn("ks_statistic", "float"),
    ]
)


def settings_version(settings: DriftSettings, *fields: str) -> str:
    """A code version that changes when any of the named settings changes, so the UI marks the
    history computed under the old settings as stale."""
    text = "|".join(f"{f}={getattr(settings, f)!r}" for f in fields)
    if settings.thresholds == "calibrated":  # and when the calibrated method changes
        text += f"|method={METHOD_VERSION}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


PROFILE_FIELDS = ("reference", "reference_months", "features", "thresholds", "min_effect",
                  "calibration_quantile")
REPORT_FIELDS = PROFILE_FIELDS + ("drift_share", "fdr")


# --- reference_profile ---

def _data_versions(context, monitored: Monitored, months: list[str] | None) -> list[int]:
    """Storage ids of the newest materializations the window was built from (the reference
    table, or the months of ``current_data``): a re-loaded month makes a new profile."""
    if months is None:
        records = context.instance.fetch_materializations(monitored.key("reference_table"),
                                                          limit=1).records
        return [r.storage_id for r in records]
    keys = [partition_key(m) for m in months]
    records = context.instance.fetch_materializations(
        AssetRecordsFilter(asset_key=monitored.key("current_data"), asset_partitions=keys),
        limit=len(keys) * 50).records
    latest = {}
    for record in records:  # newest first
        latest.setdefault(record.asset_materialization.partition, record.storage_id)
    return sorted(latest.values())


def choose_window(warehouse: DatasetWarehouse, choice: ReferenceChoice, month: str
                  ) -> ReferenceWindow:
    """The months ``month`` is compared against, decided once for the month.

    Months of a rolling or seasonal window that are not in the warehouse yet, or that raised an
    alert (drift against their own window, or failed quality), are left out, so a fault does
    not echo a year later; with none of them, the fixed reference table stands in."""
    loaded = warehouse.month_counts()
    alerted = MonthHistory(warehouse.engine).alerted_months()
    months = choice.window(month, lambda m: m in loaded and m < month and m not in alerted)
    if months:
        return ReferenceWindow(choice.describe(), months)
    return ReferenceWindow(choice.describe(), None,
                           fallback=choice.months if choice.kind != "fixed" else ())


def profile_window(context: AssetExecutionContext, monitored: Monitored,
                   warehouse: DatasetWarehouse, settings: DriftSettings, cluster: DaskCluster
                   ) -> MaterializeResult:
    """The body of ``reference_profile``: choose the month's window, profile it (or reuse the
    stored profile of the same window and data), and record the month's assignment."""
    choice = settings.reference_choice
    month = month_label(context.partition_key)
    window = choose_window(warehouse, choice, month)
    # On a cluster the profile is the column types only: the workers summarise the window for
    # each check, so a profile held in one process would not be used.
    key = hashlib.sha256(
        f"{window}|{_data_versions(context, monitored, window.months)}|"
        f"{settings_version(settings, *PROFILE_FIELDS)}|{cluster.enabled}".encode()
    ).hexdigest()[:40]
    store = ProfileStore(warehouse.engine)
    reused = store.has(key)
    # a stored profile is unpickled only when reused: a new one is at hand
    profile = store.get(key) if reused else \
        _profile(monitored, warehouse, settings, cluster, choice, month, window.months)
    if not reused:
        store.put(key, profile)
    store.assign(month, key, window)
    return MaterializeResult(metadata={
        "reference_window": window.describe(),
        "reference_rows": profile["rows"],
        "reused": reused,
        "profile_key": key,
    })


def _profile(monitored: Monitored, warehouse: DatasetWarehouse, settings: DriftSettings,
             cluster: DaskCluster, choice: ReferenceChoice, month: str,
             months: list[str] | None) -> dict:
    """The stored profile of a window: the engine's summaries, the column types, the calibrated
    thresholds (when enabled) and the row count."""
    features = monitored.features(settings, warehouse.schema)
    declared = monitored.column_types(features) or {}
    if cluster.enabled:
        with cluster.client() as client:
            window_frame, rows = warehouse.dask_window(months, cluster.partition_rows)
            types = {**infer_column_types(window_frame, features, client=client), **declared}
            frame = cluster.sample(client, window_frame, rows) \
                if settings.thresholds == "calibrated" else None
        profile = None
    else:
        frame = warehouse.read_window(months)
        rows = len(frame)
        profile = build_profile(frame, features, declared or None)
        types = profile.column_types
    thresholds = {}
    if settings.thresholds == "calibrated":
        months_in_window = max(len(choice.window(month)) or len(choice.months), 1)
        thresholds = calibrate(frame, types, sample_rows=rows // months_in_window,
                               quantile=settings.calibration_quantile,
                               min_effect=settings.min_effect)
    return {"profile": profile, "column_types": types, "thresholds": thresholds, "rows": rows}


# --- drift_report ---

def test_month(context: AssetExecutionContext, monitored: Monitored,
               warehouse: DatasetWarehouse, settings: DriftSettings, cluster: DaskCluster
               ) -> MaterializeResult:
    """The body of ``drift_report``: the month against the window ``reference_profile`` chose
    for it, recorded in the month history and rendered for the UI."""
    month = month_label(context.partition_key)
    features = monitored.features(settings, warehouse.schema)
    history = MonthHistory(warehouse.engine)
    stored, window = ProfileStore(warehouse.engine).for_month(month)
    calibrated = settings.thresholds == "calibrated"
    # Against its declared window one calibrated column is an alert; against the fixed stand-in
    # of a window without data (a first seasonal year) the share decides, as the stand-in is
    # another season.
    options = dict(
        calibrated_thresholds=stored["thresholds"] if calibrated else None,
        history=history.alike_effects(before=month) if calibrated else None,
        quantile=settings.calibration_quantile, fdr=settings.fdr,
        any_column=calibrated and not window.fallback,
    )
    if not cluster.enabled:
        reference, current = warehouse.read_window(window.months), warehouse.read_month(month)
        # a profile made on a cluster holds no summaries: build them here
        profile = stored["profile"] or build_profile(reference, features,
                                                     stored["column_types"])
        verdict = judge(profile, reference, current, features, settings.drift_share,
                        **options)
        rows = len(reference), len(current)
    else:
        with cluster.client() as client:
            reference_frame, reference_rows = warehouse.dask_window(window.months,
                                                                    cluster.partition_rows)
            current_frame, current_rows = warehouse.dask_window([month], cluster.partition_rows)
            reference = cluster.sample(client, reference_frame, reference_rows)
            current = cluster.sample(client, current_frame, current_rows)
            verdict = judge_on_cluster(
                client, reference_frame, current_frame, features,
                stored["column_types"], settings.drift_share, samples=(reference, current),
                **options)
        rows = reference_rows, current_rows
    folder = ReportsFolder(settings.reports_dir, settings.reports_url)
    rendered = save_evidently_html(reference, current, features,
                                   str(folder.evidently_page(month)),
                                   max_rows=settings.html_max_rows)
    record = history.record_drift(_record(month, window, settings, verdict, rows,
                                          folder.link(folder.month_page(month)),
                                          context.run.run_id))
    summary = folder.publish(monitored.name, history, settings.drift_share,
                             settings.max_missing_share, record=record,
                             sampled=bool(rendered["sampled"]))
    return MaterializeResult(metadata={
        **drift_metadata(record),
        "all_months": MetadataValue.url(summary) if settings.reports_url else
        MetadataValue.path(summary),
        "drift_over_time": MetadataValue.md(charts.markdown_image(
            folder.chart("drift_share"), "drift share per month")),
    }, check_results=[drift_check(record)])


DRIFT_CHECK = "drift"


def drift_check(record: DriftRecord) -> AssetCheckResult:
    """The month's verdict as a WARN check, so that a drifted month shows on the graph, the
    catalog and the run, not only in the metadata; it never blocks (drift is news, not a broken
    month)."""
    causes = "; ".join(record.cause_details) if record.drift else ""
    return AssetCheckResult(
        check_name=DRIFT_CHECK, passed=not record.drift, severity=AssetCheckSeverity.WARN,
        description=(f"drift against {record.describe_window()}: share {record.share:.2f} "
                     f">= {record.share_threshold:.2f}; {causes}" if record.drift else
                     f"no drift against {record.describe_window()}: share {record.share:.2f}"),
        metadata={"drift_share": figure(record.share),
                  **({"columns": ", ".join(record.causes)} if record.causes else {})})


def _record(month: str, window: ReferenceWindow, settings: DriftSettings, verdict: Verdict,
            rows: tuple[int, int], report: str, run_id: str) -> DriftRecord:
    """The month's verdict as the record the history keeps."""
    result, relations = verdict.result, verdict.relations
    return DriftRecord(
        month=month, window=window.months or [], reference=window.reference,
        fallback=list(window.fallback), thresholds=settings.thresholds,
        method_version=METHOD_VERSION, drift=verdict.drift, share=float(result.share),
        share_threshold=settings.drift_share,
        columns=[ColumnVerdict(
            column=c.column, column_type=c.column_type, method=c.method, score=float(c.score),
            threshold=float(c.threshold), drifted=bool(c.drifted), category=c.category,
            moved_with=c.moved_with, psi=_number(c.psi), ks_statistic=_number(c.ks_statistic))
            for c in result.columns],
        effects={k: float(v) for k, v in verdict.effects.items() if not pd.isna(v)},
        relations=None if relations is None else RelationRecord(
            error=relations.error, threshold=relations.upper, broken=relations.drifted,
            columns=list(relations.columns), shifts=dict(relations.shifts),
            partners=dict(relations.partners)),
        skipped=dict(result.skipped), reference_rows=rows[0], current_rows=rows[1],
        report=report, run_id=run_id,
    )


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def drift_metadata(record: DriftRecord) -> dict:
    """What a person reads of a month's verdict in the UI, rendered from its record; the
    numbers per column plot over the months on the asset's Plots tab."""
    rows = [TableRecord({
        "column": f"{c.column}={c.category}" if c.category else c.column,
        "method": c.method, "score": figure(c.score), "threshold": figure(c.threshold),
        "drifts when": "below" if c.p_value else "above", "drifted": c.drifted,
        "moved with": c.moved_with or "", "psi": figure(c.psi),
        "ks_statistic": figure(c.ks_statistic),
    }) for c in record.columns]
    link = record.report
    metadata = {
        # first, so that the month's page is the first thing under the materialization
        "report": MetadataValue.url(link) if link.startswith(("http://", "https://")) else
        MetadataValue.path(link),
        "drift_detected": record.drift,
        "drift_share": figure(record.share),
        "drift_share_threshold": record.share_threshold,
        "drifted_columns_count": len(record.drifted),
        "drifted_columns": ", ".join(record.causes) or "none",
        "reference_window": record.describe_window(),
        "thresholds": record.thresholds,
        "columns": MetadataValue.table(rows, schema=COLUMN_TABLE),
        **{f"effect/{k}": figure(v) for k, v in record.effects.items()},
        **{f"psi/{c.column}": figure(c.psi) for c in record.columns if c.psi is not None},
        **{f"ks_statistic/{c.column}": figure(c.ks_statistic) for c in record.columns
           if c.ks_statistic is not None},
        "reference_rows": record.reference_rows,
        "current_rows": record.current_rows,
        "history_record": record.id,
    }
    if record.skipped:
        metadata["skipped_columns"] = ", ".join(f"{k} ({v})" for k, v in record.skipped.items())
    if record.relations is not None:
        metadata.update({
            "relations/error": figure(record.relations.error),
            "relations/threshold": figure(record.relations.threshold),
            "relations/drift": record.relations.broken,
        })
        if record.relations.broken:
            metadata["relations/columns"] = ", ".join(record.relations.columns)
    return metadata


def build_drift_assets(monitored: Monitored, settings: DriftSettings) -> list[AssetsDefinition]:
    """``reference_profile`` and ``drift_report`` of one dataset for its reference choice: the
    choice decides the partition mapping (lineage) and the settings the code versions."""
    settings = monitored.settings(settings)
    choice = settings.reference_choice
    deps = [AssetDep(monitored.key("reference_table"))]
    if choice.offsets:
        start, end = choice.offsets
        with warnings.catch_warnings():
            # the month before a dataset's first has no partition: a window reaching back
            # there is the reason for the option, not a problem to warn every load about
            warnings.simplefilter("ignore", BetaWarning)
            mapping = TimeWindowPartitionMapping(start_offset=start, end_offset=end,
                                                 allow_nonexistent_upstream_partitions=True)
        deps.append(AssetDep(monitored.key("current_data"), partition_mapping=mapping))

    @asset(
        key=monitored.key("reference_profile"),
        **monitored.labels("drift"),
        kinds={"pandas"},
        partitions_def=monitored.partitions,
        deps=deps,
        code_version=settings_version(settings, *PROFILE_FIELDS),
        description=f"The window each month is compared against ({choice.describe()}), "
        "decided once for the month, and the engine's profile of it: sorted values and "
        "category counts computed once and shared by every month with the same window, with "
        "calibrated thresholds when enabled.",
    )
    def reference_profile(context: AssetExecutionContext, warehouse: Warehouse,
                          settings: DriftSettings, cluster: DaskCluster) -> MaterializeResult:
        return profile_window(context, monitored, monitored.store(warehouse),
                              monitored.settings(settings), cluster)

    @asset(
        key=monitored.key("drift_report"),
        **monitored.labels("drift"),
        kinds={"evidently", "pandas"},
        partitions_def=monitored.partitions,
        deps=[monitored.key("reference_table"), monitored.key("current_data"),
              monitored.key("data_quality_report"), reference_profile],
        code_version=settings_version(settings, *REPORT_FIELDS),
        check_specs=[monitored.check_spec(
            DRIFT_CHECK, "drift_report", blocking=False,
            description="WARN when the month drifted against its reference window, naming the "
            "drifted columns with their scores and thresholds (the pipeline's verdict)")],
    )
    def drift_report(context: AssetExecutionContext, warehouse: Warehouse,
                     settings: DriftSettings, cluster: DaskCluster) -> MaterializeResult:
        """Data drift of the month against its reference window on the monitored features: per
        column the test Evidently's DataDriftPreset would choose (K-S, chi-squared or Z for
        small references, normed Wasserstein or Jensen-Shannon for large ones), or with
        calibrated thresholds the effect size against its learned threshold; dataset drift when
        the drifted share reaches the threshold (calibrated, against the declared window: one
        drifted column or a broken relation between columns); PSI and the K-S statistic per
        numeric feature; and Evidently's HTML report of the month. Each verdict is appended to
        the dataset's drift history, which the sensor and `drift-assets history` read.
        With a Dask scheduler the tests run on the cluster over every row; the relations and
        the HTML report use a sample of a large month."""
        return test_month(context, monitored, monitored.store(warehouse),
                          monitored.settings(settings), cluster)

    return [reference_profile, drift_report]
