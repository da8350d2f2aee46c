"""The model lifecycle: registry, promotion gate, monthly performance, rollback, drift trigger."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from pathlib import Path

import joblib
import pytest
import sqlalchemy as sa
from dagster import build_sensor_context, materialize

from drift_assets.cli import main
from drift_assets.jobs import build_jobs
from drift_assets.lib.lifecycle import (
    crossings,
    degraded,
    error_threshold,
    promotion_gate,
    roll_back,
)
from drift_assets.lib.registry import CANDIDATE, ModelRecord, ModelRegistry
from drift_assets.lib.trigger import Report, TriggerState, evaluate
from drift_assets.resources import LocalModelStore
from drift_assets.sensors import build_drift_sensor
from drift_assets_tests.graph import (
    ALL_ASSETS,
    BIKE,
    bike,
    current_data,
    data_quality_report,
    drift_report,
    model_performance,
    node,
    reference_profile,
    reference_table,
    trained_model,
)

BAD = {"grid": {"alpha": [1e7]}}  # regularised into predicting the mean: deliberately worse
_JOBS = build_jobs(BIKE, modelled=True)
drift_sensor = build_drift_sensor(BIKE, _JOBS["training_job"], _JOBS["monthly_drift_job"])


def test_promotion_gate():
    assert promotion_gate(0.30, None).promote
    assert promotion_gate(0.20, 0.21).promote
    refused = promotion_gate(0.25, 0.20)
    assert not refused.promote and "worse than production's 0.2000" in refused.reason
    assert promotion_gate(0.204, 0.20, tolerance=0.05).promote
    # a score (roc_auc) is better higher: the gate follows the declared metric's direction
    assert promotion_gate(0.85, 0.80, metric="roc_auc").promote
    lower = promotion_gate(0.75, 0.80, metric="roc_auc")
    assert not lower.promote and "worse than production's 0.8000" in lower.reason
    assert promotion_gate(0.79, 0.80, tolerance=0.02, metric="roc_auc").promote


def test_error_threshold_fixed_or_learned():
    assert error_threshold([0.1, 0.2], fixed=0.5) == 0.5
    assert error_threshold([0.1, 0.2]) is None  # too little history to learn from
    assert error_threshold([0.2, 0.2, 0.2]) == pytest.approx(0.2)
    assert error_threshold([0.1, 0.2, 0.3], n_std=2) == pytest.approx(0.2 + 2 * 0.1)
    # a score degrades downwards: its threshold lies below the mean
    assert error_threshold([0.7, 0.8, 0.9], n_std=2, greater_is_better=True) == \
        pytest.approx(0.8 - 2 * 0.1)
    assert degraded(0.5, 0.4, "rmsle") and not degraded(0.3, 0.4, "rmsle")
    assert degraded(0.5, 0.6, "roc_auc") and not degraded(0.7, 0.6, "roc_auc")
    assert not degraded(9.9, None, "rmsle")  # no threshold learnt yet


def test_roll_back_verifies_the_file_before_it_changes_anything(tmp_path):
    registry = ModelRegistry(sa.create_engine(f"sqlite:///{tmp_path / 'registry.db'}"))
    store = LocalModelStore(root=str(tmp_path / "models"))
    for version in (1, 2, 3):
        buffer = io.BytesIO()
        joblib.dump({"version": version}, buffer)
        stored = store.save("m", buffer.getvalue(), {})
        registry.register(ModelRecord(
            version=stored.version, name="m", created_at=dt.datetime.now(dt.UTC),
            metric="rmsle", holdout_score=0.2, sha256=stored.sha256, storage_key=stored.key,
            uri=stored.uri, status=CANDIDATE, params={}))
        registry.promote(version)
    model_file = Path(store.root) / registry.get(1).storage_key
    model_file.write_bytes(model_file.read_bytes() + b"tampered")
    events = len(registry.events())
    with pytest.raises(ValueError, match="does not match"):
        roll_back(registry, store, registry.get(1), "to a tampered file")
    assert registry.production().version == 3 and len(registry.events()) == events

    replaced = roll_back(registry, store, registry.get(2), "v3 degraded")
    assert replaced.version == 3
    assert {r.version: r.status for r in registry.all()} == {1: "retired", 2: "production",
                                                             3: "retired"}
    last = registry.events().tail(2)
    assert list(zip(last["version"], last["event"], last["detail"], strict=True)) == [
        (3, "rolled_back", "v3 degraded"), (2, "rolled_back_to", "v3 degraded")]


def test_crossings_with_hysteresis():
    shares = {"2011-02": 0.6, "2011-03": 0.8, "2011-04": 0.4, "2011-05": 0.5, "2011-06": 1.0}
    assert crossings(shares, 0.5) == ["2011-02", "2011-05"]
    assert crossings(shares, 0.5, rearm_below=0.3) == ["2011-02"]


def test_trigger_says_what_changed_since_the_last_alert():
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    first = evaluate(TriggerState(), [Report("2011-02", 0.6, 0.5, ["temp", "atemp", "hum"])], 1,
                     0.5, dt.timedelta(0), now)
    assert first.changes == "first drift alert" and first.retrain_months == ["2011-02"]
    reports = [Report("2011-03", 0.2, 0.5, []), Report("2011-04", 0.8, 0.5, ["temp", "wind"])]
    second = evaluate(first.state, reports, 3, 0.5, dt.timedelta(0), now)
    assert second.retrain_months == ["2011-04"]
    assert second.changes == ("since 2011-02: share 0.60 -> 0.80; newly drifted wind; "
                              "no longer drifted atemp, hum")
    assert TriggerState.loads(second.state.dumps()) == second.state


def _materialize(selection, resources, instance, partition=None, config=None):
    run_config = {"ops": {node("trained_model"): {"config": config}}} if config else None
    return materialize(ALL_ASSETS, selection=selection, resources=resources, instance=instance,
                       partition_key=partition, run_config=run_config)


def _meta(result, asset):
    event = result.asset_materializations_for_node(node(asset))[-1]
    return {k: v.value for k, v in event.metadata.items()}


def _months(resources, instance, months, assets):
    return {m: _materialize(assets, resources, instance, f"{m}-01") for m in months}


@pytest.mark.slow
def test_drift_retrain_refusal_degradation_and_rollback(resources, instance, capsys):
    """The whole story on generated data, told by the registry at the end."""
    registry = ModelRegistry(bike(resources["warehouse"]).engine)
    _materialize([reference_table], resources, instance)
    monthly = [current_data, data_quality_report, reference_profile, drift_report]
    _months(resources, instance, ["2011-02", "2011-03", "2011-04", "2011-05", "2011-06"], monthly)

    # Drift appears: the sensor asks for a retrain, whose run makes v1 production.
    tick = drift_sensor.evaluate_tick(build_sensor_context(instance=instance, resources=resources))
    assert len(tick.run_requests) == 1
    config = tick.run_requests[0].run_config["ops"][node("trained_model")]["config"]
    v1 = _meta(_materialize([trained_model], resources, instance, config=config), "trained_model")
    assert (v1["version"], v1["status"]) == (1, "production")

    # A deliberately worse model is refused by the gate and stays a candidate.
    v2 = _meta(_materialize([trained_model], resources, instance, config=BAD), "trained_model")
    assert (v2["version"], v2["status"]) == (2, "candidate")
    assert v2["metric"] == "rmsle"  # an error: lower is better
    assert v2["holdout_score"] > v2["production_score_on_holdout"]
    outbox = [json.loads(line) for line in open(resources["notifier"].outbox)]
    assert "kept as candidate" in outbox[-1]["action"]
    assert registry.production().version == 1

    # Months arrive with labels: v1's error is tracked and the threshold learnt from it.
    performance = _months(resources, instance, ["2011-07", "2011-08", "2011-09"],
                          [current_data, model_performance])
    errors = [_meta(r, "model_performance") for r in performance.values()]
    assert [e["version"] for e in errors] == [1, 1, 1]
    assert all(e["metric"] == "rmsle" for e in errors)
    assert all(0 < e["realized"] < 0.6 and e["degraded"] is False for e in errors)
    # the chart inline in the UI, and on the dataset's page of all months
    assert errors[-1]["metric_over_time"].startswith("![rmsle per month](data:image/png;")
    folder = Path(resources["settings"].reports_dir) / "bike_sharing"
    assert (folder / "model_error.png").is_file()
    assert "model_error.png" in (folder / "index.html").read_text()

    # A lax gate lets a bad model through; a later month's error exposes it: rollback to v1.
    settings = resources["settings"]
    lax = {**resources, "settings": type(settings)(**{**settings.model_dump(),
                                                     "promotion_tolerance": 10.0})}
    v3 = _meta(_materialize([trained_model], lax, instance, config=BAD), "trained_model")
    assert (v3["version"], v3["status"]) == (3, "production")
    january = _meta(_months(resources, instance, ["2012-01"], [current_data, model_performance]
                            )["2012-01"], "model_performance")
    assert january["version"] == 3 and january["degraded"] is True
    assert january["realized"] > january["threshold"]  # learnt from July..September
    assert january["rolled_back_to"] == 1

    statuses = {r.version: r.status for r in registry.all()}
    assert statuses == {1: "production", 2: "candidate", 3: "retired"}
    story = [(e.version, e.event) for e in registry.events().itertuples()]
    assert story == [(1, "registered"), (1, "promoted"), (2, "registered"), (2, "refused"),
                     (3, "registered"), (3, "promoted"), (3, "rolled_back"),
                     (1, "rolled_back_to")]
    assert "bike_sharing: model rolled back to v1" in open(resources["notifier"].outbox).read()

    # By hand: the CLI lists the registry and refuses a version whose file was tampered with.
    os.environ["DRIFT_DATA_DIR"] = str(Path(resources["notifier"].outbox).parent)
    try:
        assert main(["models", "list", "--dataset", "bike_sharing"]) == 0
        listing = capsys.readouterr().out
        assert "production" in listing and "candidate" in listing and "retired" in listing
        model_file = Path(resources["model_store"].root) / registry.get(3).storage_key
        model_file.write_bytes(model_file.read_bytes() + b"tampered")
        assert main(["models", "rollback", "3", "--dataset", "bike_sharing"]) == 2
        assert "does not match" in capsys.readouterr().err
        assert main(["models", "rollback", "99", "--dataset", "bike_sharing"]) == 2
        assert capsys.readouterr().err == ("drift-assets models rollback: model version 99 is "
                                           "not in the registry\n")
        assert main(["models", "rollback", "2", "--dataset", "bike_sharing"]) == 0
        assert registry.production().version == 2
    finally:
        del os.environ["DRIFT_DATA_DIR"]


def test_a_new_cause_during_an_episode_is_alerted_and_the_same_cause_is_not():
    """Wind in another unit in August, clear days recoded as rain in September, a broken
    relation in November after a month that failed its quality checks (no drift report): three
    causes in one run of drifting months, three alerts; a fourth month of the same causes is
    quiet."""
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    reports = [Report("2012-07", 0.0, 0.5, [], drift=False),
               Report("2012-08", 0.2, 0.5, ["windspeed"], drift=True),
               Report("2012-09", 0.2, 0.5, ["weathersit"], drift=True),
               Report("2012-11", 0.0, 0.5, ["relation between temp, atemp broken"], drift=True),
               Report("2012-12", 0.2, 0.5, ["windspeed"], drift=True)]
    episode = evaluate(TriggerState(), reports, 5, 0.5, dt.timedelta(0), now)
    assert [r.month for r in episode.fired] == ["2012-08"]  # Evidently's thresholds: one
    decision = evaluate(TriggerState(), reports, 5, 0.5, dt.timedelta(0), now, new_causes=True)
    assert [r.month for r in decision.fired] == ["2012-08", "2012-09", "2012-11"]
    assert decision.fired[1].columns == ["weathersit"]
    again = evaluate(decision.state, reports[1:3], 7, 0.5, dt.timedelta(0), now,
                     new_causes=True)
    assert again.fired == [] and again.retrain_months == []  # re-materialized, same verdicts


def test_persistence_needs_k_of_the_last_n_months():
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    reports = [Report("2011-02", 0.6, 0.5, ["temp"]), Report("2011-03", 0.2, 0.5, []),
               Report("2011-04", 0.6, 0.5, ["temp"]), Report("2011-05", 0.8, 0.5, ["temp"])]
    single = evaluate(TriggerState(), reports, 4, 0.5, dt.timedelta(0), now)
    assert single.retrain_months == ["2011-02", "2011-04"]
    two_of_three = evaluate(TriggerState(), reports, 4, 0.5, dt.timedelta(0), now,
                            persistence=(2, 3))
    assert two_of_three.retrain_months == ["2011-04"]  # February alone was a blip
    assert [r.month for r in two_of_three.fired] == ["2011-04"]


def test_error_is_estimated_before_the_labels_and_replaced_when_they_arrive(resources, instance,
                                                                           tmp_path):
    from drift_assets.lib.generator import generate_month
    from drift_assets.resources import FileSource

    registry = ModelRegistry(bike(resources["warehouse"]).engine)
    _materialize([reference_table], resources, instance)
    _months(resources, instance, ["2011-02", "2011-03", "2011-04", "2011-05"], [current_data])
    _materialize([trained_model], resources, instance, config={"reason": "manual"})
    unlabelled = generate_month("2011-06").drop(columns=["casual", "registered", "cnt"])
    unlabelled.to_csv(tmp_path / "2011-06.csv", index=False)
    late = {**resources, "source": FileSource(location=str(tmp_path / "{month}.csv"))}
    before = _meta(_months(late, instance, ["2011-06"], [current_data, model_performance]
                           )["2011-06"], "model_performance")
    assert before["scored"] is False and before["labelled_rows"] == 0
    assert before["metric"] == "rmsle" and 0 < before["estimated"] < 1.5
    assert "realized" not in before
    after = _meta(_months(resources, instance, ["2011-06"], [current_data, model_performance]
                          )["2011-06"], "model_performance")  # the labels arrived
    assert after["scored"] is True and after["realized"] > 0
    # metadata shows four significant digits; the registry keeps the figure whole
    assert after["estimate_error"] == pytest.approx(after["estimated"] - after["realized"],
                                                    abs=1e-3)
    assert after["estimated"] == pytest.approx(before["estimated"], rel=0.2)
    row = registry.performance().set_index("month").loc["2011-06"]
    assert row["metric"] == "rmsle"
    assert row["score"] == pytest.approx(after["realized"], rel=1e-3)
    assert row["estimated"] == pytest.approx(after["estimated"], rel=1e-3)
