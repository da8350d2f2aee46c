import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor

from drift_assets.lib.generator import generate
from drift_assets.lib.source import conform
from drift_assets.lib.training import ALPHAS, evaluate, rmsle, train


def test_rmsle():
    assert rmsle([1, 2, 3], [1, 2, 3]) == 0
    assert rmsle([0], [np.e - 1]) == pytest.approx(1.0)
    assert rmsle([0], [-5]) == 0  # negative predictions count as zero


@pytest.fixture(scope="module")
def trained():
    frame = conform(generate("2011-01", "2011-12"), "test")
    return frame, train(frame)


def test_grid_search_picks_the_lowest_rmsle(trained):
    _, result = trained
    scores = dict(zip(result.model.cv_results_["param_ridge__regressor__alpha"],
                      -result.model.cv_results_["mean_test_score"], strict=True))
    assert set(scores) == set(ALPHAS)
    assert result.best_alpha == min(scores, key=scores.get)  # lower RMSLE is better
    assert result.cv_rmsle == pytest.approx(min(scores.values()))


def test_log1p_target_and_time_ordered_holdout(trained):
    frame, result = trained
    ridge = result.model.best_estimator_.named_steps["ridge"]
    assert isinstance(ridge, TransformedTargetRegressor) and ridge.func is np.log1p
    assert result.train_rows + result.holdout_rows == len(frame)
    assert str(result.holdout_start) > "2011-10-01"
    holdout = frame[frame["dteday"] >= result.holdout_start]
    assert evaluate(result.model, holdout)["rmsle"] == pytest.approx(result.holdout_rmsle)
    assert result.holdout_rmsle < 0.5  # far better than predicting the mean


def test_unlabelled_rows_are_left_out():
    frame = conform(generate("2011-01", "2011-06"), "test")
    frame.loc[frame.index[-30:], "cnt"] = None
    result = train(frame)
    assert result.train_rows + result.holdout_rows == len(frame) - 30
