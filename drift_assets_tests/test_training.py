import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.model_selection import TimeSeriesSplit

from drift_assets.lib.generator import generate
from drift_assets.lib.schema import BIKE, TARGET
from drift_assets.lib.source import conform
from drift_assets.lib.training import ALPHAS, evaluate, features, labelled, rmsle, train


def test_rmsle():
    assert rmsle([1, 2, 3], [1, 2, 3]) == 0
    assert rmsle([0], [np.e - 1]) == pytest.approx(1.0)
    assert rmsle([0], [-5]) == 0  # negative predictions count as zero


@pytest.fixture(scope="module")
def trained():
    frame = conform(generate("2011-01", "2011-12"), "test", BIKE)
    return frame, train(frame)


def test_the_chosen_alpha_has_the_lowest_rmsle_measured_independently(trained):
    """The search's own scores cannot tell a negated error from an error maximized (the public
    example's greater_is_better=True): measure each alpha's cross-validated RMSLE here, with
    rmsle() on the same time-ordered folds, and require the chosen alpha to be the best."""
    frame, result = trained
    assert set(result.model.cv_results_["param_ridge__regressor__alpha"]) == set(ALPHAS)
    rows = labelled(frame).iloc[:result.train_rows]  # the rows the search was fitted on
    x, y = features(rows), rows[TARGET].astype(float)
    measured = {}
    for alpha in ALPHAS:
        model = clone(result.model.estimator).set_params(ridge__regressor__alpha=alpha)
        measured[alpha] = np.mean([
            rmsle(y.iloc[test], model.fit(x.iloc[fit], y.iloc[fit]).predict(x.iloc[test]))
            for fit, test in TimeSeriesSplit(n_splits=5).split(x)])
    assert result.best_alpha == min(measured, key=measured.get)
    assert result.cv_rmsle == pytest.approx(measured[result.best_alpha])
    assert result.cv_rmsle < max(measured.values()) - 0.05  # the grid's worst is clearly worse


def test_an_absurd_alpha_loses(trained):
    frame, _ = trained
    result = train(frame, alphas=[0.1, 1e6])
    absurd = train(frame, alphas=[1e6])  # regularised into predicting the mean
    assert result.best_alpha == 0.1
    assert result.cv_rmsle < absurd.cv_rmsle and result.holdout_rmsle < absurd.holdout_rmsle


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
    frame = conform(generate("2011-01", "2011-06"), "test", BIKE)
    frame.loc[frame.index[-30:], "cnt"] = None
    result = train(frame)
    assert result.train_rows + result.holdout_rows == len(frame) - 30


def _poisoned() -> pd.DataFrame:
    """Issue 18's month: humidity 1e300, an infinite temperature twice, a negative count."""
    frame = conform(generate("2011-01", "2011-06"), "test", BIKE)
    frame["temp"] = frame["temp"].astype(float)
    frame.loc[40, "hum"] = 1e300  # finite, but its square, which the model computes, is not
    frame.loc[[50, 51], "temp"] = np.inf
    frame.loc[60, "cnt"] = -5
    return frame


def test_training_refuses_non_finite_input_naming_each_column_and_count():
    with pytest.raises(ValueError) as raised:
        train(_poisoned())
    message = str(raised.value)
    assert message.startswith("cannot train the model: ")
    assert "temp: 2 values are non-finite (itself or its square), e.g. inf" in message
    assert "hum: 1 value is non-finite (itself or its square), e.g. 1e+300" in message
    assert "cnt: 1 value is negative or non-finite (log1p(cnt) is learnt), e.g. -5" in message
    assert "atemp" not in message and "windspeed" not in message


def test_evaluate_and_the_performance_estimator_refuse_non_finite_input(trained):
    from drift_assets.lib import modelling
    from drift_assets_tests.graph import BIKE

    frame, result = trained
    poisoned = _poisoned()
    with pytest.raises(ValueError, match=r"cannot evaluate the model: temp: 2 values"):
        evaluate(result.model, poisoned)
    # the estimator of the model's error before labels (the asset's, lib.modelling)
    spec, model = BIKE.dataset.model, result.model.best_estimator_
    with pytest.raises(ValueError, match=r"cannot fit the performance estimator: temp: 2 "
                                         r"values .*; hum: 1 value .*; cnt: 1 value is negative"):
        modelling.fit_monitor(model, labelled(poisoned), spec)
    modelling.fit_monitor(model, labelled(frame), spec)  # clean rows still fit
