"""Any declared model: the bike spec reproduces the hard-coded model, a classifier is scored as
scikit-learn scores it, the grid search picks the best value in the metric's direction, and the
performance estimated before the labels (DLE, CBPE) lands near the realized one."""

from __future__ import annotations

from dataclasses import replace

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    roc_auc_score,
)
from sklearn.model_selection import TimeSeriesSplit
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from drift_assets.lib import training
from drift_assets.lib.declaration import METRICS, ModelSpec
from drift_assets.lib.generator import generate
from drift_assets.lib.modelling import (
    METRIC_REGISTRY,
    MonitoredModel,
    build_pipeline,
    category_text,
    evaluate,
    expected_roc_auc,
    expected_scores,
    f1,
    fit_monitor,
    import_estimator,
    labelled_rows,
    log_loss_of,
    make_estimator,
    no_worse,
    per_row_loss,
    pipeline_grid,
    plain_params,
    rmse,
    roc_auc_of,
    split,
    train,
)
from drift_assets.lib.schema import CATEGORICAL_FEATURES, NUMERIC_FEATURES

BIKE = ModelSpec(target="cnt", task="regression", estimator="sklearn.linear_model.Ridge",
                 params={"alpha": (0.1, 1, 2, 3, 4, 10, 100)}, metric="rmsle",
                 target_transform="log1p", degree=2, scale=False)
BIKE_FEATURES = list(CATEGORICAL_FEATURES) + list(NUMERIC_FEATURES)
CHURN_FEATURES = ["plan", "region", "usage", "tenure"]
CHURN_CATEGORICAL = ["plan", "region"]  # words and integer codes
LOGISTIC = "sklearn.linear_model.LogisticRegression"
PLAN_EFFECT = {"basic": -0.8, "plus": 0.0, "pro": 0.9}


def churn_spec(metric: str = "roc_auc", **params) -> ModelSpec:
    return ModelSpec(target="churn", task="classification", estimator=LOGISTIC,
                     params=params or {"C": (1e-4, 1e-2, 1.0, 100.0)}, metric=metric)


def churn_table(n: int, seed: int, spread: float = 1.0) -> pd.DataFrame:
    """A binary table, labels "no"/"yes", whose P(churn | inputs) is logistic and fixed:
    ``spread`` changes only the inputs (covariate shift), as CBPE assumes."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(list(PLAN_EFFECT), size=n, p=[0.5, 0.3, 0.2])
    usage = rng.normal(0, spread, n)
    tenure = rng.uniform(0, 1, n)
    logit = 0.3 + 2.0 * usage - 1.2 * tenure + np.array([PLAN_EFFECT[p] for p in plan])
    churn = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    at = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.uniform(0, 365, n)), "D")
    frame = pd.DataFrame({"at": at, "plan": plan, "region": rng.integers(1, 4, n),
                          "usage": usage, "tenure": tenure, "churn": churn})
    return frame.sample(frac=1, random_state=seed).reset_index(drop=True)  # not in time order


def three_class_table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(0, 1, n), rng.normal(0, 1, n)
    colour = rng.choice(["red", "blue"], n)
    logits = np.column_stack([1.5 * x1, 1.5 * x2 + (colour == "red"), -1.0 * x1 - x2])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    kind = np.array(["a", "b", "c"])[(rng.random(n)[:, None] > p.cumsum(axis=1)).sum(axis=1)]
    at = pd.date_range("2024-01-01", periods=n, freq="h")
    return pd.DataFrame({"at": at, "colour": colour, "x1": x1, "x2": x2, "kind": kind})


@pytest.fixture(scope="module")
def bike():
    frame = generate("2011-01", "2012-12")
    return frame, train(frame, BIKE, BIKE_FEATURES, list(CATEGORICAL_FEATURES), "dteday")


@pytest.fixture(scope="module")
def churn():
    frame = churn_table(3000, 1)
    result = train(frame, churn_spec(), CHURN_FEATURES, CHURN_CATEGORICAL, "at")
    _, holdout = split(labelled_rows(frame, churn_spec(), CHURN_FEATURES, "at"))
    return frame, result, fit_monitor(result.model, holdout, churn_spec(), CHURN_FEATURES)


# --- metrics ---


def test_the_registry_has_every_declared_metric_in_its_direction():
    assert set(METRIC_REGISTRY) == {m for names in METRICS.values() for m in names}
    assert {m for m, (_, greater, _) in METRIC_REGISTRY.items() if greater} == \
        {"roc_auc", "accuracy", "f1"}
    assert {m for m, (_, _, proba) in METRIC_REGISTRY.items() if proba} == \
        {"roc_auc", "log_loss"}


def test_regression_metrics_agree_with_scikit_learn():
    y, predicted = np.array([3.0, 10, 0, 7]), np.array([2.5, 12, -1, 7])
    assert rmse(y, predicted) == pytest.approx(np.sqrt(mean_squared_error(y, predicted)))
    assert METRIC_REGISTRY["mae"].function(y, predicted) == \
        pytest.approx(mean_absolute_error(y, predicted))
    assert METRIC_REGISTRY["rmsle"].function([0], [-5]) == 0  # negative predictions count as 0


def test_classification_metrics_agree_with_scikit_learn():
    rng = np.random.default_rng(0)
    y = rng.choice(["no", "yes"], 200)
    p_yes = np.clip(0.5 + 0.3 * (y == "yes") + rng.normal(0, 0.25, 200), 0.01, 0.99)
    predicted = np.where(p_yes > 0.5, "yes", "no")
    # Binary: the positive class is the larger label, "yes"; 1-D probabilities are P(positive).
    assert roc_auc_of(y, p_yes) == pytest.approx(roc_auc_score(y == "yes", p_yes))
    assert f1(y, predicted) == pytest.approx(f1_score(y, predicted, pos_label="yes"))
    assert f1(y, predicted) != pytest.approx(f1_score(y, predicted, pos_label="no"))
    assert log_loss_of(y, p_yes) == pytest.approx(log_loss(y == "yes", p_yes))
    assert METRIC_REGISTRY["accuracy"].function(y, predicted) == accuracy_score(y, predicted)
    # Multiclass: macro F1, one-vs-rest ROC AUC.
    y3 = rng.choice(["a", "b", "c"], 300)
    proba = rng.dirichlet([1, 1, 1], 300) + 0.8 * (y3[:, None] == np.array(["a", "b", "c"]))
    proba /= proba.sum(axis=1, keepdims=True)
    guess = np.array(["a", "b", "c"])[proba.argmax(axis=1)]
    assert roc_auc_of(y3, proba) == pytest.approx(roc_auc_score(y3, proba, multi_class="ovr"))
    assert f1(y3, guess) == pytest.approx(f1_score(y3, guess, average="macro"))
    assert log_loss_of(y3, proba) == pytest.approx(log_loss(y3, proba))
    with pytest.raises(ValueError, match="roc_auc is undefined: no row of class 'yes'"):
        roc_auc_of(["no", "no"], [0.2, 0.7], labels=["no", "yes"])


def test_expected_scores_with_the_true_labels_are_the_realized_ones():
    """CBPE's expected metrics, given certainty about every row (the labels one-hot as the
    calibrated probabilities), must be the realized metrics: scores with ties included."""
    rng = np.random.default_rng(3)
    for k in (2, 3):
        y = rng.integers(0, k, 500)
        raw = rng.dirichlet(np.ones(k), 500) + 0.6 * (y[:, None] == np.arange(k))
        raw = np.round(raw / raw.sum(axis=1, keepdims=True), 2)  # ties in score
        raw /= raw.sum(axis=1, keepdims=True)
        predicted = raw.argmax(axis=1)
        got = expected_scores(raw, (y[:, None] == np.arange(k)).astype(float), predicted)
        assert got["accuracy"] == pytest.approx(accuracy_score(y, predicted))
        assert got["log_loss"] == pytest.approx(log_loss(y, raw))
        if k == 2:
            assert got["roc_auc"] == pytest.approx(roc_auc_score(y, raw[:, 1]))
            assert got["f1"] == pytest.approx(f1_score(y, predicted))
        else:
            assert got["roc_auc"] == pytest.approx(roc_auc_score(y, raw, multi_class="ovr"))
            assert got["f1"] == pytest.approx(f1_score(y, predicted, average="macro"))
    assert expected_roc_auc([0.5, 0.5], [0.9, 0.1]) == pytest.approx(0.5)


def test_no_worse_honours_the_direction_and_the_tolerance():
    assert no_worse(0.30, 0.31, "rmsle") and not no_worse(0.32, 0.31, "rmsle")
    assert no_worse(0.316, 0.31, "rmsle", tolerance=0.02)
    assert no_worse(0.90, 0.89, "roc_auc") and not no_worse(0.88, 0.89, "roc_auc")
    assert no_worse(0.875, 0.89, "roc_auc", tolerance=0.02)
    assert not no_worse(0.40, 0.39, "log_loss") and no_worse(0.40, None, "log_loss")
    assert not no_worse(float("nan"), 0.5, "accuracy")


# --- the pipeline ---


def test_the_pipeline_follows_the_declaration():
    scaled = build_pipeline(churn_spec(), ["usage"], ["plan"])
    assert isinstance(scaled.named_steps["encode"].transformers[1][1], StandardScaler)
    plain = build_pipeline(replace(churn_spec(), scale=False), ["usage"], ["plan"])
    assert plain.named_steps["encode"].transformers[1][1] == "passthrough"
    assert pipeline_grid(churn_spec(C=(1, 2))) == {"model__C": [1, 2]}
    cubic = build_pipeline(ModelSpec("y", "regression", "sklearn.linear_model.Ridge",
                                     metric="rmse", degree=3), ["a"], [])
    products = cubic.named_steps["encode"].transformers[0][1]
    assert products.named_steps["products"].degree == 3  # then standardised
    assert isinstance(products.named_steps["scale"], StandardScaler)
    bike = build_pipeline(BIKE, list(NUMERIC_FEATURES), list(CATEGORICAL_FEATURES))
    assert isinstance(bike.named_steps["model"], TransformedTargetRegressor)
    assert bike.named_steps["model"].func is np.log1p
    assert pipeline_grid(BIKE) == {"model__regressor__alpha": [0.1, 1, 2, 3, 4, 10, 100]}
    assert plain_params(BIKE, {"model__regressor__alpha": 3}) == {"alpha": 3}
    assert isinstance(bike.named_steps["encode"].transformers[1][1], PolynomialFeatures)


def test_categories_are_text_and_a_code_read_as_float_is_the_same_category():
    frame = pd.DataFrame({"code": [1, 2, 3], "as_float": [1.0, 2.0, 2.5], "word": ["a", "b", "a"]})
    text = category_text(frame)
    assert text["code"].tolist() == ["1", "2", "3"]
    assert text["as_float"].tolist() == ["1", "2", "2.5"]
    assert text["word"].tolist() == ["a", "b", "a"]


# --- training ---


def test_the_bike_spec_reproduces_the_hard_coded_model(bike):
    frame, result = bike
    reference = training.train(frame)
    assert result.best_params == {"alpha": reference.best_alpha}
    assert result.holdout_scores["rmsle"] == pytest.approx(reference.holdout_rmsle, abs=1e-9)
    assert result.score == result.holdout_scores["rmsle"]
    assert result.holdout_scores["mae"] == pytest.approx(reference.holdout_mae, abs=1e-6)
    assert result.cv_score == pytest.approx(reference.cv_rmsle, abs=1e-9)
    assert (result.train_rows, result.holdout_rows) == (reference.train_rows,
                                                        reference.holdout_rows)
    assert (result.window_start, result.window_end, result.holdout_start) == \
        (reference.window_start, reference.window_end, reference.holdout_start)
    assert set(result.holdout_scores) == {"rmsle", "rmse", "mae", "score"}


def _measured_cv(result, frame, spec, timestamp, metric_of, pipeline_param):
    """Each grid value's mean score on the same time-ordered folds, measured here with
    scikit-learn's own metric functions."""
    rows, _ = split(labelled_rows(frame, spec, result.features, timestamp))
    x, y = rows[list(result.features)], rows[spec.target].to_numpy()
    measured = {}
    for value in next(iter(spec.params.values())):
        model = clone(result.model.estimator).set_params(**{pipeline_param: value})
        measured[value] = np.mean([metric_of(model.fit(x.iloc[fit], y[fit]), x.iloc[test],
                                             y[test])
                                   for fit, test in TimeSeriesSplit(n_splits=5).split(x)])
    return measured


@pytest.mark.parametrize("metric, metric_of, greater", [
    ("roc_auc", lambda m, x, y: roc_auc_score(y == "yes", m.predict_proba(x)[:, 1]), True),
    ("log_loss", lambda m, x, y: log_loss(y, m.predict_proba(x), labels=m.classes_), False),
    ("accuracy", lambda m, x, y: accuracy_score(y, m.predict(x)), True),
])
def test_the_grid_picks_the_best_value_in_the_metric_direction(metric, metric_of, greater):
    frame = churn_table(3000, 1)
    # unscaled, C's range moves every metric clearly (standardised inputs barely move a
    # ranking, and the test is of the grid's direction, not of scaling)
    spec = replace(churn_spec(metric), scale=False)
    result = train(frame, spec, CHURN_FEATURES, CHURN_CATEGORICAL, "at")
    measured = _measured_cv(result, frame, spec, "at", metric_of, "model__C")
    best = (max if greater else min)(measured, key=measured.get)
    worst = (min if greater else max)(measured, key=measured.get)
    assert result.best_params == {"C": best}
    assert result.cv_score == pytest.approx(measured[best])
    assert abs(measured[best] - measured[worst]) > 0.01  # the grid's worst is clearly worse


def test_the_grid_picks_the_lowest_error_of_a_regression():
    frame = generate("2011-01", "2012-12")
    spec = ModelSpec(target="cnt", task="regression", estimator="sklearn.linear_model.Ridge",
                     params={"alpha": (0.1, 3, 1e4)}, metric="mae", target_transform="log1p")
    result = train(frame, spec, BIKE_FEATURES, list(CATEGORICAL_FEATURES), "dteday")
    measured = _measured_cv(result, frame, spec, "dteday",
                            lambda m, x, y: mean_absolute_error(y, m.predict(x)),
                            "model__regressor__alpha")
    assert result.best_params == {"alpha": min(measured, key=measured.get)}
    assert max(measured.values()) - min(measured.values()) > 100  # riders a day


def test_a_classifier_on_text_categories_is_scored_as_scikit_learn_scores_it(churn):
    frame, result, _ = churn
    ordered = frame.sort_values("at", kind="mergesort")
    holdout = ordered.iloc[-result.holdout_rows:]  # the newest 20%, taken here
    assert result.holdout_rows == 600 and result.holdout_start == holdout["at"].iloc[0]
    x, y = holdout[CHURN_FEATURES], holdout["churn"].to_numpy()
    proba = result.model.predict_proba(x)
    assert list(result.model.classes_) == ["no", "yes"]
    assert result.score == pytest.approx(roc_auc_score(y == "yes", proba[:, 1]))
    assert result.holdout_scores["roc_auc"] == result.score
    assert result.holdout_scores["accuracy"] == pytest.approx(
        accuracy_score(y, result.model.predict(x)))
    assert result.holdout_scores["f1"] == pytest.approx(
        f1_score(y, result.model.predict(x), pos_label="yes"))
    assert result.holdout_scores["log_loss"] == pytest.approx(log_loss(y, proba))
    encoder = result.model.best_estimator_.named_steps["encode"]
    names = list(encoder.get_feature_names_out())
    assert "categories__plan_pro" in names and "categories__region_3" in names
    assert evaluate(result.model, holdout, churn_spec(), CHURN_FEATURES) == result.holdout_scores
    unseen = holdout.assign(plan="enterprise")  # an unknown category is ignored, not an error
    assert 0 <= evaluate(result.model, unseen, churn_spec(), CHURN_FEATURES)["score"] <= 1


# --- performance before the labels ---


def _estimated_and_realized(monitor: MonitoredModel, frame: pd.DataFrame, spec: ModelSpec):
    return monitor.estimates(frame.drop(columns=[spec.target])), \
        evaluate(monitor.model, frame, spec, monitor.features)


def test_cbpe_estimates_the_metrics_of_an_unlabelled_sample_from_the_same_distribution(churn):
    _, _, monitor = churn
    estimated, realized = _estimated_and_realized(monitor, churn_table(4000, 7), churn_spec())
    for metric in ("accuracy", "roc_auc", "f1", "log_loss"):
        assert estimated[metric] == pytest.approx(realized[metric], abs=0.03), metric
    assert monitor.estimate(churn_table(4000, 7)) == estimated["roc_auc"]


@pytest.mark.parametrize("spread, direction", [(0.4, -1), (2.0, +1)])
def test_cbpe_follows_a_shift_of_the_inputs(churn, spread, direction):
    _, _, monitor = churn
    same, same_realized = _estimated_and_realized(monitor, churn_table(4000, 7), churn_spec())
    shifted, realized = _estimated_and_realized(monitor, churn_table(4000, 8, spread),
                                                churn_spec())
    for metric in ("accuracy", "roc_auc"):
        assert direction * (realized[metric] - same_realized[metric]) > 0.05  # a real change
        assert direction * (shifted[metric] - same[metric]) > 0.05  # and the estimate follows
        assert shifted[metric] == pytest.approx(realized[metric], abs=0.03)


def test_cbpe_calibrates_an_underconfident_model():
    """Heavy regularisation shrinks the probabilities towards the base rate: read as they are,
    they understate the accuracy; calibrated on the holdout, they do not."""
    frame, spec = churn_table(3000, 1), churn_spec("accuracy", C=(0.003,))
    result = train(frame, spec, CHURN_FEATURES, CHURN_CATEGORICAL, "at")
    _, holdout = split(labelled_rows(frame, spec, CHURN_FEATURES, "at"))
    monitor = fit_monitor(result.model, holdout, spec, CHURN_FEATURES)
    assert monitor.estimator_of_performance.used_
    estimated, realized = _estimated_and_realized(monitor, churn_table(4000, 7), spec)
    assert estimated["accuracy"] == pytest.approx(realized["accuracy"], abs=0.03)
    x = churn_table(4000, 7)[CHURN_FEATURES]
    proba = result.model.predict_proba(x)
    raw = expected_scores(proba, proba, (result.model.predict(x) == "yes").astype(int))
    assert raw["accuracy"] < realized["accuracy"] - 0.05  # uncalibrated: clearly off


def test_cbpe_on_three_classes():
    frame = three_class_table(3000, 1)
    spec = ModelSpec(target="kind", task="classification", estimator=LOGISTIC,
                     params={"C": (0.1, 1.0)}, metric="log_loss")
    result = train(frame, spec, ["colour", "x1", "x2"], None, "at")
    assert result.categorical == ("colour",)  # text, so a category without being declared
    _, holdout = split(labelled_rows(frame, spec, result.features, "at"))
    monitor = fit_monitor(result.model, holdout, spec, result.features)
    estimated, realized = _estimated_and_realized(monitor, three_class_table(4000, 2), spec)
    for metric in ("accuracy", "log_loss", "roc_auc", "f1"):
        assert estimated[metric] == pytest.approx(realized[metric], abs=0.03), metric


def test_direct_loss_estimation_learns_the_declared_loss(bike):
    frame, result = bike
    _, holdout = split(labelled_rows(frame, BIKE, result.features, "dteday"))
    monitor = fit_monitor(result.model, holdout, BIKE, result.features)
    # On the rows it learnt the loss from, the estimate is close to the realized RMSLE.
    assert monitor.estimate(holdout) == pytest.approx(result.score, rel=0.1)
    assert per_row_loss("rmsle", [np.e - 1], [0]) == pytest.approx([1.0])
    assert per_row_loss("mae", [3], [1]) == pytest.approx([2.0])
    mae_spec = ModelSpec(**{**BIKE.__dict__, "metric": "mae"})
    mae_monitor = fit_monitor(result.model, holdout, mae_spec, result.features)
    assert mae_monitor.estimate(holdout) == pytest.approx(result.holdout_scores["mae"], rel=0.1)


def test_a_monitored_model_survives_joblib(tmp_path, bike, churn):
    bike_frame, bike_result = bike
    _, bike_holdout = split(labelled_rows(bike_frame, BIKE, bike_result.features, "dteday"))
    later = generate("2012-11", "2012-12").drop(columns=["cnt"])
    sample = churn_table(500, 11).drop(columns=["churn"])
    for monitor, rows in ((fit_monitor(bike_result.model, bike_holdout, BIKE,
                                       bike_result.features), later),
                          (churn[2], sample)):
        joblib.dump(monitor, tmp_path / "model.joblib")
        loaded = joblib.load(tmp_path / "model.joblib")
        assert np.array_equal(loaded.predict(rows), monitor.predict(rows))
        assert loaded.estimate(rows) == monitor.estimate(rows)


# --- what is refused ---


@pytest.mark.parametrize("path, message", [
    ("sklearn.linear_model.NoSuchModel", "module 'sklearn.linear_model' has no 'NoSuchModel'"),
    ("no_such_package.Model", "cannot import module 'no_such_package'"),
    ("collections.OrderedDict", "is not a scikit-learn estimator: it has no fit, predict"),
    ("math.pi", "is a float, not an estimator class"),
    ("Ridge", "expected an import path"),
])
def test_an_estimator_path_that_is_not_an_estimator_is_refused(path, message):
    with pytest.raises(ValueError, match=f"estimator '{path}'.*") as caught:
        import_estimator(path)
    assert message in str(caught.value)


def test_an_estimator_that_does_not_fit_the_declaration_is_refused():
    with pytest.raises(ValueError, match="'sklearn.svm.LinearSVC' has no predict_proba, which "
                                         "metric 'roc_auc' needs"):
        make_estimator(ModelSpec("y", "classification", "sklearn.svm.LinearSVC",
                                 metric="roc_auc"))
    assert make_estimator(ModelSpec("y", "classification", "sklearn.svm.LinearSVC",
                                    metric="accuracy")) is not None
    with pytest.raises(ValueError, match="'sklearn.linear_model.Ridge' is a regression "
                                         "estimator, declared for classification"):
        make_estimator(ModelSpec("y", "classification", "sklearn.linear_model.Ridge",
                                 metric="accuracy"))
    with pytest.raises(ValueError, match="LogisticRegression' has no parameter 'alpha'"):
        make_estimator(churn_spec(alpha=(1, 2)))


def test_a_target_of_one_class_is_refused():
    frame = churn_table(600, 2).assign(churn="no")
    with pytest.raises(ValueError, match="target 'churn' holds one class only \\('no'\\) in "
                                         "the 600 labelled rows"):
        train(frame, churn_spec(), CHURN_FEATURES, CHURN_CATEGORICAL, "at")
    frame = churn_table(600, 2)
    frame.loc[frame["at"] < frame["at"].quantile(0.3), "churn"] = "no"
    with pytest.raises(ValueError, match="one class only \\('no'\\) in the 80 rows fold 1 of "
                                         "5 trains on"):
        train(frame, churn_spec(), CHURN_FEATURES, CHURN_CATEGORICAL, "at")


def test_values_scikit_learn_cannot_take_are_refused_naming_the_column():
    frame = generate("2011-01", "2011-12")
    frame.loc[[3, 5], "temp"] = np.inf
    frame.loc[7, "hum"] = 1e200  # finite, but its square is not
    frame.loc[9, "cnt"] = -4
    with pytest.raises(ValueError) as caught:
        train(frame, BIKE, BIKE_FEATURES, list(CATEGORICAL_FEATURES), "dteday")
    message = str(caught.value)
    assert message.startswith("cannot train the model: temp: 2 values are not a finite "
                              "number (itself or its power up to 2), e.g. ")
    assert "hum: 1 value is not a finite number" in message
    assert "cnt: 1 value is negative or not a finite number (log1p(cnt) is learnt)" in message


def test_rows_without_target_are_left_out_and_unseen_classes_refused(churn):
    frame, result, _ = churn
    holdout = frame.sort_values("at").iloc[-600:].copy()
    with_gaps = holdout.copy()
    with_gaps.loc[with_gaps.index[:50], "churn"] = None
    scores = evaluate(result.model, with_gaps, churn_spec(), CHURN_FEATURES)
    assert scores == evaluate(result.model, holdout.iloc[50:], churn_spec(), CHURN_FEATURES)
    holdout.loc[holdout.index[0], "churn"] = "maybe"
    with pytest.raises(ValueError, match="holds classes the model never saw: maybe"):
        evaluate(result.model, holdout, churn_spec(), CHURN_FEATURES)
