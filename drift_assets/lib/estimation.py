"""Performance before the labels arrive: direct loss estimation.

Labels (``cnt``) come late. Following NannyML's direct loss estimation, a second model learns,
from rows whose labels are known and that the demand model did not train on (its holdout), the
squared log error the demand model makes on a row given the row's features and the prediction.
On a month without labels its mean estimate gives the RMSLE to expect; once the labels arrive
the realized RMSLE replaces it and the estimate's own error is recorded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

from drift_assets.lib.training import features, refuse_non_finite


class MonitoredModel:
    """The demand model together with the estimator of its own error."""

    def __init__(self, model, error_model):
        self.model = model
        self.error_model = error_model

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.model.predict(frame)

    def estimate_rmsle(self, frame: pd.DataFrame) -> float:
        """The RMSLE expected on ``frame`` from its features alone."""
        squared = np.clip(self.error_model.predict(_error_features(self.model, frame)), 0, None)
        return float(np.sqrt(squared.mean()))


def _error_features(model, frame: pd.DataFrame) -> pd.DataFrame:
    rows = features(frame).astype(float)
    rows = rows.assign(log_prediction=np.log1p(np.clip(model.predict(features(frame)), 0, None)))
    return rows


def fit_error_model(model, labelled_rows: pd.DataFrame, target: str = "cnt"
                    ) -> HistGradientBoostingRegressor:
    """Fit the per-row squared log error of ``model`` on rows it did not train on; values
    scikit-learn cannot take raise ValueError naming the column."""
    refuse_non_finite(labelled_rows, "fit the error model", target)
    predicted = np.clip(model.predict(features(labelled_rows)), 0, None)
    truth = labelled_rows[target].astype(float).to_numpy()
    squared = (np.log1p(predicted) - np.log1p(truth)) ** 2
    error_model = HistGradientBoostingRegressor(max_depth=3, max_iter=100, min_samples_leaf=5,
                                                random_state=0)
    return error_model.fit(_error_features(model, labelled_rows), squared)
