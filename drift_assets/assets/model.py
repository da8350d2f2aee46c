"""Model: the demand model retrained on the reference plus all current data so far."""


import datetime as dt
import io

import joblib
import pandas as pd
from dagster import AssetExecutionContext, Config, MaterializeResult, MetadataValue, asset

from drift_assets.assets.ingest import current_data, reference_table
from drift_assets.lib.alerts import Alert
from drift_assets.lib.training import ALPHAS, train
from drift_assets.resources import DriftSettings, ModelStore, Notifier, Warehouse

MODEL_NAME = "bike_demand_ridge"


class TrainingConfig(Config):
    """Why this training run happens; the drift sensor fills it in."""

    reason: str = "manual"
    drift_months: list[str] = []
    drift_summary: list[str] = []  # one line per drifted month, for the notification
    report: str = ""


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
    the newest rows in time. Stored as a new version in the model store, never overwriting one."""
    frame = pd.concat([warehouse.read_reference(), warehouse.read_current()], ignore_index=True)
    frame = frame.drop_duplicates(subset=["dteday", "instant"])
    result = train(frame, holdout_share=settings.holdout_share)
    buffer = io.BytesIO()
    joblib.dump(result.model.best_estimator_, buffer)
    stored = model_store.save(
        MODEL_NAME,
        buffer.getvalue(),
        {
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
            "alpha": result.best_alpha,
            "cv_rmsle": result.cv_rmsle,
            "holdout_rmsle": result.holdout_rmsle,
            "holdout_mae": result.holdout_mae,
            "window_start": str(result.window_start),
            "window_end": str(result.window_end),
            "holdout_start": str(result.holdout_start),
            "train_rows": result.train_rows,
            "holdout_rows": result.holdout_rows,
            "reason": config.reason,
            "run_id": context.run.run_id,
        },
    )
    context.log.info(f"stored {MODEL_NAME} v{stored.version} at {stored.uri}")
    if config.reason != "manual":
        _notify(context, notifier, config, stored.version, stored.uri, result.holdout_rmsle)
    return MaterializeResult(
        metadata={
            "version": stored.version,
            "model_uri": MetadataValue.path(stored.uri),
            "sha256": stored.sha256,
            "alpha": result.best_alpha,
            "alpha_grid": ", ".join(str(a) for a in ALPHAS),
            "cv_rmsle": result.cv_rmsle,
            "holdout_rmsle": result.holdout_rmsle,
            "holdout_mae": result.holdout_mae,
            "training_window": f"{result.window_start} .. {result.window_end}",
            "holdout_start": str(result.holdout_start),
            "train_rows": result.train_rows,
            "holdout_rows": result.holdout_rows,
            "reason": config.reason,
        }
    )


def _notify(context, notifier: Notifier, config: TrainingConfig, version, uri, rmsle) -> None:
    """One message per retrain: the drift that caused it and what was done. A failing channel
    must not fail a model that is already stored, so its error is logged, not raised."""
    alert = Alert(
        title=f"Data drift in {', '.join(config.drift_months)}: model retrained",
        facts=[("drift", line) for line in config.drift_summary],
        action=f"retrained {MODEL_NAME} v{version} (holdout RMSLE {rmsle:.4f}), stored at {uri}",
        link=config.report,
    )
    try:
        notifier.notify(alert)
    except Exception as exc:  # noqa: BLE001 - any channel failure is reported the same way
        context.log.error(f"notification failed ({type(exc).__name__}): {exc}")
