"""Model: retraining behind a promotion gate, and monthly performance with automatic rollback."""

import datetime as dt
import io
from dataclasses import dataclass, replace

import joblib
import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableRecord,
    TableSchema,
    asset,
)

from drift_assets.lib import charts, modelling
from drift_assets.lib.declaration import ModelSpec
from drift_assets.lib.history import MonthHistory
from drift_assets.lib.lifecycle import (
    GateDecision,
    degraded,
    error_threshold,
    promotion_gate,
    roll_back,
)
from drift_assets.lib.locks import exclusive
from drift_assets.lib.messages import Alert
from drift_assets.lib.months import month_label
from drift_assets.lib.numbers import figure
from drift_assets.lib.outbox import Outbox
from drift_assets.lib.registry import (
    CANDIDATE,
    ModelRecord,
    ModelRegistry,
    load_model,
)
from drift_assets.lib.reports import ReportsFolder
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
    # the declared grid with some parameters' values replaced: narrower only for experiments
    grid: dict[str, list[float]] = {}


def _training_frame(warehouse: DatasetWarehouse) -> pd.DataFrame:
    """The reference plus all current data so far, each row once, without the months whose
    blocking quality checks failed: a broken month must not break every later retrain."""
    broken = {m for m, r in MonthHistory(warehouse.engine).quality_records().items()
              if not r.passed}
    current = warehouse.read_current()
    if broken and len(current):
        months = pd.to_datetime(current[warehouse.schema.timestamp]).dt.strftime("%Y-%m")
        current = current[~months.isin(broken)]
    frame = pd.concat([warehouse.read_reference(), current], ignore_index=True)
    return frame.drop_duplicates(subset=warehouse.schema.order)


@dataclass(frozen=True)
class _Model:
    """What training a dataset's model needs: the declared spec (with the run's grid) and the
    columns it learns from."""

    spec: ModelSpec
    features: tuple[str, ...]
    categorical: tuple[str, ...] | None
    timestamp: str

    @classmethod
    def of(cls, monitored: Monitored, warehouse: DatasetWarehouse, settings: DriftSettings,
           config: TrainingConfig) -> "_Model":
        spec = monitored.dataset.model
        if config.grid:
            spec = replace(spec, params={**spec.params,
                                         **{k: tuple(v) for k, v in config.grid.items()}})
        schema = warehouse.schema
        features = spec.features or tuple(monitored.features(settings, schema))
        declared = monitored.dataset.categorical
        categorical = tuple(c for c in declared if c in features) if declared else None
        return cls(spec, tuple(features), categorical, schema.timestamp)

    def holdout(self, frame: pd.DataFrame, start) -> pd.DataFrame:
        """The labelled rows from the holdout's first timestamp (a date, a datetime or the text
        the store's metadata keeps of either), which the gate and the performance estimator
        share."""
        rows = modelling.labelled_rows(frame, self.spec, self.features, self.timestamp)
        return rows[pd.to_datetime(rows[self.timestamp]) >= pd.Timestamp(str(start))]


def _train_and_register(name: str, model: _Model, registry: ModelRegistry, store: ModelStore,
                        warehouse: DatasetWarehouse, settings: DriftSettings,
                        config: TrainingConfig, request: str) -> ModelRecord:
    """Train, store and register the version of ``request``, the gate's answer with it. A
    version stored for the request by a run that died before registering it is registered as
    it is, not trained and stored again."""
    frame = _training_frame(warehouse)
    stored = store.find(name, request)
    if stored is None:
        result = modelling.train(frame, model.spec, model.features, model.categorical,
                                 model.timestamp, holdout_share=settings.holdout_share)
        stored = _store(name, store, model, result,
                        model.holdout(frame, result.holdout_start), config, request)
    decision, production_score = _gate_against_production(
        registry, store, model, stored.metadata["holdout_score"],
        model.holdout(frame, stored.metadata["holdout_start"]),
        settings.promotion_tolerance)
    record = _record(name, model.spec.metric, stored, production_score, config.reason, request)
    registry.register(record, event_detail=f"trained ({config.reason})",
                      promote=decision.promote, decision=decision.reason)
    return registry.by_request(request)


def _gate_against_production(registry: ModelRegistry, store: ModelStore, model: _Model,
                             candidate: float, holdout: pd.DataFrame, tolerance: float
                             ) -> tuple[GateDecision, float | None]:
    """The promotion gate, with the production model scored on the candidate's holdout (None
    when there is no production model yet)."""
    production = registry.production()
    score = None
    if production is not None:
        production_model = load_model(production, store)
        score = modelling.evaluate(production_model.model, holdout, model.spec,
                                   production_model.features)["score"]
    return promotion_gate(candidate, score, tolerance, model.spec.metric), score


def _store(name: str, store: ModelStore, model: _Model, result: modelling.TrainedModel,
           holdout: pd.DataFrame, config: TrainingConfig, request: str) -> StoredModel:
    """Store the model with the estimator of its performance (fit on the holdout) as a new
    version, its request and scores beside it."""
    best = result.model.best_estimator_
    buffer = io.BytesIO()
    joblib.dump(modelling.fit_monitor(best, holdout, model.spec, model.features), buffer)
    return store.save(name, buffer.getvalue(), {
        "estimator": model.spec.estimator, "metric": model.spec.metric,
        "params": result.best_params,
        "grid": {k: list(v) for k, v in model.spec.params.items()},
        "cv_score": result.cv_score, "train_rows": result.train_rows,
        "holdout_rows": result.holdout_rows, "holdout_score": result.score,
        "holdout_scores": {k: v for k, v in result.holdout_scores.items() if k != "score"},
        "window_start": str(result.window_start), "window_end": str(result.window_end),
        "holdout_start": str(result.holdout_start), "reason": config.reason,
        "request": request,
    })


PARAMS = ("estimator", "params", "grid", "cv_score", "holdout_scores", "train_rows",
          "holdout_rows")


def _day(text: str) -> dt.date:
    return pd.Timestamp(text).date()


def _record(name: str, metric: str, stored: StoredModel, production_score: float | None,
            reason: str, request: str) -> ModelRecord:
    meta = stored.metadata
    return ModelRecord(
        version=stored.version, name=name, created_at=dt.datetime.now(dt.UTC),
        metric=metric, holdout_score=meta["holdout_score"],
        sha256=stored.sha256, storage_key=stored.key, uri=stored.uri, status=CANDIDATE,
        params={**{k: meta[k] for k in PARAMS},
                "production_score_on_holdout": production_score},
        window_start=_day(meta["window_start"]), window_end=_day(meta["window_end"]),
        holdout_start=_day(meta["holdout_start"]), reason=reason, request=request,
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


def _readable(metadata: dict) -> dict:
    """Figures to four significant digits, and no entry without a value."""
    return {k: figure(v) if isinstance(v, float) else v for k, v in metadata.items()
            if v is not None}


def _training_metadata(record: ModelRecord, config: TrainingConfig, status: str, gate: str,
                       registry: ModelRegistry) -> dict:
    params = record.params
    return {
        "version": record.version,
        "status": status,
        "gate": gate,
        "metric": record.metric,
        "holdout_score": record.holdout_score,
        "production_score_on_holdout": params.get("production_score_on_holdout"),
        **{f"holdout/{k}": v for k, v in params["holdout_scores"].items()},
        "cv_score": params["cv_score"],
        "estimator": params["estimator"],
        "params": ", ".join(f"{k}={v}" for k, v in params["params"].items()) or "defaults",
        "grid": ", ".join(f"{k}: {v}" for k, v in params["grid"].items()) or "none",
        "model_uri": MetadataValue.path(record.uri),
        "sha256": record.sha256,
        "training_window": f"{record.window_start} .. {record.window_end}",
        "holdout_start": str(record.holdout_start),
        "train_rows": params["train_rows"],
        "holdout_rows": params["holdout_rows"],
        "reason": config.reason,
        "registry": registry_table(registry),
    }


REGISTRY_TABLE = TableSchema(columns=[
    TableColumn("version", "int"), TableColumn("status", "string"),
    TableColumn("created_at", "string"), TableColumn("window", "string"),
    TableColumn("params", "string"), TableColumn("metric", "string"),
    TableColumn("holdout", "float", description="the holdout score it was promoted or refused "
                "on"),
    TableColumn("sha256", "string"), TableColumn("reason", "string"),
])


def registry_table(registry: ModelRegistry) -> MetadataValue:
    """The registry, every version a row, as a table in the UI."""
    return MetadataValue.table(
        [TableRecord({k: (figure(v) if k == "holdout" else v) for k, v in row.items()})
         for row in registry.table().to_dict("records")], schema=REGISTRY_TABLE)


def _roll_back_if_better(context, monitored: Monitored, registry: ModelRegistry,
                         store: ModelStore, notifier: Notifier, production: ModelRecord,
                         rows: pd.DataFrame, month: str, score: float, threshold: float
                         ) -> int | None:
    """Return to the previous production version if it does better on this month."""
    spec = monitored.dataset.model
    metric = spec.metric
    side = "<" if modelling.METRIC_REGISTRY[metric].greater_is_better else ">"
    why = f"{month} {metric} {score:.4f} {side} threshold {threshold:.4f}"
    previous = registry.previous_production()
    if previous is None:
        registry.record_event(production.version, "degraded", f"{why}; no earlier version")
        return None
    earlier = load_model(previous, store)
    previous_score = modelling.evaluate(earlier.model, rows, spec, earlier.features)["score"]
    if modelling.no_worse(score, previous_score, metric):
        registry.record_event(production.version, "degraded",
                              f"{why}; v{previous.version} is no better ({previous_score:.4f})")
        return None
    detail = f"{why} for v{production.version}; v{previous.version} scores {previous_score:.4f}"
    roll_back(registry, store, previous, detail)
    context.log.warning(f"rolled back to v{previous.version}: {detail}")
    Outbox(registry.engine).send(notifier, f"rollback:{month}:v{production.version}", Alert(
        title=f"{monitored.name}: model rolled back to v{previous.version}",
        facts=[("month", month), ("error", f"v{production.version} {metric} {score:.4f} "
                                           f"{side} threshold {threshold:.4f}"),
               ("previous", f"v{previous.version} {metric} {previous_score:.4f} on {month}")],
        action=f"v{previous.version} is production again; v{production.version} retired",
        kind="rollback",
    ), context.log)
    return previous.version


def build_model_assets(monitored: Monitored) -> list[AssetsDefinition]:
    """``trained_model`` and ``model_performance`` of a dataset that declares a model."""
    spec = monitored.dataset.model
    grid = ", ".join(f"{k} in {list(v)}" for k, v in spec.params.items()) or "no grid"

    @asset(
        key=monitored.key("trained_model"),
        **monitored.labels("model"),
        kinds={"scikitlearn", "pandas"},
        deps=[monitored.key("reference_table"), monitored.key("current_data")],
        description=f"{spec.estimator} ({spec.task} of {spec.target}"
        f"{', on log1p' if spec.target_transform else ''}), {grid}, chosen by {spec.metric} on "
        "time-ordered folds; trained on the reference plus all current data so far (months "
        "whose blocking quality checks failed left out) and scored on the newest rows in time. "
        "Stored as a new version (never overwriting one) and recorded in the model registry; "
        "it becomes production only if it is no worse than the production model on the same "
        "holdout.",
    )
    def trained_model(
        context: AssetExecutionContext,
        config: TrainingConfig,
        warehouse: Warehouse,
        model_store: ModelStore,
        notifier: Notifier,
        settings: DriftSettings,
    ) -> MaterializeResult:
        settings = monitored.settings(settings)
        store = monitored.store(warehouse)
        notifier = monitored.notifier(notifier)
        name = monitored.model_name
        registry = ModelRegistry(store.engine)
        # One version per training request, whoever runs it and however often: a re-run (after
        # a crash, or by a second process at the same time) finds the version of its request.
        request = context.run.tags.get(RUN_KEY_TAG) or context.run.run_id
        with exclusive(store.engine, f"train {name}"):
            record = registry.by_request(request) or _train_and_register(
                name, _Model.of(monitored, store, settings, config), registry, model_store,
                store, settings, config, request)
        promoted, gate = registry.gate_answer(record.version)
        status = "production" if promoted else "candidate"
        context.log.info(f"{name} v{record.version} stored at {record.uri}: {status}; {gate}")
        _notify_trained(context, notifier, store, config, record, status, gate, request)
        return MaterializeResult(metadata=_readable(_training_metadata(record, config, status,
                                                                       gate, registry)))

    @asset(
        key=monitored.key("model_performance"),
        **monitored.labels("model"),
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
        """The production model's declared metric on the month: estimated from the features
        alone as soon as the month is loaded (direct loss estimation for a regression,
        confidence-based performance estimation from calibrated probabilities for a
        classifier), and realized once its labels have arrived, both plotted over time. When
        the realized metric passes its threshold (a fixed bound, or the mean plus or minus N
        standard deviations of the earlier months) and the previous production version does
        better on this month, the model is rolled back to that version and the team is
        told."""
        settings = monitored.settings(settings)
        store = monitored.store(warehouse)
        notifier = monitored.notifier(notifier)
        month = month_label(context.partition_key)
        rows = store.read_month(month)
        registry = ModelRegistry(store.engine)
        production = registry.production()
        if production is None:
            # Nothing to score with yet: say so on the partition rather than fail the run.
            return MaterializeResult(metadata={"scored": False,
                                               "why": "no production model yet"})
        model = load_model(production, model_store)
        metric = spec.metric
        estimated = model.estimate(rows)
        known = modelling.labelled_rows(rows, spec, model.features, store.schema.timestamp)
        metadata = {"version": production.version, "metric": metric, "estimated": estimated,
                    "labelled_rows": len(known),
                    "in_training_window": bool(production.window_end
                                               and month <= month_label(production.window_end))}
        greater = modelling.METRIC_REGISTRY[metric].greater_is_better
        fixed = settings.max_rmsle if metric == "rmsle" else None
        threshold = error_threshold(
            registry.performance(before=month)["score"].dropna().tolist(), fixed,
            settings.error_n_std, greater_is_better=greater)
        score, scores = None, {}
        if not known.empty:
            scores = modelling.evaluate(model.model, known, spec, model.features)
            score = scores.pop("score")
            worse = degraded(score, threshold, metric)
            rolled_back_to = None
            if worse:
                rolled_back_to = _roll_back_if_better(context, monitored, registry, model_store,
                                                      notifier, production, known, month,
                                                      score, threshold)
            metadata.update({"realized": score, **{f"realized/{k}": v for k, v in
                                                   scores.items()},
                             "estimate_error": estimated - score, "degraded": worse,
                             "rolled_back_to": rolled_back_to})
        registry.record_performance(month, production.version, metric, score, estimated,
                                    scores)
        folder = ReportsFolder(settings.reports_dir, settings.reports_url)
        summary = folder.publish(
            monitored.name, MonthHistory(store.engine), settings.drift_share,
            settings.max_missing_share, model={
                "rows": registry.performance().to_dict("records"), "threshold": threshold,
                "metric": metric, "n_std": None if fixed is not None else settings.error_n_std})
        metadata.update({"scored": not known.empty, "threshold": threshold,
                         "all_months": MetadataValue.url(summary) if settings.reports_url
                         else MetadataValue.path(summary),
                         "metric_over_time": MetadataValue.md(charts.markdown_image(
                             folder.chart("model_error"), f"{metric} per month"))})
        return MaterializeResult(metadata=_readable(metadata))

    return [trained_model, model_performance]
