"""Datasets declared in a file: two side by side share nothing, a classifier goes through drift,
retraining, the gate, its estimate and a rollback, and thirty declarations load without reading
a source."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from dagster import AssetKey, materialize

from drift_assets.assets import build_assets
from drift_assets.cli import main
from drift_assets.datasets import monitored_datasets
from drift_assets.definitions import build_defs
from drift_assets.lib.history import MonthHistory
from drift_assets.lib.outbox import Outbox
from drift_assets.lib.registry import ModelRegistry
from drift_assets.lib.tickets import SCHEMA as TICKETS_SCHEMA
from drift_assets.resources import DriftSettings, build_resources
from drift_assets.settings import load_settings
from drift_assets_tests.graph import BIKE, TICKETS

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _run(defs, job: str, instance, partition: str | None = None, config: dict | None = None):
    result = defs.resolve_job_def(job).execute_in_process(
        instance=instance, partition_key=partition, run_config={**QUIET, **(config or {})},
        raise_on_error=False)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return result


def test_two_datasets_in_one_definitions_share_nothing(env, instance):
    """Bike and tickets in one Definitions, one instance and one warehouse: each has its own
    tables (with its own columns and kinds), history, registry and reports, and an alert key
    names its dataset."""
    defs = build_defs(env)
    groups = {key.path[0] for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert groups == {"bike_sharing", "support_tickets"}
    for name, month in (("bike_sharing", "2011-02-01"), ("support_tickets", "2023-02-01")):
        _run(defs, f"{name}__reference_job", instance)
        _run(defs, f"{name}__monthly_drift_job", instance, month)
    warehouse = defs.resources["warehouse"]
    try:
        bike, tickets = BIKE.store(warehouse), TICKETS.store(warehouse)
        assert bike.stored_schema().names == [c for c, _ in BIKE.schema_hint.columns]
        assert tickets.stored_schema() == TICKETS_SCHEMA
        assert set(bike.read_month("2011-02").columns).isdisjoint(
            tickets.read_month("2023-02").columns)
        assert str(tickets.read_month("2023-02")["opened_at"].dtype).startswith("datetime64")
        assert list(MonthHistory(bike.engine).drift_records()) == ["2011-02"]
        assert list(MonthHistory(tickets.engine).drift_records()) == ["2023-02"]
        assert bike.month_counts().keys() == {"2011-02"}
        assert tickets.month_counts().keys() == {"2023-02"}
        # one file per dataset beside the warehouse: the main file holds no dataset table
        data = Path(env["DRIFT_DATA_DIR"])
        for name in ("bike_sharing", "support_tickets"):
            with sqlite3.connect(data / f"warehouse.{name}.db") as conn:
                tables = {r[0] for r in conn.execute(
                    "select name from sqlite_master where type='table'")}
            assert {"reference", "current", "drift_history", "quality_history"} <= tables
        with sqlite3.connect(data / "warehouse.db") as conn:
            assert not {r[0] for r in conn.execute(
                "select name from sqlite_master where type='table'")} & {"current", "reference"}
        assert (data / "reports" / "bike_sharing" / "2011-02.html").is_file()
        assert (data / "reports" / "support_tickets" / "2023-02.html").is_file()
        # the same cause in two datasets: two alerts, each key naming its dataset
        from drift_assets.lib.messages import Alert

        for store in (bike, tickets):
            assert Outbox(store.engine).put("drift:1", Alert(title="t"))
        keys = {o.key for store in (bike, tickets) for o in Outbox(store.engine).undelivered()}
        assert keys == {"bike_sharing/drift:1", "support_tickets/drift:1"}
    finally:
        warehouse.dispose()


def _performance(result) -> dict:
    events = result.asset_materializations_for_node("support_tickets__model_performance")
    return {k: v.value for k, v in events[-1].metadata.items()}


def test_a_classifier_drifts_retrains_is_gated_estimated_and_rolled_back(env, instance):
    """Support tickets: the outage month drifts and the sensor retrains the classifier (v1,
    production); on later months it did not train on, its roc_auc estimated before the labels
    (CBPE) lands near the realized one; a worse candidate is refused by the gate; one forced
    through degrades the next month and the monitor rolls back to v1."""
    from dagster import build_sensor_context

    defs = build_defs(env)
    _run(defs, "support_tickets__reference_job", instance)
    for month in ("2023-01", "2023-02", "2023-03", "2024-06"):
        _run(defs, "support_tickets__monthly_drift_job", instance, f"{month}-01")
    warehouse = defs.resources["warehouse"]
    store = TICKETS.store(warehouse)
    try:
        record = MonthHistory(store.engine).drift_records()["2024-06"]
        assert record.drift and "channel" in record.causes
        sensor = defs.resolve_sensor_def("support_tickets__drift_sensor")
        tick = sensor.evaluate_tick(build_sensor_context(instance=instance,
                                                         resources=defs.resources))
        (request,) = tick.run_requests
        _run(defs, "support_tickets__training_job", instance, config=request.run_config)
        registry = ModelRegistry(store.engine)
        v1 = registry.production()
        assert v1.version == 1 and v1.metric == "roc_auc" and 0.7 < v1.holdout_score < 0.95

        # months after the training window: estimated (CBPE) near realized
        for month in ("2023-05", "2023-07", "2023-09"):
            meta = _performance(_run(defs, "support_tickets__monthly_drift_job", instance,
                                     f"{month}-01"))
            assert meta["version"] == 1 and meta["metric"] == "roc_auc", meta
            assert meta["scored"] is True  # loaded after training: never trained on
            assert abs(meta["estimated"] - meta["realized"]) < 0.05, (month, meta)
            assert meta["degraded"] is False

        # a model regularised into constant probabilities (roc_auc 0.5) is refused ...
        bad = {"ops": {"support_tickets__trained_model": {"config": {"grid": {"C": [1e-7]}}}}}
        _run(defs, "support_tickets__training_job", instance, config=bad)
        assert registry.get(2).status == "candidate" and registry.production().version == 1
        assert registry.gate_answer(2)[0] is False
        # ... and one forced through (a 1000% tolerance) degrades the next month: back to v1
        settings = DriftSettings(reports_dir=str(Path(env["DRIFT_DATA_DIR"]) / "reports"),
                                 promotion_tolerance=10.0)
        trained = [a for a in build_assets(TICKETS, settings)
                   if a.key == TICKETS.key("trained_model")]
        resources = build_resources(env)
        materialize(trained, instance=instance, run_config={**QUIET, **bad},
                    resources={**resources, "settings": settings})
        assert registry.production().version == 3
        meta = _performance(_run(defs, "support_tickets__monthly_drift_job", instance,
                                 "2023-11-01"))
        assert meta["version"] == 3 and meta["degraded"] is True, meta
        assert meta["rolled_back_to"] == 1 and registry.production().version == 1
        alerts = [json.loads(line) for line in
                  (Path(env["DRIFT_DATA_DIR"]) / "notifications.jsonl").read_text().splitlines()]
        assert any(a["kind"] == "rollback" and "support_tickets" in a["title"] for a in alerts)
    finally:
        warehouse.dispose()


DECLARATION = """\
datasets:
  table_{i:02d}:
    source: {source}
    timestamp: when
    start: 2020-01
    end: 2021-12
    id: row
    model:
      target: label
      task: classification
      estimator: sklearn.ensemble.RandomForestClassifier
      params: {{n_estimators: [50, 100]}}
      metric: f1
"""


def test_thirty_declared_datasets_load_without_reading_their_sources(tmp_path):
    """The factory reads the declaration and nothing else: thirty datasets whose files do not
    exist load, each its own group of assets, jobs, schedule and sensor."""
    folder = tmp_path / "declared"
    folder.mkdir()
    for i in range(30):
        missing = tmp_path / "nowhere" / f"table_{i}.csv"
        (folder / f"table_{i:02d}.yaml").write_text(DECLARATION.format(i=i, source=missing))
    env = {"DRIFT_DATA_DIR": str(tmp_path / "data"), "DRIFT_CONFIG": str(folder)}
    defs = build_defs(env)
    keys = defs.resolve_asset_graph().get_all_asset_keys()
    assert {k.path[0] for k in keys} == {f"table_{i:02d}" for i in range(30)}
    assert AssetKey(["table_07", "trained_model"]) in keys
    assert len(defs.resolve_all_job_defs()) >= 30 * 3
    partitions = monitored_datasets(load_settings(env))[0].partitions
    assert partitions.get_first_partition_key() == "2020-01-01"
    assert partitions.get_last_partition_key() == "2021-12-01"  # the declared end
    assert not (tmp_path / "data").exists()  # nothing written either


@pytest.mark.parametrize("body, named", [
    ("source: generated\n    timestamp: t\n    start: 2020-01", "source"),
    ("timestamp: t\n    start: 2020-05\n    end: 2020-01", "end"),
    ("timestamp: t\n    start: 2020-01\n    model: {target: y, task: regression, "
     "estimator: sklearn.linear_model.Ridge, metric: rmse, degree: 7}", "model.degree"),
])
def test_a_bad_declaration_fails_the_commands_in_one_line(tmp_path, capsys, body, named):
    """A declaration that cannot be used stops backfill (and Dagster's load) with the file,
    the dataset and the key named, exit status 2, no traceback."""
    declared = tmp_path / "bad.yaml"
    declared.write_text(f"datasets:\n  mine:\n    {body}\n")
    import os

    before = dict(os.environ)
    os.environ.update({"DRIFT_CONFIG": str(declared),
                       "DRIFT_DATA_DIR": str(tmp_path / "data"),
                       "DAGSTER_HOME": str(tmp_path / "home")})
    try:
        assert main(["backfill"]) == 2
    finally:
        os.environ.clear()
        os.environ.update(before)
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"{declared}, dataset 'mine', key '{named}'" in err


def test_init_writes_a_declaration_that_runs(tmp_path, capsys):
    """`init` on a Parquet file of tickets finds the timestamp, the text id and the file's last
    month; `config check` accepts what it printed as it is."""
    from drift_assets.lib.tickets import generate

    frame = generate("2023-01-01", "2023-04-30")
    table = tmp_path / "tickets.parquet"
    frame.to_parquet(table)
    assert main(["init", str(table), "--name", "my_tickets"]) == 0
    text = capsys.readouterr().out
    assert 'timestamp: "opened_at"' in text and 'id: "ticket_id"' in text
    assert "start: 2023-01" in text and "end: 2023-04" in text
    declared = tmp_path / "mine.yaml"
    declared.write_text(text)
    assert main(["config", "check", str(declared)]) == 0
    assert "ok: my_tickets" in capsys.readouterr().out


def test_a_dataset_posts_to_its_declared_slack_channel(tmp_path, instance, slack_server,
                                                      monkeypatch):
    """A dataset's ``notify.slack_channel`` replaces DRIFT_SLACK_CHANNEL for its alerts; a
    dataset without one posts to DRIFT_SLACK_CHANNEL."""
    declared = tmp_path / "two.yaml"
    declared.write_text("""\
datasets:
  support_tickets:
    source: generated
    timestamp: opened_at
    start: 2023-01
    id: ticket_id
    labels: [escalated]
    quality: {columns: {priority: {allowed: [low, normal]}}}
    notify: {slack_channel: "#tickets-model"}
  bike_sharing:
    timestamp: dteday
    start: 2011-01
    id: instant
    labels: [casual, registered, cnt]
    features: [weathersit, temp, atemp, hum, windspeed]
    quality: {columns: {weathersit: {allowed: [7]}}}
""")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    env = {"DRIFT_DATA_DIR": str(tmp_path / "data"), "DRIFT_CONFIG": str(declared),
           "SLACK_BOT_TOKEN": "xoxb-test-token", "DRIFT_SLACK_CHANNEL": "#drift-alerts",
           "DRIFT_SLACK_BASE_URL": slack_server.base_url}
    defs = build_defs(env)
    from dagster import build_sensor_context

    try:
        for name, month in (("support_tickets", "2023-02-01"), ("bike_sharing", "2011-02-01")):
            _run(defs, f"{name}__reference_job", instance)
            # the declared allowed values are broken on purpose: a blocking quality failure
            result = defs.resolve_job_def(f"{name}__monthly_drift_job").execute_in_process(
                instance=instance, partition_key=month, run_config=QUIET, raise_on_error=False)
            assert not result.success
            defs.resolve_sensor_def(f"{name}__drift_sensor").evaluate_tick(
                build_sensor_context(instance=instance, resources=defs.resources))
    finally:
        defs.resources["warehouse"].dispose()
    posted = {r["body"]["channel"]: r["body"]["text"] for r in slack_server.requests
              if r["path"] == "/api/chat.postMessage"}
    assert set(posted) == {"#tickets-model", "#drift-alerts"}
    assert "priority" in posted["#tickets-model"] and "weathersit" in posted["#drift-alerts"]


def test_a_relative_per_month_source_is_read_from_the_declarations_folder(tmp_path, instance,
                                                                          monkeypatch):
    """A declared table of one CSV file a month, named relative to the declaration, is found
    from any working directory; its kinds are inferred from the reference month, and a later
    month that breaks them fails naming the file, the row and the column."""
    from drift_assets.lib.tickets import generate_month

    folder = tmp_path / "team"
    (folder / "months").mkdir(parents=True)
    for month in ("2023-01", "2023-02", "2023-03"):
        generate_month(month).to_csv(folder / "months" / f"{month}.csv", index=False)
    broken = (folder / "months" / "2023-03.csv").read_text().splitlines()
    cells = broken[5].split(",")
    cells[6] = "many"  # customer_tenure_days, an integer in the reference
    broken[5] = ",".join(cells)
    (folder / "months" / "2023-03.csv").write_text("\n".join(broken) + "\n")
    (folder / "tickets.yaml").write_text("""\
datasets:
  team_tickets:
    source: months/{month}.csv
    timestamp: opened_at
    start: 2023-01
    end: 2023-03
    id: ticket_id
    labels: [escalated]
""")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    env = {"DRIFT_DATA_DIR": str(tmp_path / "data"), "DRIFT_CONFIG": str(folder)}
    defs = build_defs(env)
    try:
        _run(defs, "team_tickets__reference_job", instance)
        _run(defs, "team_tickets__monthly_drift_job", instance, "2023-02-01")
        store = defs.resources["warehouse"].dataset("team_tickets")
        kinds = store.stored_schema().kinds
        assert kinds["opened_at"] == "datetime" and kinds["ticket_id"] == "text"
        assert kinds["previous_tickets"] == "int" and kinds["sentiment"] == "float"
        assert store.month_counts() == {"2023-02": len(generate_month("2023-02"))}
        result = defs.resolve_job_def("team_tickets__monthly_drift_job").execute_in_process(
            instance=instance, partition_key="2023-03-01", run_config=QUIET,
            raise_on_error=False)
        assert not result.success
        failure = next(e for e in result.all_events if e.is_step_failure)
        message = failure.step_failure_data.error.message
        assert "months/2023-03.csv" in message and "customer_tenure_days" in message
        assert "row 6" in message and "'many'" in message
        assert "2023-03" not in store.month_counts()  # nothing of the broken month written
    finally:
        defs.resources["warehouse"].dispose()


def test_a_dataset_name_too_long_for_a_schema_is_refused(tmp_path):
    from drift_assets.lib.declaration import DeclarationError, load_declarations

    declared = tmp_path / "long.yaml"
    declared.write_text(f"datasets:\n  {'a' * 49}:\n    timestamp: t\n    start: 2020-01\n")
    with pytest.raises(DeclarationError, match="at most 48 characters"):
        load_declarations(declared)
    declared.write_text(f"datasets:\n  {'a' * 48}:\n    timestamp: t\n    start: 2020-01\n")
    assert list(load_declarations(declared)) == ["a" * 48]


def test_owners_are_emails_or_teams(tmp_path):
    from drift_assets.lib.declaration import DeclarationError, load_declarations

    declared = tmp_path / "owners.yaml"
    declared.write_text("datasets:\n  mine:\n    timestamp: t\n    start: 2020-01\n"
                        "    owners: [team:ml, someone@example.com]\n")
    assert load_declarations(declared)["mine"].owners == ("team:ml", "someone@example.com")
    declared.write_text("datasets:\n  mine:\n    timestamp: t\n    start: 2020-01\n"
                        "    owners: [the ml team]\n")
    with pytest.raises(DeclarationError, match="key 'owners': 'the ml team' is neither"):
        load_declarations(declared)


def test_a_declared_daily_table_may_hold_many_rows_a_day(tmp_path):
    """Sales with a date and an order id: many orders a day load (the id must not repeat, the
    day may), where the bike table's own rule is one row a day."""
    from drift_assets.lib.declaration import load_declarations
    from drift_assets.monitored import Monitored
    from drift_assets.resources import GeneratedSource

    (tmp_path / "sales.csv").write_text(
        "order,day,amount\n1,2024-01-02,5.0\n2,2024-01-02,7.5\n3,2024-01-03,1.0\n")
    (tmp_path / "sales.yaml").write_text(
        "datasets:\n  sales:\n    source: sales.csv\n    timestamp: day\n    start: 2024-01\n"
        "    end: 2024-01\n    id: order\n")
    sales = Monitored(load_declarations(tmp_path / "sales.yaml")["sales"])
    source = sales.source(GeneratedSource())
    schema, rows = source.load_inferred(["2024-01"], sales.schema_hint)
    assert schema.kinds == {"order": "int", "day": "date", "amount": "float"}
    assert len(rows) == 3 and rows["day"].nunique() == 2
