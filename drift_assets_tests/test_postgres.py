"""The production path on the PostgreSQL server of this machine (127.0.0.1:5432).

Each test gets databases of its own, created with unique names and dropped afterwards. The last
test runs the whole graph on a Dagster instance configured by the repository's ``dagster.yaml``,
with the warehouse in PostgreSQL, models and incoming files on moto's S3 server and alerts on a
loopback Slack server, then reopens the instance and finds its history there.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import psycopg
import pytest
import sqlalchemy as sa
from dagster import (
    DagsterInstance,
    DagsterRunStatus,
    QueuedRunCoordinator,
    build_resources,
    build_sensor_context,
)
from dagster_postgres import (
    PostgresEventLogStorage,
    PostgresRunStorage,
    PostgresScheduleStorage,
)

from drift_assets.definitions import build_defs
from drift_assets.lib.generator import generate_month
from drift_assets.lib.registry import ModelRegistry
from drift_assets.lib.schema import BIKE as BIKE_SCHEMA
from drift_assets.lib.source import conform
from drift_assets.resources import Warehouse
from drift_assets.resources import warehouse as warehouse_module
from drift_assets.resources.warehouse import DatasetWarehouse
from drift_assets.sensors import RETRAIN_TAG
from drift_assets_tests.graph import bike, job, key, node

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[1]


def _month(month: str, seed: int = 0) -> pd.DataFrame:
    return conform(generate_month(month, seed=seed), "test", BIKE_SCHEMA)


@pytest.fixture
def warehouse(pg_database):
    url, _ = pg_database("warehouse")
    store = Warehouse(url=url, chunk_rows=7)  # small chunks: several COPY writes and fetches
    yield store
    store.dispose()


def _column_types(engine: sa.Engine, table: str, schema: str = "drift_bike_sharing"
                  ) -> dict[str, str]:
    """The PostgreSQL types of ``table``'s columns in ``schema`` (the bike dataset's)."""
    query = sa.text("SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = :schema AND table_name = :table")
    with engine.connect() as conn:
        return dict(conn.execute(query, {"schema": schema, "table": table}).all())


def test_tables_have_postgres_types_and_a_month_round_trips(warehouse):
    warehouse = bike(warehouse)
    frame = _month("2011-03")
    frame.loc[4, "temp"] = None  # a missing measurement stays missing
    frame.loc[5, "cnt"] = pd.NA  # a label that has not arrived yet
    warehouse.replace_month("2011-03", frame)
    warehouse.replace_reference(_month("2011-01"))
    assert warehouse.engine.dialect.driver == "psycopg"
    for table in ("current", "reference"):
        types = _column_types(warehouse.engine, table)
        assert types["dteday"] == "date"
        assert types["instant"] == types["cnt"] == types["weathersit"] == "bigint"
        assert types["temp"] == types["hum"] == "double precision"
    # Exactly: a float goes through COPY's text as its shortest round-tripping repr.
    pd.testing.assert_frame_equal(warehouse.read_month("2011-03"), frame, check_exact=True)
    pd.testing.assert_frame_equal(warehouse.read_reference(), _month("2011-01"), check_exact=True)
    with warehouse.engine.connect() as conn:
        nulls = conn.execute(sa.text('SELECT count(*) FROM drift_bike_sharing."current" '
                                     "WHERE temp IS NULL OR cnt IS NULL")).scalar()
    assert nulls == 2


def test_a_month_is_loaded_with_copy_not_inserts(warehouse, monkeypatch):
    warehouse = bike(warehouse)
    copies, statements = [], []
    real_copy = psycopg.Cursor.copy

    def spy(cursor, statement, *args, **kwargs):
        copies.append(str(statement))
        return real_copy(cursor, statement, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "copy", spy)
    sa.event.listen(warehouse.engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *rest: statements.append(statement))
    warehouse.replace_month("2011-04", _month("2011-04"))
    # into the bike dataset's schema, by name
    assert copies == ['COPY drift_bike_sharing.current (' + ", ".join(BIKE_SCHEMA.names)
                      + ") FROM STDIN (FORMAT csv)"]
    # the rows by COPY only; the one INSERT records the load (rows, token) in table_loads
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert inserts and all("table_loads" in s for s in inserts)
    assert [s for s in statements if s.lstrip().upper().startswith("DELETE FROM")]
    assert warehouse.month_counts() == {"2011-04": 30}


def test_a_crash_half_way_through_the_copy_leaves_the_month_as_it_was(warehouse, monkeypatch):
    warehouse = bike(warehouse)
    good = _month("2011-03")
    warehouse.replace_month("2011-03", good)
    real_chunks = warehouse_module._csv_chunks
    sent = []

    def crash_after_two(frame, schema, rows):
        for chunk in real_chunks(frame, schema, rows):
            if len(sent) == 2:
                raise ConnectionError("the loader died half way")
            sent.append(chunk)
            yield chunk

    monkeypatch.setattr(warehouse_module, "_csv_chunks", crash_after_two)
    with pytest.raises(ConnectionError):
        warehouse.replace_month("2011-03", _month("2011-03", seed=5))
    assert len(sent) == 2  # 14 of the 31 rows had gone to the server
    monkeypatch.undo()
    pd.testing.assert_frame_equal(warehouse.read_month("2011-03"), good)
    assert warehouse.month_counts() == {"2011-03": 31}


def test_reads_come_by_copy_to_stdout(warehouse, monkeypatch):
    warehouse = bike(warehouse)
    reference = pd.concat([_month("2011-01"), _month("2011-02")], ignore_index=True)
    warehouse.replace_reference(reference)
    warehouse_module._FRAMES.clear()  # as a step in its own process: read from the database
    copies = []
    real_copy = psycopg.Cursor.copy
    monkeypatch.setattr(psycopg.Cursor, "copy", lambda cursor, statement, *a, **k:
                        copies.append(str(statement)) or real_copy(cursor, statement, *a, **k))
    pd.testing.assert_frame_equal(warehouse.read_reference(), reference, check_exact=True)
    assert len(copies) == 1 and copies[0].startswith("COPY (SELECT")
    assert copies[0].endswith("TO STDOUT (FORMAT csv)")
    assert warehouse.read_month("2011-09").empty  # an empty result reads too


def test_a_psycopg2_url_loads_with_copy_as_well(pg_database):
    url, _ = pg_database("psycopg2")
    resource = Warehouse(url=sa.make_url(url).set(drivername="postgresql+psycopg2")
                         .render_as_string(hide_password=False))
    store = bike(resource)
    try:
        frame = _month("2011-05")
        store.replace_month("2011-05", frame)
        store.replace_month("2011-05", frame)
        assert store.engine.dialect.driver == "psycopg2"
        pd.testing.assert_frame_equal(store.read_month("2011-05"), frame)
        assert store.month_counts() == {"2011-05": 31}
    finally:
        resource.dispose()


def _upload_month(client, bucket: str, month: str) -> None:
    body = generate_month(month, seed=0).to_csv(index=False).encode()
    client.put_object(Bucket=bucket, Key=f"incoming/{month}.csv", Body=body)


@pytest.mark.slow
def test_the_graph_on_postgres_s3_and_slack_keeps_its_history_when_reopened(
    pg_database, s3, slack_server, tmp_path, monkeypatch
):
    client, bucket = s3
    _, instance_db = pg_database("instance")
    warehouse_url, _ = pg_database("warehouse")
    for month in ("2011-01", "2011-06", "2011-07"):  # the reference month and two more
        _upload_month(client, bucket, month)
    env = {
        "DRIFT_DATA_DIR": str(tmp_path / "data"),
        "DRIFT_WAREHOUSE_URL": warehouse_url,
        "DRIFT_SOURCE": f"s3://{bucket}/incoming/{{month}}.csv",
        "DRIFT_S3_BUCKET": bucket,
        "DRIFT_S3_PREFIX": "ml/models",
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "DRIFT_SLACK_CHANNEL": "#drift-alerts",
        "DRIFT_SLACK_BASE_URL": slack_server.base_url,
        "DRIFT_RETRAIN_COOLDOWN_HOURS": "0",
    }
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    instance_env = {"DAGSTER_HOME": str(home), "DAGSTER_PG_HOST": "127.0.0.1",
                    "DAGSTER_PG_PORT": "5432", "DAGSTER_PG_USER": "postgres",
                    "DAGSTER_PG_PASSWORD": "", "DAGSTER_PG_DB": instance_db}
    for name, value in {**env, **instance_env}.items():  # EnvVar values resolve from here
        monkeypatch.setenv(name, value)

    defs = build_defs(env)
    instance = DagsterInstance.get()
    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
    assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
    queue = instance.run_coordinator.get_run_queue_config()
    assert queue.max_concurrent_runs == 4
    # one retrain of a dataset at a time: the limit is per value of the tag retrains carry
    assert {"key": RETRAIN_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in \
        queue.tag_concurrency_limits
    assert instance.run_monitoring_enabled
    s3_arrival_sensor = defs.resolve_sensor_def(job("s3_arrival_sensor"))
    drift_sensor = defs.resolve_sensor_def(job("drift_sensor"))
    try:
        assert defs.resolve_job_def(job("reference_job")).execute_in_process(
            instance=instance).success

        # The uploads, seen by the arrival sensor: one run of the monthly job per month.
        tick = s3_arrival_sensor.evaluate_tick(build_sensor_context(
            instance=instance, resources=defs.resources, definitions=defs))
        requests = sorted(tick.run_requests, key=lambda r: r.partition_key)
        assert [r.partition_key for r in requests] == ["2011-01-01", "2011-06-01", "2011-07-01"]
        monthly = defs.resolve_job_def(job("monthly_drift_job"))
        for request in requests:
            tags = {**request.tags, "dagster/run_key": request.run_key,
                    "dagster/sensor_name": s3_arrival_sensor.name}
            result = monthly.execute_in_process(partition_key=request.partition_key, tags=tags,
                                                instance=instance)
            assert result.success
        again = s3_arrival_sensor.evaluate_tick(build_sensor_context(
            instance=instance, cursor=tick.cursor, resources=defs.resources, definitions=defs))
        assert again.run_requests == [] and f"s3://{bucket}/incoming/" in again.skip_message

        # The drift sensor asks for a retrain; the run stores the model on S3 and tells Slack.
        drift = drift_sensor.evaluate_tick(build_sensor_context(
            instance=instance, resources=defs.resources, definitions=defs))
        assert len(drift.run_requests) == 1
        retrain = drift.run_requests[0]
        assert retrain.tags[RETRAIN_TAG] == "bike_sharing"  # what the run queue limits by
        config = retrain.run_config["ops"][node("trained_model")]["config"]
        assert config["reason"] == "drift"
        assert set(config["drift_months"]) <= {"2011-06", "2011-07"} and config["drift_months"]
        training = defs.resolve_job_def(job("training_job")).execute_in_process(
            run_config=retrain.run_config, instance=instance,
            tags={**retrain.tags, "dagster/run_key": retrain.run_key,
                  "dagster/sensor_name": drift_sensor.name})
        assert training.success
        model = {k: v.value for k, v in
                 training.asset_materializations_for_node(node("trained_model"))[-1]
                 .metadata.items()}
        assert model["version"] == 1
        assert model["model_uri"] == f"s3://{bucket}/ml/models/bike_sharing/v0001/model.joblib"
        payload = client.get_object(Bucket=bucket,
                                    Key="ml/models/bike_sharing/v0001/model.joblib")["Body"]
        assert hashlib.sha256(payload.read()).hexdigest() == model["sha256"]

        posted = slack_server.posted()
        assert len(posted) == 1 and posted[0]["channel"] == "#drift-alerts"
        message = str(posted[0]["blocks"])
        assert "Data drift in" in message and "bike_sharing v1" in message
        assert f"s3://{bucket}/ml/models/bike_sharing/v0001/model.joblib" in message
        assert "/bike_sharing/2011-" in message and ".html" in message  # the month's page

        # The warehouse is in PostgreSQL, with its own types.
        with build_resources({"warehouse": defs.resources["warehouse"]}) as resources:
            store = bike(resources.warehouse)
            assert store.month_counts() == {"2011-01": 31, "2011-06": 30, "2011-07": 31}
            assert _column_types(store.engine, "current")["dteday"] == "date"
            assert ModelRegistry(store.engine).production().version == 1
            resources.warehouse.dispose()
    finally:
        instance.dispose()

    # Reopened from its dagster.yaml: the history is in PostgreSQL, not in the folder.
    assert not [p for p in home.rglob("*") if p.suffix in (".db", ".sqlite")]
    reopened = DagsterInstance.from_config(str(home))
    try:
        runs = reopened.get_runs()
        assert len(runs) == 5 and {r.status for r in runs} == {DagsterRunStatus.SUCCESS}
        assert sorted(r.job_name for r in runs) == [job("monthly_drift_job")] * 3 + [
            job("reference_job"), job("training_job")]
        arrivals = [r for r in runs if r.job_name == job("monthly_drift_job")]
        assert {r.tags["drift_assets/s3_object"] for r in arrivals} == {
            f"s3://{bucket}/incoming/{m}.csv" for m in ("2011-01", "2011-06", "2011-07")}
        reports = reopened.fetch_materializations(key("drift_report"), limit=10).records
        by_month = {r.asset_materialization.partition: r.asset_materialization for r in reports}
        assert set(by_month) == {"2011-01-01", "2011-06-01", "2011-07-01"}
        assert by_month["2011-07-01"].metadata["drift_detected"].value is True
        assert by_month["2011-01-01"].metadata["drift_share"].value == 0.0
        trained = reopened.fetch_materializations(key("trained_model"), limit=1).records
        assert trained[0].asset_materialization.metadata["version"].value == 1
        status = reopened.get_latest_materialization_event(key("current_data"))
        assert status is not None
    finally:
        reopened.dispose()
    with psycopg.connect(sa.make_url(warehouse_url).set(database=instance_db)
                         .render_as_string(hide_password=False)) as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 5


def test_a_month_in_a_folder_is_copied_file_by_file_and_a_bad_file_changes_nothing(
        warehouse, tmp_path, monkeypatch, instance):
    """`current_data` with a folder of Parquet files a month: one COPY per file, never the
    whole month in one frame; a bad file half-way leaves the month as it was."""
    from dagster import materialize

    from drift_assets.resources import FileSource
    from drift_assets_tests.graph import current_data

    month = tmp_path / "2011-05"
    month.mkdir()
    frame = generate_month("2011-05", seed=3)
    for i, start in enumerate(range(0, len(frame), 10)):
        frame.iloc[start:start + 10].to_parquet(month / f"part-{i}.parquet", index=False)
    written = []
    real_insert = DatasetWarehouse._insert

    def spy(self, conn, table, chunk):
        written.append(len(chunk))
        return real_insert(self, conn, table, chunk)

    monkeypatch.setattr(DatasetWarehouse, "_insert", spy)
    store = bike(warehouse)
    resources = {"source": FileSource(location=str(tmp_path / "{month}")), "warehouse": warehouse}
    result = materialize([current_data], partition_key="2011-05-01", resources=resources,
                         instance=instance)
    assert result.success and written == [10, 10, 10, 1]
    assert store.month_counts() == {"2011-05": 31}
    event = result.asset_materializations_for_node(node("current_data"))[0]
    assert event.metadata["dagster/row_count"].value == 31
    assert event.metadata["last_day"].value == "2011-05-31"

    bad = frame.iloc[10:20].assign(temp="warm")
    bad.to_parquet(month / "part-1.parquet", index=False)
    failed = materialize([current_data], partition_key="2011-05-01", resources=resources,
                         instance=instance, raise_on_error=False)
    assert not failed.success
    message = str(failed.all_events)
    assert "part-1.parquet" in message and "temp" in message
    assert store.month_counts() == {"2011-05": 31}
    (month / "part-1.parquet").unlink()
    frame.iloc[0:5].to_parquet(month / "part-9.parquet", index=False)  # days again
    assert not materialize([current_data], partition_key="2011-05-01", resources=resources,
                           instance=instance, raise_on_error=False).success
    assert store.month_counts() == {"2011-05": 31}


def test_two_loads_of_one_month_at_once_take_turns_and_never_double_it(warehouse):
    """A step re-run while its first attempt still writes (Celery's late acknowledgement after
    a lost worker): the second load waits for the first and replaces its rows."""
    import threading

    warehouse = bike(warehouse)
    month = _month("2011-06")
    first_started, release = threading.Event(), threading.Event()

    def slow_chunks():
        yield month.iloc[:10]
        first_started.set()
        assert release.wait(30)
        yield month.iloc[10:]

    first = threading.Thread(target=warehouse.replace_month_chunks, args=("2011-06", slow_chunks()))
    first.start()
    assert first_started.wait(30)
    second = threading.Thread(target=warehouse.replace_month, args=("2011-06", month))
    second.start()
    second.join(2)
    assert second.is_alive()  # waiting for the first attempt's transaction
    release.set()
    first.join(30)
    second.join(30)
    assert not first.is_alive() and not second.is_alive()
    assert warehouse.month_counts() == {"2011-06": 30}
    assert warehouse.read_month("2011-06")["instant"].is_unique


def test_two_datasets_on_one_warehouse_write_to_schemas_of_their_own(warehouse, tmp_path,
                                                                      instance):
    """Bike sharing and support tickets on ONE PostgreSQL warehouse: each dataset's tables and
    records are in its own schema (drift_bike_sharing, drift_support_tickets), nothing of
    either is in ``public``, and neither dataset's drift history holds the other's month."""
    from dagster import materialize

    from drift_assets.assets import build_assets
    from drift_assets.lib.history import MonthHistory
    from drift_assets.lib.tickets import SCHEMA as TICKETS_SCHEMA
    from drift_assets.resources import DaskCluster, DriftSettings, GeneratedSource
    from drift_assets_tests.graph import BIKE, TICKETS

    settings = DriftSettings(reports_dir=str(tmp_path / "reports"))
    resources = {"source": GeneratedSource(seed=0), "warehouse": warehouse,
                 "settings": settings, "cluster": DaskCluster()}
    months = {BIKE.name: "2011-07", TICKETS.name: "2023-04"}
    for monitored in (BIKE, TICKETS):
        by_name = {a.key.path[-1]: a for a in build_assets(monitored, settings)}
        assert materialize([by_name["reference_table"]], resources=resources,
                           instance=instance).success
        monthly = [by_name[n] for n in ("reference_table", "current_data", "data_quality_report",
                                        "reference_profile", "drift_report")]
        result = materialize(monthly, selection=monthly[1:], resources=resources,
                             instance=instance, partition_key=f"{months[monitored.name]}-01")
        assert result.success
        drift = result.asset_materializations_for_node(
            monitored.key("drift_report").to_python_identifier())
        assert len(drift) == 1 and drift[0].partition == f"{months[monitored.name]}-01"

    own = {"reference", "current", "table_schema", "drift_history", "drift_history_columns",
           "quality_history", "reference_profiles", "reference_windows"}
    inspector = sa.inspect(warehouse.engine)
    schemas = set(inspector.get_schema_names())
    assert {"drift_bike_sharing", "drift_support_tickets"} <= schemas
    bike_tables = set(inspector.get_table_names(schema="drift_bike_sharing"))
    ticket_tables = set(inspector.get_table_names(schema="drift_support_tickets"))
    assert own <= bike_tables and own <= ticket_tables
    assert not set(inspector.get_table_names(schema="public")) & own  # nothing in the default
    # Each schema's data tables have that dataset's columns, and only those.
    for schema, columns in (("drift_bike_sharing", BIKE_SCHEMA.names),
                            ("drift_support_tickets", TICKETS_SCHEMA.names)):
        for table in ("reference", "current"):
            assert [c["name"] for c in inspector.get_columns(table, schema=schema)] == \
                list(columns), (schema, table)
    assert "dteday" not in _column_types(warehouse.engine, "current", "drift_support_tickets")
    assert _column_types(warehouse.engine, "current")["dteday"] == "date"

    # The drift history of each schema holds its own month, read in SQL and through the
    # dataset's own engine; neither sees the other's row.
    with warehouse.engine.connect() as conn:
        rows = {schema: [m for (m,) in conn.execute(sa.text(
            f"SELECT month FROM {schema}.drift_history ORDER BY id"))]
            for schema in ("drift_bike_sharing", "drift_support_tickets")}
    assert rows == {"drift_bike_sharing": ["2011-07"], "drift_support_tickets": ["2023-04"]}
    bike_store, ticket_store = (warehouse.dataset(BIKE.name), warehouse.dataset(TICKETS.name))
    assert list(MonthHistory(bike_store.engine).drift_records()) == ["2011-07"]
    assert list(MonthHistory(ticket_store.engine).drift_records()) == ["2023-04"]
    assert list(MonthHistory(bike_store.engine).quality_records()) == ["2011-07"]
    assert list(MonthHistory(ticket_store.engine).quality_records()) == ["2023-04"]
    # the schemas stored with the reference tables are the datasets' own
    assert bike_store.stored_schema() == BIKE_SCHEMA
    assert ticket_store.stored_schema() == TICKETS_SCHEMA
    assert bike_store.month_counts() == {"2011-07": 31}
    assert set(ticket_store.month_counts()) == {"2023-04"}
    assert (tmp_path / "reports" / "bike_sharing" / "2011-07.html").is_file()
    assert (tmp_path / "reports" / "support_tickets" / "2023-04.html").is_file()
