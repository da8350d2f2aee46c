"""Slack on the wire: a loopback HTTP server answers like chat.postMessage and records each post."""

from __future__ import annotations

import pytest
from dagster import build_resources as open_resources
from dagster import materialize

from drift_assets.lib.messages import Alert, DriftFact
from drift_assets.resources import LogNotifier, SlackNotifier, build_resources
from drift_assets.resources.notifier import NotificationError, slack_blocks
from drift_assets_tests.graph import bike, node, reference_table, trained_model

DRIFT = DriftFact("2011-07", 0.8, 0.5, [
    "temp (ks 1.2e-05, threshold 0.05)", "atemp (ks 3.4e-05, threshold 0.05)",
    "hum (ks 0.0021, threshold 0.05)", "windspeed (ks 0.031, threshold 0.05)"])
ALERT = Alert(
    title="Data drift in 2011-07: model retrained",
    drift=[DRIFT], facts=[("changes", "first drift alert")],
    action="retrained bike_sharing v4, now production: better than v3 on the holdout. "
           "Stored at s3://models/bike_sharing/v0004/model.joblib",
    link="https://reports.example.com/drift_2011-07.html",
    kind="model",
)


def _slack_env(tmp_path, server, **more) -> dict[str, str]:
    return {"DRIFT_DATA_DIR": str(tmp_path / "data"), "SLACK_BOT_TOKEN": "xoxb-test-token",
            "DRIFT_SLACK_CHANNEL": "#drift-alerts", "DRIFT_SLACK_BASE_URL": server.base_url,
            **more}


@pytest.fixture
def slack_env(tmp_path, slack_server, monkeypatch):
    env = _slack_env(tmp_path, slack_server)
    monkeypatch.setenv("SLACK_BOT_TOKEN", env["SLACK_BOT_TOKEN"])  # EnvVar reads it at run time
    return env


def test_the_token_variable_chooses_slack_and_the_message_is_blocks(slack_env, slack_server):
    notifier = build_resources(slack_env)["notifier"]
    assert isinstance(notifier, SlackNotifier) and notifier.channel == "#drift-alerts"
    with open_resources({"notifier": notifier}) as resources:
        resources.notifier.notify(ALERT)
    [request] = slack_server.requests
    assert request["path"] == "/api/chat.postMessage"
    assert request["headers"]["Authorization"] == "Bearer xoxb-test-token"
    body = request["body"]
    assert body["channel"] == "#drift-alerts"
    assert body["text"] == ALERT.text()  # the plain fallback
    blocks = body["blocks"]
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"].endswith("Data drift in 2011-07: model retrained")
    fields = [f["text"] for f in blocks[1]["fields"]]
    assert fields == ["*Month*\n2011-07", "*Drift share*\n0.80 (threshold 0.50)"]
    assert blocks[2]["text"]["text"].splitlines() == [
        "*Drift causes*", "• temp (ks 1.2e-05, threshold 0.05)",
        "• atemp (ks 3.4e-05, threshold 0.05)", "• hum (ks 0.0021, threshold 0.05)",
        "• windspeed (ks 0.031, threshold 0.05)"]
    assert blocks[3]["text"]["text"] == "*changes*: first drift alert"
    assert blocks[4]["text"]["text"].startswith("*Action*\nretrained bike_sharing v4")
    assert blocks[5] == {"type": "context", "elements": [{
        "type": "mrkdwn",
        "text": "Report: <https://reports.example.com/drift_2011-07.html|Open the report>"}]}


def test_without_a_token_alerts_stay_local_and_a_channel_is_required_with_one(tmp_path,
                                                                            slack_server):
    assert isinstance(build_resources({"DRIFT_DATA_DIR": str(tmp_path)})["notifier"], LogNotifier)
    env = _slack_env(tmp_path, slack_server)
    del env["DRIFT_SLACK_CHANNEL"]
    with pytest.raises(ValueError, match="DRIFT_SLACK_CHANNEL"):
        build_resources(env)


def test_blocks_keep_within_slack_limits_and_a_local_report_is_a_path():
    long = Alert(title="x" * 400, facts=[("note", "y" * 5000)] * 60, link="/data/reports/a.html")
    blocks = slack_blocks(long)
    assert len(blocks) == 50
    assert len(blocks[0]["text"]["text"]) == 150
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if "text" in b)
    assert slack_blocks(Alert(title="t", link="/data/reports/a.html"))[-1]["elements"][0][
        "text"] == "Report: `/data/reports/a.html`"


@pytest.mark.parametrize(("mode", "said"), [("500", "HTTP 500"),
                                            ("not_ok", "channel_not_found")])
def test_a_refused_post_raises_naming_the_channel_and_the_error(slack_env, slack_server, mode,
                                                                said):
    slack_server.mode = mode
    with open_resources({"notifier": build_resources(slack_env)["notifier"]}) as resources:
        with pytest.raises(NotificationError, match=f"#drift-alerts failed.*{said}"):
            resources.notifier.notify(ALERT)
    assert len(slack_server.requests) == 1


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "said"), [("500", "HTTP 500"),
                                            ("not_ok", "channel_not_found")])
def test_a_slack_failure_does_not_fail_the_retrain_and_is_logged(slack_env, slack_server,
                                                                  instance, mode, said):
    resources = build_resources(slack_env)
    try:
        materialize([reference_table], resources=resources, instance=instance)
        slack_server.mode = mode
        result = materialize(
            [reference_table, trained_model], selection=[trained_model], resources=resources,
            instance=instance,
            run_config={"ops": {node("trained_model"): {"config": {
                "reason": "drift", "drift_months": ["2011-07"]}}}},
        )
    finally:
        resources["warehouse"].dispose()
    assert result.success
    version = result.asset_materializations_for_node(node("trained_model"))[-1].metadata["version"]
    assert version.value == 1
    [posted] = slack_server.posted()  # it was really sent, and refused
    assert "Data drift in 2011-07: model retrained" in posted["blocks"][0]["text"]["text"]
    logged = [e.user_message for e in instance.all_logs(result.run_id)
              if "notification failed" in (e.user_message or "")]
    assert len(logged) == 1 and said in logged[0] and "#drift-alerts" in logged[0]


def test_an_unreachable_slack_raises_naming_the_channel(slack_env, slack_server):
    slack_server.server.shutdown()
    slack_server.server.server_close()  # nothing listens on the port any more
    with open_resources({"notifier": build_resources(slack_env)["notifier"]}) as resources:
        with pytest.raises(NotificationError, match="#drift-alerts failed: URLError"):
            resources.notifier.notify(ALERT)
        assert resources.notifier.notify_safely(ALERT) is False


def test_a_failed_alert_is_retried_at_the_next_tick_and_sent_once(env, instance, slack_server,
                                                                  monkeypatch):
    """Slack answers 500 while the retrain runs: the model is stored all the same, the message
    waits in the outbox (in the warehouse), the next sensor tick sends it, and the tick after
    does not again."""
    from dagster import build_sensor_context, materialize

    from drift_assets.definitions import defs
    from drift_assets.lib.outbox import Outbox
    from drift_assets.resources import build_resources
    from drift_assets_tests.graph import (
        ALL_ASSETS,
        current_data,
        job,
        reference_table,
        trained_model,
    )

    drift_sensor = defs.resolve_sensor_def(job("drift_sensor"))

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    resources = build_resources({**env, "SLACK_BOT_TOKEN": "xoxb-test-token",
                                 "DRIFT_SLACK_CHANNEL": "#drift",
                                 "DRIFT_SLACK_BASE_URL": slack_server.base_url})
    materialize([reference_table], resources=resources, instance=instance)
    for month in ("2011-02-01", "2011-03-01"):
        materialize(ALL_ASSETS, selection=[current_data], partition_key=month,
                    resources=resources, instance=instance)
    slack_server.mode = "500"
    config = {"reason": "drift", "drift_months": ["2011-03"]}
    run = materialize(ALL_ASSETS, selection=[trained_model], resources=resources,
                      instance=instance,
                      run_config={"ops": {node("trained_model"): {"config": config}}})
    assert run.success and resources["model_store"].versions("bike_sharing") == [1]
    assert slack_server.posted() != []  # it was tried (and refused)
    outbox = Outbox(bike(resources["warehouse"]).engine)
    assert [o.alert.title for o in outbox.undelivered()] == [
        "Data drift in 2011-03: model retrained"]
    tried = len(slack_server.posted())
    slack_server.mode = "ok"
    context = build_sensor_context(instance=instance, resources=resources)
    drift_sensor.evaluate_tick(context)
    delivered = slack_server.posted()[tried:]
    assert [m["text"].splitlines()[0] for m in delivered] == [
        "Data drift in 2011-03: model retrained"]
    assert outbox.undelivered() == []
    drift_sensor.evaluate_tick(build_sensor_context(instance=instance, resources=resources))
    assert len(slack_server.posted()) == tried + 1  # never twice
    resources["warehouse"].dispose()
