"""Model: retraining behind a promotion gate, and monthly performance with automatic rollback."""

import datetime as dt
import io
from pathlib import Path

import joblib
import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
)

from drift_assets.lib import charts
from drift_assets.lib.estimation import MonitoredModel, fit_error_model
from drift_assets.lib.history import MonthHistory
from drift_assets.lib.lifecycle import GateDecision, error_threshold, promotion_gate, roll_back
from drift_assets.lib.locks import exclusive
from drift_assets.lib.messages import Alert
from drift_assets.lib.months import month_label
from drift_assets.lib.outbox import Outbox
from drift_assets.lib.registry import (
    CANDIDATE,
    ModelRecord,
    ModelRegistry,
    load_model,
)
from drift_assets.lib.training import ALPHAS, TrainingResult, evaluate, labelled, train
from drift_assets.monitored import Monitored
from drift_assets.resources import DriftSettings, ModelStore, Notifier, Warehouse
from drift_assets.resources.model_store import StoredModel
from drift_assets.resources.warehouse import DatasetWarehouse

RUN_KEY_TAG = "dagster/run_key"


class TrainingConfig(Config):
    """Why this training run happens; the drift sensor fills it in."""

    reason: str = "manual"
    drift_months: list[str] = []
    drift_records: list[int] = []  # the drift history records that fired, for the notification
    changes: str = ""  # what changed since the previous drift alert
    alphas: list[float] = list(ALPHAS)  # the grid searched; narrower only for experiments


def _training_frame(warehouse: DatasetWarehouse) -> pd.DataFrame:
    """The reference plus all current data so far, each day once, without the months whose
    blocking quality checks failed: a broken month must not break every later retrain."""
    broken = {m for m, r in MonthHistory(warehouse.engine).quality_records().items()
              if not r.passed}
    current = warehouse.read_current()
    if broken and len(current):
        months = pd.to_datetime(current[warehouse.schema.timestamp]).dt.strftime("%Y-%m")
        current = current[~months.isin(broken)]
    frame = pd.concat([warehouse.read_reference(), current], ignore_index=True)
    return frame.drop_duplicates(subset=warehouse.schema.order)


def _train_and_register(name: str, registry: ModelRegistry, store: ModelStore,
                        warehouse: DatasetWarehouse, settings: DriftSettings,
                        config: TrainingConfig, request: str) -> ModelRecord:
    """Train, store and register the version of ``request``, the gate's answer with it. A
    version stored for the request by a run that died before registering it is registered as
    it is, not trained and stored again."""
    frame = _training_frame(warehouse)
    stored = store.find(name, request)
    if stored is None:
        result = train(frame, holdout_share=settings.holdout_share, alphas=config.alphas)
        stored = _store(name, store, result, _holdout(frame, result.holdout_start), config,
                        request)
    holdout = _holdout(frame, dt.date.fromisoformat(stored.metadata["holdout_start"]))
    decision, production_rmsle = _gate_against_production(
        registry, store, stored.metadata["holdout_rmsle"], holdout,
        settings.promotion_tolerance)
    record = _record(name, stored, production_rmsle, config.reason, request)
    registry.register(record, event_detail=f"trained ({config.reason})",
                      promote=decision.promote, decision=decision.reason)
    return registry.by_request(request)


def _holdout(frame: pd.DataFrame, start: dt.date) -> pd.DataFrame:
    """The labelled rows from the holdout's first day, which the gate and the error model
    share."""
    rows = labelled(frame)
    return rows[rows["dteday"] >= start]


def _gate_against_production(registry: ModelRegistry, store: ModelStore, candidate_rmsle: float,
                             holdout: pd.DataFrame, tolerance: float
                             ) -> tuple[GateDecision, float | None]:
    """The promotion gate, with the production model scored on the candidate's holdout (its
    RMSLE is None when there is no production model yet)."""
    production = registry.production()
    production_rmsle = None
    if production is not None:
        production_rmsle = evaluate(load_model(production, store), holdout)["rmsle"]
    return promotion_gate(candidate_rmsle, production_rmsle, tolerance), production_rmsle


def _store(name: str, store: ModelStore, result: TrainingResult, holdout: pd.DataFrame,
           config: TrainingConfig, request: str) -> StoredModel:
    """Store the model with its error model (fit on the holdout) as a new version, its
    request and scores beside it."""
    best = result.model.best_estimator_
    buffer = io.BytesIO()
    joblib.dump(MonitoredModel(best, fit_error_model(best, holdout)), buffer)
    return store.save(name, buffer.getvalue(), {
        "alpha": result.best_alpha, "alpha_grid": list(config.alphas),
        "cv_rmsle": result.cv_rmsle, "train_rows": result.train_rows,
        "holdout_rows": result.holdout_rows, "holdout_rmsle": result.holdout_rmsle,
        "holdout_mae": result.holdout_mae, "window_start": str(result.window_start),
        "window_end": str(result.window_end), "holdout_start": str(result.holdout_start),
        "reason": config.reason, "request": request,
    })


PARAMS = ("alpha", "alpha_grid", "cv_rmsle", "train_rows", "holdout_rows")


def _record(name: str, stored: StoredModel, production_rmsle: float | None, reason: str,
            request: str) -> ModelRecord:
    meta = stored.metadata
    return ModelRecord(
        version=stored.version, name=name, created_at=dt.datetime.now(dt.UTC),
        holdout_rmsle=meta["holdout_rmsle"], holdout_mae=meta["holdout_mae"],
        sha256=stored.sha256, storage_key=stored.key, uri=stored.uri, status=CANDIDATE,
        params={**{k: meta[k] for k in PARAMS},
                "production_rmsle_on_holdout": production_rmsle},
        window_start=dt.date.fromisoformat(meta["window_start"]),
        window_end=dt.date.fromisoformat(meta["window_end"]),
        holdout_start=dt.date.fromisoformat(meta["holdout_start"]), reason=reason,
        request=request,
    )


def _notify_trained(context: AssetExecutionContext, notifier: Notifier,
                    warehouse: DatasetWarehouse, config: TrainingConfig, record: ModelRecord,
                    status: str, gate: str, request: str) -> None:
    """Tell the team what was trained and why, with the drift records that asked for it; once
    per request, however often the run is repeated."""
    action = (f"retrained {record.name} v{record.version}, now {status}: {gate}. "
              f"Stored at {record.uri}")
    if config.reason == "drift":
        title = f"Data drift in {', '.join(config.drift_months)}: model retrained"
    else:
        title = f"Model {record.name} v{record.version} trained ({config.reason})"
    history = MonthHistory(warehouse.engine)
    records = [history.drift_record(i) for i in config.drift_records]
    Outbox(warehouse.engine).send(notifier, f"model:{request}", Alert(
        title=title, drift=[r.fact() for r in records],
        facts=[("changes", config.changes)] if config.changes else [],
        action=action, link=records[-1].report if records else "", kind="model"), context.log)


def _training_metadata(record: ModelRecord, config: TrainingConfig, status: str, gate: str,
                       registry: ModelRegistry) -> dict:
    params = record.params
    return {
        "version": record.version,
        "status": status,
        "gate": gate,
        "production_rmsle_on_holdout": params.get("production_rmsle_on_holdout"),
        "model_uri": MetadataValue.path(record.uri),
        "sha256": record.sha256,
        "alpha": params["alpha"],
        "alpha_grid": ", ".join(str(a) for a in params["alpha_grid"]),
        "cv_rmsle": params["cv_rmsle"],
        "holdout_rmsle": record.holdout_rmsle,
        "holdout_mae": record.holdout_mae,
        "training_window": f"{record.window_start} .. {record.window_end}",
        "holdout_start": str(record.holdout_start),
        "train_rows": params["train_rows"],
        "holdout_rows": params["holdout_rows"],
        "reason": config.reason,
        "registry": MetadataValue.md(registry.table().to_markdown(index=False)),
    }


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
    Outbox(registry.engine).send(notifier, f"rollback:{month}:v{production.version}", Alert(
        title=f"Model rolled back to v{previous.version}",
        facts=[("month", month), ("error", f"v{production.version} RMSLE {rmsle:.4f} > "
                                           f"threshold {threshold:.4f}"),
               ("previous", f"v{previous.version} RMSLE {previous_rmsle:.4f} on {month}")],
        action=f"v{previous.version} is production again; v{production.version} retired",
        kind="rollback",
    ), context.log)
    return previous.version


def build_model_assets(monitored: Monitored) -> list[AssetsDefinition]:
    """``trained_model`` and ``model_performance`` of a dataset that declares a model."""

    @asset(
        key=monitored.key("trained_model"),
        group_name=monitored.name,
        kinds={"scikitlearn", "pandas"},
        deps=[monitored.key("reference_table"), monitored.key("current_data")],
    )
    def trained_model(
        context: AssetExecutionContext,
        config: TrainingConfig,
        warehouse: Warehouse,
        model_store: ModelStore,
        notifier: Notifier,
        settings: DriftSettings,
    ) -> MaterializeResult:
        """Ridge regression on a log1p target, alpha chosen by grid search over 0.1..100 scored
        by RMSLE (lower is better), trained on the reference plus all current data so far and
        scored on the newest rows in time. Stored as a new version (never overwriting one) and
        recorded in the model registry; it becomes production only if it is no worse than the
        production model on the same holdout."""
        settings = monitored.settings(settings)
        store = monitored.store(warehouse)
        name = monitored.model_name
        registry = ModelRegistry(store.engine)
        # One version per training request, whoever runs it and however often: a re-run (after
        # a crash, or by a second process at the same time) finds the version of its request.
        request = context.run.tags.get(RUN_KEY_TAG) or context.run.run_id
        with exclusive(store.engine, f"train {name}"):
            record = registry.by_request(request) or _train_and_register(
                name, registry, model_store, store, settings, config, request)
        promoted, gate = registry.gate_answer(record.version)
        status = "production" if promoted else "candidate"
        context.log.info(f"{name} v{record.version} stored at {record.uri}: {status}; {gate}")
        _notify_trained(context, notifier, store, config, record, status, gate, request)
        return MaterializeResult(metadata=_training_metadata(record, config, status, gate,
                                                             registry))

    @asset(
        key=monitored.key("model_performance"),
        group_name=monitored.name,
        kinds={"scikitlearn", "pandas"},
        partitions_def=monitored.partitions,
        deps=[monitored.key("current_data"), monitored.key("data_quality_report"),
              trained_model],
    )
    def model_performance(
        context: AssetExecutionContext,
        warehouse: Warehouse,
        model_store: ModelStore,
        notifier: Notifier,
        settings: DriftSettings,
    ) -> MaterializeResult:
        """The production model's error on the month: estimated from the features alone (direct
        loss estimation) as soon as the month is loaded, and realized RMSLE and MAE once its
        labels have arrived, both plotted over time. When the realized error passes its
        threshold (a fixed bound, or the mean plus N standard deviations of the earlier months)
        and the previous production version does better on this month, the model is rolled back
        to that version and the team is told."""
        settings = monitored.settings(settings)
        store = monitored.store(warehouse)
        month = month_label(context.partition_key)
        rows = store.read_month(month)
        registry = ModelRegistry(store.engine)
        production = registry.production()
        if production is None:
            # Nothing to score with yet: say so on the partition rather than fail the run.
            return MaterializeResult(metadata={"scored": False,
                                               "why": "no production model yet"})
        model = load_model(production, model_store)
        estimated = model.estimate_rmsle(rows)
        known = labelled(rows)
        metadata = {"version": production.version, "estimated_rmsle": estimated,
                    "labelled_rows": len(known),
                    "in_training_window": bool(production.window_end
                                               and month <= month_label(production.window_end))}
        threshold = error_threshold(
            registry.performance(before=month)["rmsle"].dropna().tolist(),
            settings.max_rmsle, settings.error_n_std)
        scores = {"rmsle": None, "mae": None}
        if not known.empty:
            scores = evaluate(model, known)
            degraded = threshold is not None and scores["rmsle"] > threshold
            rolled_back_to = None
            if degraded:
                rolled_back_to = _roll_back_if_better(context, registry, model_store, notifier,
                                                      production, known, month,
                                                      scores["rmsle"], threshold)
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

    return [trained_model, model_performance]
