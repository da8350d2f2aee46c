"""Model: retraining behind a promotion gate, and monthly performance with automatic rollback."""

import datetime as dt
import io
from pathlib import Path

import joblib
import pandas as pd
from dagster import (
    AssetExecutionContext,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
)

from drift_assets.assets.ingest import current_data, reference_table
from drift_assets.assets.quality import data_quality_report
from drift_assets.lib import charts
from drift_assets.lib.estimation import MonitoredModel, fit_error_model
from drift_assets.lib.history import MonthHistory
from drift_assets.lib.lifecycle import GateDecision, error_threshold, promotion_gate, roll_back
from drift_assets.lib.messages import Alert
from drift_assets.lib.months import month_label
from drift_assets.lib.registry import CANDIDATE, ModelRecord, ModelRegistry, load_model
from drift_assets.lib.schema import DATE_COLUMN
from drift_assets.lib.training import ALPHAS, TrainingResult, evaluate, labelled, train
from drift_assets.outbox import send_or_keep
from drift_assets.partitions import monthly_partitions
from drift_assets.resources import DriftSettings, ModelStore, Notifier, Warehouse
from drift_assets.resources.model_store import StoredModel

MODEL_NAME = "bike_demand_ridge"


class TrainingConfig(Config):
    """Why this training run happens; the drift sensor fills it in."""

    reason: str = "manual"
    drift_months: list[str] = []
    drift_records: list[int] = []  # the drift history records that fired, for the notification
    changes: str = ""  # what changed since the previous drift alert
    alphas: list[float] = list(ALPHAS)  # the grid searched; narrower only for experiments


@asset(
    group_name="model",
    kinds={"scikitlearn", "pandas"},
    deps=[reference_table, current_data],
)
def trained_model(
    context: AssetExecutionContext,
    config: TrainingConfig,
    warehouse: Warehouse,
    model_store: ModelStore,
    notifier: Notifier,
    settings: DriftSettings,
) -> MaterializeResult:
    """Ridge regression on a log1p target, alpha chosen by grid search over 0.1..100 scored by
    RMSLE (lower is better), trained on the reference plus all current data so far and scored on
    the newest rows in time. Stored as a new version (never overwriting one) and recorded in the
    model registry; it becomes production only if it is no worse than the production model on the
    same holdout."""
    registry = ModelRegistry(warehouse.engine)
    result, holdout = _train_candidate(warehouse, settings.holdout_share, config.alphas)
    decision, production_rmsle = _gate_against_production(
        registry, model_store, result, holdout, settings.promotion_tolerance)
    stored = _store_and_register(registry, model_store, result, holdout, decision, config,
                                 context.run.run_id)
    status = "production" if decision.promote else "candidate"
    context.log.info(f"{MODEL_NAME} v{stored.version} stored at {stored.uri}: {status}; "
                     f"{decision.reason}")
    _notify_trained(context, notifier, warehouse, config, stored, status, decision)
    return MaterializeResult(metadata=_training_metadata(
        result, config, stored, status, decision, production_rmsle, registry))


def _train_candidate(warehouse: Warehouse, holdout_share: float, alphas: list[float]
                     ) -> tuple[TrainingResult, pd.DataFrame]:
    """Train on the reference plus all current data so far; return the result and its holdout
    (the labelled rows from the holdout's first day), which the gate and the error model share."""
    frame = pd.concat([warehouse.read_reference(), warehouse.read_current()], ignore_index=True)
    frame = frame.drop_duplicates(subset=[DATE_COLUMN, "instant"])
    result = train(frame, holdout_share=holdout_share, alphas=alphas)
    holdout = labelled(frame)
    return result, holdout[holdout[DATE_COLUMN] >= result.holdout_start]


def _gate_against_production(registry: ModelRegistry, store: ModelStore, result: TrainingResult,
                             holdout: pd.DataFrame, tolerance: float
                             ) -> tuple[GateDecision, float | None]:
    """The promotion gate, with the production model scored on the candidate's holdout (its
    RMSLE is None when there is no production model yet)."""
    production = registry.production()
    production_rmsle = None
    if production is not None:
        production_rmsle = evaluate(load_model(production, store), holdout)["rmsle"]
    return promotion_gate(result.holdout_rmsle, production_rmsle, tolerance), production_rmsle


def _store_and_register(registry: ModelRegistry, store: ModelStore, result: TrainingResult,
                        holdout: pd.DataFrame, decision: GateDecision, config: TrainingConfig,
                        run_id: str) -> StoredModel:
    """Store the model with its error model (fit on the holdout) as a new version, register it
    as a candidate, then promote it or record the gate's refusal."""
    best = result.model.best_estimator_
    buffer = io.BytesIO()
    joblib.dump(MonitoredModel(best, fit_error_model(best, holdout)), buffer)
    params = {"alpha": result.best_alpha, "alpha_grid": list(config.alphas),
              "cv_rmsle": result.cv_rmsle, "train_rows": result.train_rows,
              "holdout_rows": result.holdout_rows, "run_id": run_id}
    stored = store.save(
        MODEL_NAME,
        buffer.getvalue(),
        {**params, "holdout_rmsle": result.holdout_rmsle, "holdout_mae": result.holdout_mae,
         "window_start": str(result.window_start), "window_end": str(result.window_end),
         "holdout_start": str(result.holdout_start), "reason": config.reason},
    )
    registry.register(
        ModelRecord(
            version=stored.version, name=MODEL_NAME, created_at=dt.datetime.now(dt.UTC),
            holdout_rmsle=result.holdout_rmsle, holdout_mae=result.holdout_mae,
            sha256=stored.sha256, storage_key=stored.key, uri=stored.uri, status=CANDIDATE,
            params=params, window_start=result.window_start, window_end=result.window_end,
            holdout_start=result.holdout_start, reason=config.reason,
        ),
        event_detail=f"trained ({config.reason})",
    )
    if decision.promote:
        registry.promote(stored.version, detail=decision.reason)
    else:
        registry.record_event(stored.version, "refused", decision.reason)
    return stored


def _notify_trained(context: AssetExecutionContext, notifier: Notifier, warehouse: Warehouse,
                    config: TrainingConfig, stored: StoredModel, status: str,
                    decision: GateDecision) -> None:
    """Tell the team what was trained and why, with the drift records that asked for it."""
    action = (f"retrained {MODEL_NAME} v{stored.version}, now {status}: {decision.reason}. "
              f"Stored at {stored.uri}")
    if config.reason == "drift":
        title = f"Data drift in {', '.join(config.drift_months)}: model retrained"
    else:
        title = f"Model {MODEL_NAME} v{stored.version} trained ({config.reason})"
    history = MonthHistory(warehouse.engine)
    records = [history.drift_record(i) for i in config.drift_records]
    send_or_keep(
        context.instance, notifier,
        Alert(title=title, drift=[r.fact() for r in records],
              facts=[("changes", config.changes)] if config.changes else [],
              action=action, link=records[-1].report if records else "", kind="model"),
        context.log,
    )


def _training_metadata(result: TrainingResult, config: TrainingConfig, stored: StoredModel,
                       status: str, decision: GateDecision, production_rmsle: float | None,
                       registry: ModelRegistry) -> dict:
    return {
        "version": stored.version,
        "status": status,
        "gate": decision.reason,
        "production_rmsle_on_holdout": production_rmsle,
        "model_uri": MetadataValue.path(stored.uri),
        "sha256": stored.sha256,
        "alpha": result.best_alpha,
        "alpha_grid": ", ".join(str(a) for a in config.alphas),
        "cv_rmsle": result.cv_rmsle,
        "holdout_rmsle": result.holdout_rmsle,
        "holdout_mae": result.holdout_mae,
        "training_window": f"{result.window_start} .. {result.window_end}",
        "holdout_start": str(result.holdout_start),
        "train_rows": result.train_rows,
        "holdout_rows": result.holdout_rows,
        "reason": config.reason,
        "registry": MetadataValue.md(registry.table().to_markdown(index=False)),
    }


@asset(
    group_name="model",
    kinds={"scikitlearn", "pandas"},
    partitions_def=monthly_partitions,
    deps=[current_data, data_quality_report, trained_model],
)
def model_performance(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    model_store: ModelStore,
    notifier: Notifier,
    settings: DriftSettings,
) -> MaterializeResult:
    """The production model's error on the month: estimated from the features alone (direct loss
    estimation) as soon as the month is loaded, and realized RMSLE and MAE once its labels (cnt)
    have arrived, both plotted over time. When the realized error passes its threshold (a fixed
    bound, or the mean plus N standard deviations of the earlier months) and the previous
    production version does better on this month, the model is rolled back to that version and
    the team is told."""
    month = month_label(context.partition_key)
    rows = warehouse.read_month(month)
    registry = ModelRegistry(warehouse.engine)
    production = registry.production()
    if production is None:
        # Nothing to score with yet: say so on the partition rather than fail the month's run.
        return MaterializeResult(metadata={"scored": False, "why": "no production model yet"})
    model = load_model(production, model_store)
    estimated = model.estimate_rmsle(rows)
    known = labelled(rows)
    metadata = {"version": production.version, "estimated_rmsle": estimated,
                "labelled_rows": len(known),
                "in_training_window": bool(production.window_end
                                           and month <= month_label(production.window_end))}
    threshold = error_threshold(registry.performance(before=month)["rmsle"].dropna().tolist(),
                                settings.max_rmsle, settings.error_n_std)
    scores = {"rmsle": None, "mae": None}
    if not known.empty:
        scores = evaluate(model, known)
        degraded = threshold is not None and scores["rmsle"] > threshold
        rolled_back_to = None
        if degraded:
            rolled_back_to = _roll_back_if_better(context, registry, model_store, notifier,
                                                  production, known, month, scores["rmsle"],
                                                  threshold)
        metadata.update({**scores, "estimate_error": estimated - scores["rmsle"],
                         "degraded": degraded, "rolled_back_to": rolled_back_to})
    registry.record_performance(month, production.version, scores["rmsle"], scores["mae"],
                                estimated)
    chart = charts.error_chart(
        registry.performance().to_dict("records"), threshold,
        Path(settings.reports_dir) / "model_error.png",
    )
    return MaterializeResult(metadata={
        **metadata, "scored": not known.empty, "rmsle_threshold": threshold,
        "error_chart": MetadataValue.path(chart),
    })


def _roll_back_if_better(context, registry: ModelRegistry, store: ModelStore,
                         notifier: Notifier, production: ModelRecord, rows: pd.DataFrame,
                         month: str, rmsle: float, threshold: float) -> int | None:
    """Return to the previous production version if it does better on this month."""
    previous = registry.previous_production()
    why = f"{month} RMSLE {rmsle:.4f} > threshold {threshold:.4f}"
    if previous is None:
        registry.record_event(production.version, "degraded", f"{why}; no earlier version")
        return None
    previous_rmsle = evaluate(load_model(previous, store), rows)["rmsle"]
    if previous_rmsle >= rmsle:
        registry.record_event(production.version, "degraded",
                              f"{why}; v{previous.version} is no better ({previous_rmsle:.4f})")
        return None
    detail = f"{why} for v{production.version}; v{previous.version} scores {previous_rmsle:.4f}"
    roll_back(registry, store, previous, detail)
    context.log.warning(f"rolled back to v{previous.version}: {detail}")
    send_or_keep(context.instance, notifier, Alert(
        title=f"Model rolled back to v{previous.version}",
        facts=[("month", month), ("error", f"v{production.version} RMSLE {rmsle:.4f} > "
                                           f"threshold {threshold:.4f}"),
               ("previous", f"v{previous.version} RMSLE {previous_rmsle:.4f} on {month}")],
        action=f"v{previous.version} is production again; v{production.version} retired",
        kind="rollback",
    ), context.log)
    return previous.version
