"""Any declared model (:class:`~drift_assets.lib.declaration.ModelSpec`): trained, scored, and
watched before its labels arrive.

A team declares a target, a task, an estimator by import path, a grid of its parameters under
their plain names (``C``, ``alpha``), a metric, optionally a log1p target and a polynomial
degree. :func:`train` grid-searches the estimator on the older rows with time-ordered folds,
scored by the declared metric *in its direction* (the public example this project replaces
maximized an error and so chose the worst alpha), and scores the winner on the newest rows.

Before the labels of a month arrive, :class:`MonitoredModel` estimates the declared metric:

* regression, by direct loss estimation (NannyML's DLE, as ``lib/estimation.py`` does for the
  bike model): a gradient-boosted model learns, on the holdout, the per-row loss from the
  row's features and the prediction; the metric follows from the mean estimated loss;
* classification, by confidence-based performance estimation (NannyML's CBPE): the model's
  probabilities are calibrated on the holdout (isotonic, one class against the rest), and the
  metric's *expected* value under the calibrated probabilities is computed, confusion matrix
  and ROC curve included.

Both assume that what changes between the holdout and a month is the inputs, not how the
target depends on them (covariate shift, not concept drift).

No Dagster here: the assets, the CLI and the tests call the same functions.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import is_classifier, is_regressor
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score
from sklearn.model_selection import GridSearchCV, KFold, TimeSeriesSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    OrdinalEncoder,
    PolynomialFeatures,
    StandardScaler,
)

from drift_assets.lib.declaration import ModelSpec
from drift_assets.lib.training import rmsle

ENCODE_STEP = "encode"
MODEL_STEP = "model"
PREDICTION = "__prediction__"  # the prediction, as an input of the loss model
_EPS = np.finfo(np.float64).eps


# --- metrics ---


def rmse(y_true, y_pred) -> float:
    """Root mean squared error."""
    error = np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)
    return float(np.sqrt(np.mean(error**2)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(y_pred, dtype=float) -
                                np.asarray(y_true, dtype=float))))


def _plain(value):
    """A numpy scalar as the Python value it holds, for messages ('yes', not np.str_('yes'))."""
    return value.item() if isinstance(value, np.generic) else value


def _labels(y_true, labels, *more) -> np.ndarray:
    if labels is not None:
        return np.asarray(labels)
    return np.unique(np.concatenate([np.asarray(y_true)] + [np.asarray(m) for m in more]))


def _proba(proba, labels: np.ndarray) -> np.ndarray:
    """Probabilities as one column per label; a binary model's may come as the positive's."""
    proba = np.asarray(proba, dtype=float)
    if proba.ndim == 1:
        proba = np.column_stack([1 - proba, proba])
    if proba.shape[1] != len(labels):
        raise ValueError(f"{proba.shape[1]} probability columns for {len(labels)} classes")
    return proba


def log_loss_of(y_true, proba, labels=None) -> float:
    """Log loss of probabilities (one column per label, in ``labels`` order; sorted labels of
    ``y_true`` when not given)."""
    labels = _labels(y_true, labels)
    return float(log_loss(np.asarray(y_true), _proba(proba, labels), labels=labels))


def roc_auc_of(y_true, proba, labels=None) -> float:
    """Area under the ROC curve: binary, the larger label (in sorted order) is the positive;
    multiclass, the mean of each class against the rest. ValueError when a class has no row,
    where the area is not defined."""
    labels = _labels(y_true, labels)
    proba = _proba(proba, labels)
    y_true = np.asarray(y_true)
    absent = [c for c in labels if not (y_true == c).any()]
    if len(labels) < 2:
        raise ValueError("roc_auc is undefined for one class")
    if absent:
        raise ValueError(f"roc_auc is undefined: no row of class {_plain(absent[0])!r}")
    if len(labels) == 2:
        return float(roc_auc_score(y_true == labels[1], proba[:, 1]))
    return float(roc_auc_score(y_true, proba, multi_class="ovr", labels=labels))


def accuracy(y_true, y_pred, labels=None) -> float:
    """Share of rows predicted right."""
    return float(accuracy_score(np.asarray(y_true), np.asarray(y_pred)))


def f1(y_true, y_pred, labels=None) -> float:
    """F1: binary, of the larger label in sorted order; multiclass, the macro mean."""
    labels = _labels(y_true, labels, y_pred)
    if len(labels) == 2:
        return float(f1_score(np.asarray(y_true), np.asarray(y_pred), pos_label=labels[1],
                              average="binary", zero_division=0))
    return float(f1_score(np.asarray(y_true), np.asarray(y_pred), labels=labels,
                          average="macro", zero_division=0))


class Metric(NamedTuple):
    """``function(y_true, y_pred_or_proba)``; whether a larger value is better; whether the
    function takes probabilities (one column per class) rather than predictions."""

    function: Callable[..., float]
    greater_is_better: bool
    needs_proba: bool


METRIC_REGISTRY: dict[str, Metric] = {
    "rmsle": Metric(rmsle, False, False),
    "rmse": Metric(rmse, False, False),
    "mae": Metric(mae, False, False),
    "log_loss": Metric(log_loss_of, False, True),
    "roc_auc": Metric(roc_auc_of, True, True),
    "accuracy": Metric(accuracy, True, False),
    "f1": Metric(f1, True, False),
}


def no_worse(candidate: float, production: float | None, metric: str,
             tolerance: float = 0.0) -> bool:
    """Whether ``candidate`` is no worse than ``production`` on ``metric``, allowing a relative
    ``tolerance`` (0.02: up to 2% of production's value worse), in the metric's direction. No
    production value: True; a candidate that is not a number: False."""
    if production is None or not np.isfinite(production):
        return bool(np.isfinite(candidate))
    if not np.isfinite(candidate):
        return False
    margin = tolerance * abs(production)
    if METRIC_REGISTRY[metric].greater_is_better:
        return bool(candidate >= production - margin)
    return bool(candidate <= production + margin)


# --- the estimator ---


def import_estimator(path: str) -> type:
    """The estimator class at ``path`` (``sklearn.linear_model.Ridge``). ValueError naming the
    path when it cannot be imported or is not a scikit-learn-compatible estimator class (fit,
    predict, get_params and set_params). The path comes from the team's declaration: importing
    it runs that module, as any import does."""
    module_name, _, name = path.rpartition(".")
    if not module_name or not name:
        raise ValueError(f"estimator {path!r}: expected an import path such as "
                         "sklearn.linear_model.Ridge")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"estimator {path!r}: cannot import module {module_name!r} "
                         f"({exc})") from exc
    if not hasattr(module, name):
        raise ValueError(f"estimator {path!r}: module {module_name!r} has no {name!r}")
    found = getattr(module, name)
    if not isinstance(found, type):
        raise ValueError(f"estimator {path!r} is a {type(found).__name__}, not an estimator "
                         "class")
    missing = [m for m in ("fit", "predict", "get_params", "set_params")
               if not callable(getattr(found, m, None))]
    if missing:
        raise ValueError(f"estimator {path!r} is not a scikit-learn estimator: it has no "
                         f"{', '.join(missing)}")
    return found


def make_estimator(spec: ModelSpec):
    """An unfitted estimator of ``spec``, checked against the task, the metric and the grid:
    ValueError naming the estimator when it is a regressor declared for classification (or the
    reverse), has no ``predict_proba`` for a metric that needs one (log_loss, roc_auc), or has
    no parameter the grid names."""
    cls = import_estimator(spec.estimator)
    try:
        estimator = cls()
    except Exception as exc:
        raise ValueError(f"estimator {spec.estimator!r} cannot be made with its default "
                         f"parameters ({exc}); the grid sets parameters, not the "
                         "constructor") from exc
    known = estimator.get_params(deep=True)
    unknown = [p for p in spec.params if p not in known]
    if unknown:
        raise ValueError(f"estimator {spec.estimator!r} has no parameter {unknown[0]!r}; its "
                         f"parameters are {', '.join(sorted(known))}")
    # One-value parameters are the estimator's own settings (e.g. probability=True).
    estimator.set_params(**{p: v[0] for p, v in spec.params.items() if len(v) == 1})
    kind = _kind(estimator)
    if kind is not None and kind != spec.task:
        raise ValueError(f"estimator {spec.estimator!r} is a {kind} estimator, declared for "
                         f"{spec.task}")
    if METRIC_REGISTRY[spec.metric].needs_proba and not hasattr(estimator, "predict_proba"):
        raise ValueError(f"estimator {spec.estimator!r} has no predict_proba, which metric "
                         f"{spec.metric!r} needs: declare accuracy or f1, or an estimator "
                         "with predict_proba")
    return estimator


def _kind(estimator) -> str | None:
    try:
        if is_classifier(estimator):
            return "classification"
        if is_regressor(estimator):
            return "regression"
    except Exception:  # an estimator without scikit-learn's tags: its kind is unknown
        return None
    return None


def _column_text(values: pd.Series) -> pd.Series:
    """A category column as text; whole numbers without a decimal part, so 1 and 1.0 (an
    integer column read as floats because of a missing value) are one category. Each distinct
    value is written once (a column holds a few), then taken for every row: a million rows
    cost a few values, not a million strings."""
    codes, distinct = pd.factorize(values)  # a missing value: code -1
    text = _distinct_text(pd.Series(distinct, name=values.name)).to_numpy(dtype=object)
    out = np.empty(len(values), dtype=object)
    present = codes >= 0
    out[present] = text[codes[present]]
    # missing values as each is written ('None', 'nan', '<NA>'), as before
    out[~present] = values[~present].astype(str).to_numpy(dtype=object)
    return pd.Series(out, index=values.index, name=values.name)


def _distinct_text(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        text = values.astype(str).to_numpy(dtype=object)
        whole = np.isfinite(numbers) & (numbers == np.round(numbers)) & \
            (np.abs(numbers) < 2.0**53)
        text[whole] = numbers[whole].astype(np.int64).astype(str)
        return pd.Series(text, index=values.index, name=values.name)
    return values.astype(str)


def category_text(frame) -> pd.DataFrame:
    """Every column as text (see :func:`_column_text`): ints and words alike are categories."""
    return pd.DataFrame(frame).apply(_column_text)


def _categories_as_text(encoder) -> Pipeline:
    return Pipeline([("text", FunctionTransformer(category_text, feature_names_out="one-to-one")),
                     ("codes", encoder)])


def build_pipeline(spec: ModelSpec, numeric: Sequence[str], categorical: Sequence[str]
                   ) -> Pipeline:
    """The declared model as a pipeline: categories one-hot encoded (as text, unknown ones
    ignored), numbers with their products up to ``spec.degree`` and standardised unless
    ``spec.scale`` is off, then the estimator (on log1p of the target when declared)."""
    parts: list[tuple] = []
    if categorical:
        parts.append(("categories",
                      _categories_as_text(OneHotEncoder(handle_unknown="ignore")),
                      list(categorical)))
    if numeric:
        steps = [("products", PolynomialFeatures(degree=spec.degree, include_bias=False))] \
            if spec.degree > 1 else []
        if spec.scale:
            # a penalised or distance-based estimator weighs a feature by its units otherwise
            # (days of tenure against a sentiment in -1..1), and lbfgs crawls on them
            steps.append(("scale", StandardScaler()))
        numbers = Pipeline(steps) if len(steps) > 1 else steps[0][1] if steps else \
            "passthrough"
        parts.append(("numbers", numbers, list(numeric)))
    if not parts:
        raise ValueError("the model has no feature columns")
    estimator = make_estimator(spec)
    if spec.task == "regression" and spec.target_transform == "log1p":
        estimator = TransformedTargetRegressor(estimator, func=np.log1p, inverse_func=np.expm1)
    return Pipeline([(ENCODE_STEP, ColumnTransformer(parts)), (MODEL_STEP, estimator)])


def _param_prefix(spec: ModelSpec) -> str:
    if spec.task == "regression" and spec.target_transform == "log1p":
        return f"{MODEL_STEP}__regressor__"
    return f"{MODEL_STEP}__"


def pipeline_grid(spec: ModelSpec) -> dict[str, list]:
    """The declared grid under the pipeline's names (``C`` -> ``model__C``)."""
    prefix = _param_prefix(spec)
    return {prefix + name: list(values) for name, values in spec.params.items()}


def plain_params(spec: ModelSpec, params: dict[str, Any]) -> dict[str, Any]:
    """Pipeline parameter names back to the declared ones (``model__C`` -> ``C``)."""
    prefix = _param_prefix(spec)
    return {name.removeprefix(prefix): value for name, value in params.items()}


def _pipeline_of(model) -> Pipeline:
    return model.best_estimator_ if isinstance(model, GridSearchCV) else model


def model_columns(model) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The numeric and the categorical input columns of a model :func:`build_pipeline` made."""
    encode = _pipeline_of(model).named_steps[ENCODE_STEP]
    columns = {name: tuple(cols) for name, _, cols in encode.transformers}
    return columns.get("numbers", ()), columns.get("categories", ())


# --- rows ---


def resolve_features(spec: ModelSpec, features: Sequence[str] | None) -> tuple[str, ...]:
    """The model's inputs: ``features`` when given, else the declaration's."""
    chosen = tuple(features) if features is not None else spec.features
    if not chosen:
        raise ValueError("the model has no features: declare model.features or pass them")
    if spec.target in chosen:
        raise ValueError(f"{spec.target!r} is the target and also a feature")
    return chosen


def split_columns(frame: pd.DataFrame, features: Sequence[str],
                  categorical: Sequence[str] | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(numeric, categorical) among ``features``: the declared categorical ones, or, when
    none are declared (None), every feature whose values are not numbers."""
    if categorical is None:
        categorical = [c for c in features if not pd.api.types.is_numeric_dtype(frame[c]) or
                       pd.api.types.is_bool_dtype(frame[c])]
    chosen = set(categorical)
    return (tuple(c for c in features if c not in chosen),
            tuple(c for c in features if c in chosen))


def _check_present(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise ValueError(f"the rows have no column {absent[0]!r} (they have "
                         f"{', '.join(map(str, frame.columns))})")


def labelled_rows(frame: pd.DataFrame, spec: ModelSpec, features: Sequence[str],
                  timestamp: str) -> pd.DataFrame:
    """Rows whose target, features and timestamp are known, in time order (stable)."""
    needed = [spec.target, *features, timestamp]
    _check_present(frame, needed)
    rows = frame.dropna(subset=needed)
    return rows.sort_values(timestamp, kind="mergesort").reset_index(drop=True)


def split(rows: pd.DataFrame, holdout_share: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The older rows to train on and the newest ``holdout_share`` to score on."""
    if not 0 < holdout_share < 1:
        raise ValueError(f"holdout_share must be between 0 and 1, got {holdout_share}")
    cut = int(round(len(rows) * (1 - holdout_share)))
    return rows.iloc[:cut], rows.iloc[cut:]


def _count(bad: np.ndarray) -> str:
    count = int(bad.sum())
    return f"{count} value is" if count == 1 else f"{count} values are"


def refuse_unusable(rows: pd.DataFrame, spec: ModelSpec, numeric: Sequence[str], doing: str,
                    with_target: bool = True) -> None:
    """ValueError naming every column that would give scikit-learn a value it cannot take,
    with how many: a numeric feature that is not a finite number, or so large that a product
    of ``spec.degree`` of them is infinite; a regression target that is not a finite number,
    or negative where log1p is learnt or RMSLE is scored."""
    limit = np.finfo(np.float64).max ** (1 / max(spec.degree, 1))
    problems = []
    for column in numeric:
        raw = rows[column]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isfinite(values) | (np.abs(values) > limit)
        if bad.any():
            power = f" (itself or its power up to {spec.degree})" if spec.degree > 1 else ""
            problems.append(f"{column}: {_count(bad)} not a finite number{power}, e.g. "
                            f"{_plain(raw.to_numpy()[bad][0])!r}")
    if with_target and spec.task == "regression":
        raw = rows[spec.target]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isfinite(values)
        why = "not a finite number"
        if spec.target_transform == "log1p" or spec.metric == "rmsle":
            bad |= values < 0
            why = "negative or not a finite number (" + (
                f"log1p({spec.target}) is learnt" if spec.target_transform == "log1p"
                else "RMSLE is scored") + ")"
        if bad.any():
            problems.append(f"{spec.target}: {_count(bad)} {why}, e.g. "
                            f"{_plain(raw.to_numpy()[bad][0])!r}")
    if problems:
        raise ValueError(f"cannot {doing}: " + "; ".join(problems))


def _target(rows: pd.DataFrame, spec: ModelSpec) -> np.ndarray:
    if spec.task == "regression":
        return pd.to_numeric(rows[spec.target]).to_numpy(dtype=float)
    return rows[spec.target].to_numpy()


# --- training and scoring ---


class _Scorer:
    """The declared metric as a grid search's score: larger is better, so errors negated."""

    def __init__(self, spec: ModelSpec):
        self.spec = spec

    def __call__(self, estimator, x, y) -> float:
        value = _metric_value(self.spec.metric, self.spec, estimator, x, y)
        return value if METRIC_REGISTRY[self.spec.metric].greater_is_better else -value


def _metric_value(metric: str, spec: ModelSpec, model, x, y) -> float:
    function, _, needs_proba = METRIC_REGISTRY[metric]
    if spec.task == "regression":
        return function(y, model.predict(x))
    output = model.predict_proba(x) if needs_proba else model.predict(x)
    return function(y, output, labels=model.classes_)


@dataclass(frozen=True)
class TrainedModel:
    """A trained model and how it scored. ``model`` is the fitted grid search (``predict``,
    ``predict_proba`` and ``best_estimator_``, the winning pipeline refitted on every training
    row). ``best_params`` under the declared names; ``cv_score`` the declared metric's mean
    over the time-ordered folds (the metric itself, errors not negated); ``holdout_scores``
    every metric of the task that applies on the holdout, and the declared one again as
    ``"score"``; windows as values of the timestamp column."""

    model: GridSearchCV
    best_params: dict[str, Any]
    cv_score: float
    holdout_scores: dict[str, float]
    train_rows: int
    holdout_rows: int
    window_start: Any
    window_end: Any
    holdout_start: Any
    features: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def score(self) -> float:
        """The declared metric on the holdout."""
        return self.holdout_scores["score"]


def _refuse_one_class(y: np.ndarray, spec: ModelSpec, where: str) -> None:
    classes = pd.unique(y)
    if len(classes) < 2:
        shown = f" ({_plain(classes[0])!r})" if len(classes) else ""
        raise ValueError(f"cannot train a classifier: target {spec.target!r} holds one class "
                         f"only{shown} in {where}")


def train(frame: pd.DataFrame, spec: ModelSpec, features: Sequence[str] | None,
          categorical: Sequence[str] | None, timestamp: str, holdout_share: float = 0.2,
          cv_splits: int = 5) -> TrainedModel:
    """Grid-search the declared model on the older rows, scored by the declared metric on
    ``cv_splits`` time-ordered folds, and score the winner on the newest ``holdout_share``.

    Rows with a missing target, feature or timestamp are left out. ``features`` None: the
    declaration's; ``categorical`` None: the features that are not numbers. Values scikit-learn
    cannot take raise ValueError naming the column (:func:`refuse_unusable`); so does a
    classification target of one class, in all rows or in the rows of a fold."""
    features = resolve_features(spec, features)
    _check_present(frame, [*features, spec.target, timestamp])
    numeric, categorical = split_columns(frame, features, categorical)
    pipeline = build_pipeline(spec, numeric, categorical)
    rows = labelled_rows(frame, spec, features, timestamp)
    refuse_unusable(rows, spec, numeric, "train the model")
    y = _target(rows, spec)
    if spec.task == "classification":
        _refuse_one_class(y, spec, f"the {len(rows)} labelled rows")
    train_rows, holdout = split(rows, holdout_share)
    if len(train_rows) < cv_splits + 2 or holdout.empty:
        raise ValueError(f"{len(rows)} labelled rows are too few to train with {cv_splits} "
                         "folds and hold out")
    folds = TimeSeriesSplit(n_splits=cv_splits)
    y_train = y[:len(train_rows)]
    if spec.task == "classification":
        for number, (fit, _) in enumerate(folds.split(train_rows), start=1):
            _refuse_one_class(y_train[fit], spec, f"the {len(fit)} rows fold {number} of "
                              f"{cv_splits} trains on (the oldest); use fewer folds or more rows")
    search = GridSearchCV(pipeline, pipeline_grid(spec), scoring=_Scorer(spec), cv=folds)
    search.fit(train_rows[list(features)], y_train)
    if not np.isfinite(search.best_score_):
        raise ValueError(f"the cross-validated {spec.metric} is not a number for any "
                         f"parameters of the grid (a fold where {spec.metric} is undefined?)")
    sign = 1 if METRIC_REGISTRY[spec.metric].greater_is_better else -1
    return TrainedModel(
        model=search,
        best_params=plain_params(spec, search.best_params_),
        cv_score=float(sign * search.best_score_),
        holdout_scores=evaluate(search, holdout, spec, features),
        train_rows=len(train_rows),
        holdout_rows=len(holdout),
        window_start=rows[timestamp].iloc[0],
        window_end=rows[timestamp].iloc[-1],
        holdout_start=holdout[timestamp].iloc[0],
        features=features,
        categorical=categorical,
    )


def _usable(frame: pd.DataFrame, spec: ModelSpec, model, features: Sequence[str],
            doing: str, with_target: bool) -> pd.DataFrame:
    needed = [*features] + ([spec.target] if with_target else [])
    _check_present(frame, needed)
    rows = frame.dropna(subset=needed)
    if rows.empty:
        raise ValueError(f"cannot {doing}: no row has " +
                         ("its target and every feature" if with_target else "every feature"))
    refuse_unusable(rows, spec, model_columns(model)[0], doing, with_target)
    return rows


def _check_classes(y: np.ndarray, model, spec: ModelSpec) -> None:
    unseen = sorted({str(v) for v in pd.unique(y) if v not in set(model.classes_)})
    if unseen:
        raise ValueError(f"target {spec.target!r} holds classes the model never saw: "
                         f"{', '.join(unseen)} (it knows {', '.join(map(str, model.classes_))})")


def evaluate(model, frame: pd.DataFrame, spec: ModelSpec,
             features: Sequence[str] | None = None) -> dict[str, float]:
    """Every metric of the task that applies to ``model`` on the labelled rows of ``frame``,
    and the declared one again as ``"score"``. Regression: rmse, mae, and rmsle unless a target
    is negative. Classification: accuracy, f1, and with ``predict_proba`` log_loss, and roc_auc
    when every class has a row. ValueError when the declared metric does not apply."""
    features = resolve_features(spec, features)
    rows = _usable(frame, spec, model, features, "evaluate the model", with_target=True)
    x, y = rows[list(features)], _target(rows, spec)
    scores: dict[str, float] = {}
    why = ""
    if spec.task == "regression":
        predicted = model.predict(x)
        if (y >= 0).all():
            scores["rmsle"] = rmsle(y, predicted)
        else:
            why = "a target is negative"
        scores["rmse"] = rmse(y, predicted)
        scores["mae"] = mae(y, predicted)
    else:
        _check_classes(y, model, spec)
        labels = model.classes_
        predicted = model.predict(x)
        scores["accuracy"] = accuracy(y, predicted, labels)
        scores["f1"] = f1(y, predicted, labels)
        if hasattr(model, "predict_proba"):
            proba = model.predict_proba(x)
            scores["log_loss"] = log_loss_of(y, proba, labels)
            absent = [c for c in labels if not (y == c).any()]
            if absent:
                why = f"no row of class {_plain(absent[0])!r}"
            else:
                scores["roc_auc"] = roc_auc_of(y, proba, labels)
        else:
            why = "the estimator has no predict_proba"
    if spec.metric not in scores:
        raise ValueError(f"cannot score {spec.metric} on these {len(rows)} rows: {why}")
    scores["score"] = scores[spec.metric]
    return scores


# --- performance before the labels ---


def per_row_loss(metric: str, y_true, y_pred) -> np.ndarray:
    """The loss whose mean gives a regression metric: squared log error (rmsle), squared
    error (rmse), absolute error (mae)."""
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if metric == "rmsle":
        return (np.log1p(np.clip(y_pred, 0, None)) - np.log1p(y_true)) ** 2
    if metric == "rmse":
        return (y_pred - y_true) ** 2
    if metric == "mae":
        return np.abs(y_pred - y_true)
    raise ValueError(f"{metric!r} is not a regression metric")


def metric_from_loss(metric: str, losses) -> float:
    """The regression metric from per-row losses (estimated ones clipped at zero)."""
    mean = float(np.mean(np.clip(np.asarray(losses, dtype=float), 0, None)))
    return mean if metric == "mae" else float(np.sqrt(mean))


def _loss_model(numeric: Sequence[str], categorical: Sequence[str]) -> Pipeline:
    """Features and prediction -> per-row loss: categories as codes the trees split on as
    categories (unknown ones as missing; the rarest pooled beyond 255)."""
    parts: list[tuple] = []
    if categorical:
        codes = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                               max_categories=255)
        parts.append(("categories", _categories_as_text(codes), list(categorical)))
    parts.append(("numbers", "passthrough", [*numeric, PREDICTION]))
    mask = [True] * len(categorical) + [False] * (len(numeric) + 1)
    trees = HistGradientBoostingRegressor(max_depth=3, max_iter=100, min_samples_leaf=5,
                                          categorical_features=mask, random_state=0)
    return Pipeline([(ENCODE_STEP, ColumnTransformer(parts)), ("trees", trees)])


def _with_prediction(model, rows: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    x = rows[list(features)]
    return x.assign(**{PREDICTION: np.asarray(model.predict(x), dtype=float)})


def expected_roc_auc(calibrated, scores) -> float:
    """The ROC AUC expected when row i is positive with probability ``calibrated[i]``, rows
    ranked by the model's ``scores`` (NannyML's CBPE: expected true and false positives at
    each threshold, ties in score taken together, the curve integrated). With 0/1 labels as
    ``calibrated`` it is the realized AUC."""
    calibrated = np.asarray(calibrated, dtype=float)
    scores = np.asarray(scores, dtype=float)
    order = np.argsort(-scores, kind="mergesort")
    calibrated, scores = calibrated[order], scores[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
    tps = np.r_[0.0, np.cumsum(calibrated)[last_of_tie]]
    fps = np.r_[0.0, np.cumsum(1 - calibrated)[last_of_tie]]
    if tps[-1] <= 0 or fps[-1] <= 0:
        return float("nan")
    return float(np.trapezoid(tps / tps[-1], fps / fps[-1]))


def _expected_f1(calibrated: np.ndarray, predicted: np.ndarray) -> float:
    positive = predicted == 1
    tp = calibrated[positive].sum()
    fp = (1 - calibrated[positive]).sum()
    fn = calibrated[~positive].sum()
    denominator = 2 * tp + fp + fn
    return float(2 * tp / denominator) if denominator > 0 else 0.0


def expected_scores(raw: np.ndarray, calibrated: np.ndarray, predicted: np.ndarray
                    ) -> dict[str, float]:
    """The classification metrics expected from probabilities alone. ``raw``: the model's
    probabilities (one column per class, sorted); ``calibrated``: the probability that each row
    is of each class; ``predicted``: the column of each row's predicted class. Binary: class 1
    is the positive. Multiclass: roc_auc and f1 as macro means of one class against the rest.
    With the true labels one-hot as ``calibrated`` every value is the realized one."""
    rows = np.arange(len(predicted))
    k = raw.shape[1]
    out = {
        "accuracy": float(calibrated[rows, predicted].mean()),
        "log_loss": float(-(calibrated * np.log(np.clip(raw, _EPS, 1))).sum(axis=1).mean()),
    }
    if k == 2:
        out["roc_auc"] = expected_roc_auc(calibrated[:, 1], raw[:, 1])
        out["f1"] = _expected_f1(calibrated[:, 1], predicted)
    else:
        out["roc_auc"] = float(np.mean([expected_roc_auc(calibrated[:, c], raw[:, c])
                                        for c in range(k)]))
        out["f1"] = float(np.mean([_expected_f1(calibrated[:, c], (predicted == c).astype(int))
                                   for c in range(k)]))
    return out


def _brier(proba: np.ndarray, truth: np.ndarray) -> float:
    """Brier score of probabilities against one-hot truth: squared error summed over classes,
    averaged over rows (a proper score: a calibrator that overfits pays for it)."""
    return float(((proba - truth) ** 2).sum(axis=1).mean())


class ProbabilityCalibrator:
    """Isotonic regression of each class's probability against the rest, fitted on labelled
    rows the model did not train on; rows renormalised to sum to one. As in NannyML, it is used
    only when it helps: when, on 5 folds of those rows, probabilities calibrated on the other
    folds have a lower Brier score than the model's own (NannyML compares the expected
    calibration error; the Brier score also charges an isotonic fit that overfits a small
    holdout with overconfident steps). ``used_`` says which."""

    def __init__(self, classes):
        self.classes = np.asarray(classes)

    def _columns(self) -> list[int]:
        return [1] if len(self.classes) == 2 else list(range(len(self.classes)))

    def _fit_isotonic(self, proba: np.ndarray, truth: np.ndarray) -> dict[int, IsotonicRegression]:
        return {c: IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip")
                .fit(proba[:, c], truth[:, c]) for c in self._columns()}

    def _apply(self, isotonic: dict[int, IsotonicRegression], proba: np.ndarray) -> np.ndarray:
        if len(self.classes) == 2:
            positive = isotonic[1].predict(proba[:, 1])
            return np.column_stack([1 - positive, positive])
        calibrated = np.column_stack([isotonic[c].predict(proba[:, c])
                                      for c in self._columns()])
        sums = calibrated.sum(axis=1, keepdims=True)
        # A row the calibrators all put at zero keeps the model's own probabilities.
        return np.where(sums > 0, calibrated / np.where(sums > 0, sums, 1), proba)

    def fit(self, proba, y) -> ProbabilityCalibrator:
        proba = np.asarray(proba, dtype=float)
        truth = (np.asarray(y)[:, None] == self.classes[None, :]).astype(float)
        self.isotonic_ = self._fit_isotonic(proba, truth)
        raw_error = calibrated_error = 0.0
        folds = KFold(n_splits=5, shuffle=True, random_state=0)
        for fit, check in folds.split(proba) if len(proba) >= 10 else ():
            calibrated = self._apply(self._fit_isotonic(proba[fit], truth[fit]), proba[check])
            raw_error += _brier(proba[check], truth[check])
            calibrated_error += _brier(calibrated, truth[check])
        self.used_ = bool(calibrated_error < raw_error)
        return self

    def transform(self, proba) -> np.ndarray:
        proba = np.asarray(proba, dtype=float)
        return self._apply(self.isotonic_, proba) if self.used_ else proba


class MonitoredModel:
    """A trained model with what estimates its declared metric on rows without labels: for
    regression a loss model (direct loss estimation), for classification a
    :class:`ProbabilityCalibrator` (confidence-based performance estimation). Picklable."""

    def __init__(self, model, estimator_of_performance, spec: ModelSpec,
                 features: Sequence[str]):
        self.model = model
        self.estimator_of_performance = estimator_of_performance
        self.spec = spec
        self.features = tuple(features)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.model.predict(frame[list(self.features)])

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(frame[list(self.features)])

    def estimates(self, frame: pd.DataFrame) -> dict[str, float]:
        """The metrics expected on the rows of ``frame`` whose features are known (labels not
        needed), the declared one again as ``"score"``. Regression: the declared metric only;
        classification: accuracy, f1, log_loss and roc_auc."""
        rows = _usable(frame, self.spec, self.model, self.features, "estimate the metric",
                       with_target=False)
        if self.spec.task == "regression":
            losses = self.estimator_of_performance.predict(
                _with_prediction(self.model, rows, self.features))
            out = {self.spec.metric: metric_from_loss(self.spec.metric, losses)}
        else:
            x = rows[list(self.features)]
            raw = np.asarray(self.model.predict_proba(x), dtype=float)
            predicted = pd.Index(self.model.classes_).get_indexer(self.model.predict(x))
            calibrated = self.estimator_of_performance.transform(raw)
            out = expected_scores(raw, calibrated, predicted)
        out["score"] = out[self.spec.metric]
        return out

    def estimate(self, frame: pd.DataFrame) -> float:
        """The declared metric expected on ``frame`` from its features alone."""
        return self.estimates(frame)["score"]


def fit_monitor(model, holdout_frame: pd.DataFrame, spec: ModelSpec,
                features: Sequence[str] | None = None) -> MonitoredModel:
    """Fit the estimator of ``model``'s performance on labelled rows it did not train on (its
    holdout) and return both as a :class:`MonitoredModel`."""
    features = resolve_features(spec, features)
    rows = _usable(holdout_frame, spec, model, features, "fit the performance estimator",
                   with_target=True)
    y = _target(rows, spec)
    if spec.task == "regression":
        numeric, categorical = model_columns(model)
        losses = per_row_loss(spec.metric, y, model.predict(rows[list(features)]))
        estimator = _loss_model(numeric, categorical).fit(
            _with_prediction(model, rows, features), losses)
    else:
        if not hasattr(model, "predict_proba"):
            raise ValueError(f"estimator {spec.estimator!r} has no predict_proba: performance "
                             "before the labels (CBPE) needs the model's probabilities")
        _check_classes(y, model, spec)
        estimator = ProbabilityCalibrator(model.classes_).fit(
            model.predict_proba(rows[list(features)]), y)
    return MonitoredModel(model, estimator, spec, features)
