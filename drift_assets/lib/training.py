"""The demand model: Ridge on a log1p target, alpha chosen by grid search on RMSLE.

The public example scores the search with ``greater_is_better=True`` on an error, which makes the
search pick the *worst* alpha. Here the scorer is the negated RMSLE, so the best alpha wins.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.linear_model import Ridge
from sklearn.metrics import make_scorer, mean_absolute_error
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, PolynomialFeatures

from drift_assets.lib.schema import CATEGORICAL_FEATURES, DATE_COLUMN, NUMERIC_FEATURES, TARGET

ALPHAS = (0.1, 1, 2, 3, 4, 10, 100)
# The pipeline squares the numeric features and multiplies them in pairs: beyond this magnitude
# a product is no longer a float64 but infinity.
_LARGEST_SQUARABLE = float(np.sqrt(np.finfo(np.float64).max))


def rmsle(y_true, y_pred) -> float:
    """Root mean squared logarithmic error; negative predictions count as zero."""
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.clip(np.asarray(y_pred, dtype=float), 0, None)
    return float(np.sqrt(np.mean((np.log1p(y_pred) - np.log1p(y_true)) ** 2)))


RMSLE_SCORER = make_scorer(rmsle, greater_is_better=False)


@dataclass(frozen=True)
class TrainingResult:
    model: GridSearchCV
    best_alpha: float
    cv_rmsle: float
    holdout_rmsle: float
    holdout_mae: float
    train_rows: int
    holdout_rows: int
    window_start: dt.date
    window_end: dt.date
    holdout_start: dt.date


def features(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[list(CATEGORICAL_FEATURES) + list(NUMERIC_FEATURES)]


def _pipeline() -> Pipeline:
    encode = ColumnTransformer(
        [
            ("categories", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL_FEATURES)),
            # Squares and products: demand rises with warmth only up to a comfortable point.
            ("numbers", PolynomialFeatures(degree=2, include_bias=False), list(NUMERIC_FEATURES)),
        ]
    )
    regressor = TransformedTargetRegressor(Ridge(), func=np.log1p, inverse_func=np.expm1)
    return Pipeline([("encode", encode), ("ridge", regressor)])


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows whose target and features are known, in time order."""
    needed = [TARGET] + list(CATEGORICAL_FEATURES) + list(NUMERIC_FEATURES)
    return frame.dropna(subset=needed).sort_values(DATE_COLUMN).reset_index(drop=True)


def _values(bad: np.ndarray) -> str:
    count = int(bad.sum())
    return f"{count} value is" if count == 1 else f"{count} values are"


def refuse_non_finite(rows: pd.DataFrame, doing: str, target: str | None = TARGET) -> None:
    """Raise ValueError naming every column of ``rows`` that would give scikit-learn a value
    that is not a finite number, with how many: a feature that is NaN or infinite, or so large
    that its square is infinite; the target (learnt as log1p) negative or not finite."""
    problems = []
    for column in list(CATEGORICAL_FEATURES) + list(NUMERIC_FEATURES):
        values = pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype=float,
                                                                       na_value=np.nan)
        bad = ~np.isfinite(values)
        if column in NUMERIC_FEATURES:
            bad |= np.abs(values) > _LARGEST_SQUARABLE
        if bad.any():
            problems.append(f"{column}: {_values(bad)} non-finite (itself or its square), "
                            f"e.g. {values[bad][0]:g}")
    if target is not None:
        values = pd.to_numeric(rows[target], errors="coerce").to_numpy(dtype=float,
                                                                       na_value=np.nan)
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            problems.append(f"{target}: {_values(bad)} negative or non-finite (log1p({target}) "
                            f"is learnt), e.g. {values[bad][0]:g}")
    if problems:
        raise ValueError(f"cannot {doing}: " + "; ".join(problems))


def evaluate(model, frame: pd.DataFrame) -> dict[str, float]:
    """RMSLE and MAE of ``model`` on the labelled rows of ``frame``."""
    rows = labelled(frame)
    if rows.empty:
        raise ValueError("no labelled rows to evaluate on")
    refuse_non_finite(rows, "evaluate the model")
    predicted = model.predict(features(rows))
    truth = rows[TARGET].astype(float)
    return {"rmsle": rmsle(truth, predicted), "mae": float(mean_absolute_error(truth, predicted))}


def train(
    frame: pd.DataFrame,
    holdout_share: float = 0.2,
    cv_splits: int = 5,
    alphas: tuple[float, ...] | list[float] = ALPHAS,
) -> TrainingResult:
    """Grid-search Ridge on the older rows and score it on the newest ``holdout_share`` of them.

    The holdout is the latest part in time, so the score says how the model does on days after
    those it learnt from, as it will in production. Values scikit-learn cannot take (see
    :func:`refuse_non_finite`) raise ValueError naming the column before it sees them.
    """
    rows = labelled(frame)
    refuse_non_finite(rows, "train the model")
    cut = int(round(len(rows) * (1 - holdout_share)))
    if cut < cv_splits + 2 or len(rows) - cut < 1:
        raise ValueError(f"{len(rows)} labelled rows are too few to train and hold out")
    train_rows, holdout = rows.iloc[:cut], rows.iloc[cut:]
    search = GridSearchCV(
        _pipeline(),
        {"ridge__regressor__alpha": list(alphas)},
        scoring=RMSLE_SCORER,
        cv=TimeSeriesSplit(n_splits=cv_splits),
    )
    search.fit(features(train_rows), train_rows[TARGET].astype(float))
    scores = evaluate(search, holdout)
    return TrainingResult(
        model=search,
        best_alpha=float(search.best_params_["ridge__regressor__alpha"]),
        cv_rmsle=float(-search.best_score_),
        holdout_rmsle=scores["rmsle"],
        holdout_mae=scores["mae"],
        train_rows=len(train_rows),
        holdout_rows=len(holdout),
        window_start=rows[DATE_COLUMN].iloc[0],
        window_end=rows[DATE_COLUMN].iloc[-1],
        holdout_start=holdout[DATE_COLUMN].iloc[0],
    )
