"""Drift: each month against its declared reference, with Evidently's DataDriftPreset semantics.

``reference_profile`` holds, for every month, the engine's profile of the window that month is
compared against (fixed, rolling or seasonal), fed by Dagster partition mappings so that lineage
shows which months each check used; ``drift_report`` tests the month against it.
"""

import hashlib
from pathlib import Path

import pandas as pd
from dagster import (
    AssetDep,
    AssetExecutionContext,
    AssetKey,
    AssetRecordsFilter,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableRecord,
    TableSchema,
    TimeWindowPartitionMapping,
    asset,
)

from drift_assets.assets.ingest import current_data, reference_table
from drift_assets.assets.quality import data_quality_report
from drift_assets.engine import build_profile, save_evidently_html
from drift_assets.engine.distributed import infer_column_types
from drift_assets.history import materializations
from drift_assets.lib import charts
from drift_assets.lib.alerting import (
    METHOD_VERSION,
    Verdict,
    alike,
    calibrate,
    judge,
    judge_on_cluster,
)
from drift_assets.lib.lifecycle import crossings
from drift_assets.lib.profiles import ProfileStore
from drift_assets.lib.reference import ReferenceChoice
from drift_assets.lib.schema import month_label
from drift_assets.partitions import monthly_partitions
from drift_assets.resources import DaskCluster, DriftSettings, Warehouse

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

def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)




def _latest_storage_ids(context, key: AssetKey, partitions: list[str]) -> list[int]:
    records = context.instance.fetch_materializations(
        AssetRecordsFilter(asset_key=key, asset_partitions=partitions), limit=len(partitions) * 50
    ).records
    latest = {}
    for record in records:  # newest first
        latest.setdefault(record.asset_materialization.partition, record.storage_id)
    return sorted(latest.values())


FALLBACK = "has no clean data yet"


def reference_window(context, warehouse: Warehouse, choice: ReferenceChoice, month: str
                     ) -> tuple[list[str] | None, str, list[int]]:
    """The months ``month`` is compared against (None: the fixed reference table), a
    description of them, and their data versions.

    Months of a rolling or seasonal window that are not in the warehouse yet, or that raised an
    alert (drift, or failed quality), are left out, so a fault does not echo a year later; with
    none of them, the fixed reference table stands in."""
    loaded = warehouse.month_counts()
    alerted = _alerted_months(context)
    months = choice.window(month, lambda m: m in loaded and m < month and m not in alerted)
    if months:
        versions = _latest_storage_ids(context, current_data.key, [f"{m}-01" for m in months])
        return months, f"{choice.describe()}: {', '.join(months)}", versions
    versions = [r.storage_id for r in
                context.instance.fetch_materializations(reference_table.key, limit=1).records]
    why = "" if choice.kind == "fixed" else f"{choice.describe()} {FALLBACK}: "
    return None, f"{why}fixed:{','.join(choice.months)}", versions


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


def build_drift_assets(settings: DriftSettings) -> list[AssetsDefinition]:
    """``reference_profile`` and ``drift_report`` for the configured reference choice."""
    choice = ReferenceChoice.parse(settings.reference, settings.reference_months)
    deps = [AssetDep(reference_table)]
    if choice.offsets:
        start, end = choice.offsets
        deps.append(AssetDep(current_data, partition_mapping=TimeWindowPartitionMapping(
            start_offset=start, end_offset=end, allow_nonexistent_upstream_partitions=True)))

    @asset(
        name="reference_profile",
        group_name="drift",
        kinds={"pandas"},
        partitions_def=monthly_partitions,
        deps=deps,
        code_version=settings_version(settings, *PROFILE_FIELDS),
        description=f"The engine's profile of the reference window of each month "
        f"({choice.describe()}): sorted values and category counts computed once and shared by "
        "every month with the same window, with calibrated thresholds when enabled.",
    )
    def reference_profile(
        context: AssetExecutionContext, warehouse: Warehouse, settings: DriftSettings,
        cluster: DaskCluster,
    ) -> MaterializeResult:
        month = month_label(context.partition_key)
        months, window, versions = reference_window(context, warehouse, choice, month)
        # On a cluster the profile is the column types only: the workers summarise the window
        # for each check, so a profile held in one process would not be used.
        key = hashlib.sha256(
            f"{window}|{versions}|{settings_version(settings, *PROFILE_FIELDS)}|"
            f"{cluster.enabled}".encode()
        ).hexdigest()[:40]
        store = ProfileStore(warehouse.engine)
        reused = store.has(key)
        rows = None
        if not reused:
            if cluster.enabled:
                with cluster.client() as client:
                    window_frame, rows = warehouse.dask_window(months, cluster.partition_rows)
                    types = infer_column_types(window_frame, settings.features, client=client)
                    frame = cluster.sample(client, window_frame, rows) \
                        if settings.thresholds == "calibrated" else None
                profile = None
            else:
                frame = warehouse.read_window(months)
                rows = len(frame)
                profile = build_profile(frame, settings.features)
                types = profile.column_types
            thresholds = {}
            if settings.thresholds == "calibrated":
                months_in_window = max(len(choice.window(month)) or len(choice.months), 1)
                thresholds = calibrate(
                    frame, types, sample_rows=rows // months_in_window,
                    quantile=settings.calibration_quantile, min_effect=settings.min_effect,
                )
            store.put(key, {"profile": profile, "column_types": types,
                            "thresholds": thresholds, "rows": rows})
        store.assign(month, key, window)
        return MaterializeResult(metadata={
            "reference_window": window, "profile_key": key, "reused": reused,
            "reference_rows": rows if rows is not None else store.get(key)["rows"],
        })

    @asset(
        name="drift_report",
        group_name="drift",
        kinds={"evidently", "pandas"},
        partitions_def=monthly_partitions,
        deps=[reference_table, current_data, data_quality_report, reference_profile],
        code_version=settings_version(settings, *REPORT_FIELDS),
    )
    def drift_report(
        context: AssetExecutionContext, warehouse: Warehouse, settings: DriftSettings,
        cluster: DaskCluster,
    ) -> MaterializeResult:
        """Data drift of the month against its reference window on the monitored features: per
        column the test Evidently's DataDriftPreset would choose (K-S, chi-squared or Z for small
        references, normed Wasserstein or Jensen-Shannon for large ones), or with calibrated
        thresholds the effect size against its learned threshold; dataset drift when the
        drifted share reaches the threshold (calibrated, against the declared window: one
        drifted column or a broken relation between columns); PSI and the K-S statistic per
        numeric feature; and Evidently's HTML report of the month. With a Dask scheduler the
        tests run on the cluster over every row; the relations and the HTML report use a
        sample of a large month."""
        month = month_label(context.partition_key)
        stored, window = ProfileStore(warehouse.engine).for_month(month)
        months, _, _ = reference_window(context, warehouse, choice, month)
        calibrated = settings.thresholds == "calibrated"
        # Against its declared window one calibrated column is an alert; against the fixed
        # stand-in of a window without data (a first seasonal year) the share decides, as the
        # stand-in is another season.
        declared = months is not None or choice.kind == "fixed"
        options = dict(
            calibrated_thresholds=stored["thresholds"] if calibrated else None,
            history=_clean_history(context, month) if calibrated else None,
            quantile=settings.calibration_quantile, fdr=settings.fdr,
            any_column=calibrated and declared,
        )
        if not cluster.enabled:
            reference, current = warehouse.read_window(months), warehouse.read_month(month)
            # a profile made on a cluster holds no summaries: build them here
            profile = stored["profile"] or build_profile(reference, settings.features)
            verdict = judge(profile, reference, current, settings.features,
                            settings.drift_share, **options)
            rows = len(reference), len(current)
        else:
            with cluster.client() as client:
                reference_frame, reference_rows = warehouse.dask_window(
                    months, cluster.partition_rows)
                current_frame, current_rows = warehouse.dask_window(
                    [month], cluster.partition_rows)
                reference = cluster.sample(client, reference_frame, reference_rows)
                current = cluster.sample(client, current_frame, current_rows)
                verdict = judge_on_cluster(
                    client, reference_frame, current_frame, settings.features,
                    stored["column_types"], settings.drift_share,
                    samples=(reference, current), **options)
            rows = reference_rows, current_rows
        return _report(context, settings, month, window, reference, current, rows, verdict)

    return [reference_profile, drift_report]


def _latest_metadata(context, key: str) -> dict[str, dict]:
    """The newest materialization's metadata of every month of asset ``key``."""
    latest = {}
    for record in materializations(context.instance, AssetKey(key)):
        event = record.asset_materialization
        if event.partition:
            latest[event.partition[:7]] = {k: v.value for k, v in event.metadata.items()}
    return latest


def _alerted_months(context) -> set[str]:
    """Months whose quality checks failed, or whose drift report found drift against their own
    window (drift against the fixed stand-in of a window without data is the season's)."""
    drifted = {m for m, md in _latest_metadata(context, "drift_report").items()
               if md.get("drift_detected") and FALLBACK not in md.get("reference_window", "")}
    broken = {m for m, md in _latest_metadata(context, "data_quality_report").items()
              if not md.get("passed", True)}
    return drifted | broken


def _clean_history(context, month: str) -> dict[str, list[float]]:
    """Effect sizes per column (and per category, ``column=value``) of the earlier months that
    were alike periods for that column (:func:`alike`) against their own window (a month
    compared with the fixed stand-in of an empty window is none)."""
    history: dict[str, list[float]] = {}
    for past, metadata in _latest_metadata(context, "drift_report").items():
        if past >= month or "columns" not in metadata or \
                FALLBACK in metadata.get("reference_window", ""):
            continue
        clean = {row.data["column"] for row in metadata["columns"].records
                 if alike(row.data["drifted"], row.data["method"])}
        for name, effect in metadata.items():
            key = name.removeprefix("effect/")
            if name.startswith("effect/") and key.split("=")[0] in clean:
                history.setdefault(key, []).append(float(effect))
    return history


def _report(context, settings: DriftSettings, month: str, window: str, reference: pd.DataFrame,
            current: pd.DataFrame, row_counts: tuple[int, int], verdict: Verdict
            ) -> MaterializeResult:
    result, effects, relations = verdict.result, verdict.effects, verdict.relations
    html = Path(settings.reports_dir) / f"drift_{month}.html"
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
    shares[month] = float(result.share)
    chart = charts.drift_chart(shares, settings.drift_share,
                               crossings(shares, settings.drift_share),
                               Path(settings.reports_dir) / "drift_share.png")
    per_column = {f"effect/{k}": float(v) for k, v in effects.items() if not pd.isna(v)}
    if relations is not None:
        per_column.update({
            "relations/error": relations.error, "relations/threshold": relations.upper,
            "relations/drift": relations.drifted,
            "relations/columns": ", ".join(relations.columns),
        })
    for c in result.columns:
        if c.psi is not None:
            per_column[f"psi/{c.column}"] = float(c.psi)
        if c.ks_statistic is not None:
            per_column[f"ks_statistic/{c.column}"] = float(c.ks_statistic)
    return MaterializeResult(
        metadata={
            "drift_detected": verdict.drift,
            "drift_share": float(result.share),
            "drift_share_threshold": settings.drift_share,
            "drifted_columns_count": result.drifted_count,
            "drifted_columns": ", ".join(result.drifted_columns),
            "reference_window": window,
            "thresholds": settings.thresholds,
            "columns": MetadataValue.table(rows, schema=COLUMN_TABLE),
            "skipped_columns": ", ".join(f"{k} ({v})" for k, v in result.skipped.items()),
            **per_column,
            "report": MetadataValue.path(str(html.resolve())),
            "report_sampled": bool(rendered["sampled"]),
            "drift_chart": MetadataValue.path(chart),
            "reference_rows": row_counts[0],
            "current_rows": row_counts[1],
        }
    )
