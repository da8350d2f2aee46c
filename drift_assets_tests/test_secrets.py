"""Secrets come from the environment only and show nowhere: logs, metadata, run storage, errors."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
import sqlalchemy as sa
from dagster import EnvVar, build_sensor_context, materialize

from drift_assets.definitions import defs
from drift_assets.lib.generator import generate_month
from drift_assets.resources import FileSource, Warehouse, build_resources
from drift_assets_tests.graph import (
    ALL_ASSETS,
    bike,
    current_data,
    job,
    reference_table,
    trained_model,
)

drift_sensor = defs.resolve_sensor_def(job("drift_sensor"))

PG_PASSWORD = "pg-SECRET-7f3a91"
SLACK_TOKEN = "xoxb-SECRET-5c2e88"
AWS_SECRET = "aws-SECRET-d41e07"
SECRETS = (PG_PASSWORD, SLACK_TOKEN, AWS_SECRET)


def _files(*folders: Path):
    for folder in folders:
        yield from (p for p in folder.rglob("*") if p.is_file())


@pytest.mark.postgres
def test_no_secret_leaks_anywhere(env, tmp_path, instance, pg_database, s3, slack_server,
                                  monkeypatch, capfd, caplog):
    url, _ = pg_database("secrets")
    # Trust authentication ignores the password, but every client still carries it.
    url = sa.make_url(url).set(password=PG_PASSWORD).render_as_string(hide_password=False)
    _, bucket = s3
    secrets_env = {"DRIFT_WAREHOUSE_URL": url, "SLACK_BOT_TOKEN": SLACK_TOKEN,
                   "AWS_SECRET_ACCESS_KEY": AWS_SECRET}
    for name, value in secrets_env.items():
        monkeypatch.setenv(name, value)
    resources = build_resources({**env, **secrets_env, "DRIFT_S3_BUCKET": bucket,
                                 "DRIFT_SLACK_CHANNEL": "#drift",
                                 "DRIFT_SLACK_BASE_URL": slack_server.base_url})
    materialize([reference_table], resources=resources, instance=instance)
    for month in ("2011-06-01", "2011-07-01"):
        materialize(ALL_ASSETS, selection=[a for a in ALL_ASSETS if a.key.path[-1] in (
            "current_data", "data_quality_report", "reference_profile", "drift_report")],
            partition_key=month, resources=resources, instance=instance)
    tick = drift_sensor.evaluate_tick(build_sensor_context(instance=instance, resources=resources))
    config = tick.run_requests[0].run_config
    materialize(ALL_ASSETS, selection=[trained_model], resources=resources, instance=instance,
                run_config=config)
    # Errors, too: a source file without a column, and Slack refusing.
    generate_month("2011-08").drop(columns=["temp"]).to_csv(tmp_path / "2011-08.csv", index=False)
    bad = {**resources, "source": FileSource(location=str(tmp_path / "{month}.csv"))}
    failed = materialize(ALL_ASSETS, selection=[current_data], partition_key="2011-08-01",
                         resources=bad, instance=instance, raise_on_error=False)
    assert not failed.success
    slack_server.mode = "500"
    materialize(ALL_ASSETS, selection=[trained_model], resources=resources, instance=instance,
                run_config=config)
    assert slack_server.posted()  # the token really was used, on the wire
    assert resources["model_store"].versions("bike_sharing") == [1, 2]

    # The event logs and metadata of every run, the run storage, the error messages.
    texts = []
    for run in instance.get_runs():
        texts.append(repr(run.run_config) + repr(run.tags))
        for entry in instance.all_logs(run.run_id):
            texts.append(repr(entry))
    texts.append(capfd.readouterr().out + capfd.readouterr().err)
    texts.append(caplog.text)
    blob = "\n".join(texts)
    assert "missing required column(s): temp" in blob and "notification failed" in blob
    for secret in SECRETS:
        assert secret not in blob, f"{secret} leaked into logs, metadata or run storage"
    # And every byte the instance and the data folder wrote to disk.
    home = Path(instance.root_directory)
    for path in _files(home, Path(env["DRIFT_DATA_DIR"])):
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in data, f"{secret} leaked into {path}"
    resources["warehouse"].dispose()


# --- A password that breaks its URL -------------------------------------------------------------

# URLs written without percent-encoding their password, with the password as its author meant it
# and what the error must say. SQLAlchemy ends the password at the first '@' and used to read the
# rest as a host, a port or a database, which the driver's error then printed.
BROKEN_URLS = {
    "at": ("postgresql://postgres:at1-SECRET-9b@at2-SECRET-4c@127.0.0.1:5432/{db}",
           "at1-SECRET-9b@at2-SECRET-4c", "'@' where a URL holds one"),
    "at-slash-colon-percent": (
        "postgresql://postgres:dl1-SECRET/a:b%zz@dl2-SECRET-7e/q@127.0.0.1:5432/{db}",
        "dl1-SECRET/a:b%zz@dl2-SECRET-7e/q", "'@' where a URL holds one"),
    "at-then-port": ("postgresql://postgres:pt1-SECRET-3d@pt2-SECRET:5e@127.0.0.1:5432/{db}",
                     "pt1-SECRET-3d@pt2-SECRET:5e", "'@' where a URL holds one"),
    "unparseable": ("postgresql://postgres:up1-SECRET-8f@up2-SECRET@/{db}?port=abc",
                    "up1-SECRET-8f@up2-SECRET", "'@' where a URL holds one"),
    "no-at": ("postgresql://postgres:na1-SECRET-6a/{db}", "na1-SECRET-6a",
              "its port is not a number"),
}
# Passwords that parse: '/', ':' and '%' raw, and every delimiter percent-encoded.
GOOD_PASSWORDS = {
    "slash-colon-percent": "gd-SECRET/1:2%zz",
    "encoded": quote("en-SECRET@a/b:c%d", safe=""),
}


def _secrets_of(password: str) -> list[str]:
    """The password as written and decoded, and their pieces between '@'s."""
    meant = unquote(password)
    return sorted({password, meant, *password.split("@"), *meant.split("@")}, key=len)


def _everything_written(instance, env, capfd, caplog) -> tuple[str, dict[Path, bytes]]:
    """The run storage, event logs and errors of every run, what was printed and logged; and
    every file the instance (compute logs included) and the data folder hold."""
    texts = []
    for run in instance.get_runs():
        texts.append(repr(run.run_config) + repr(run.tags))
        for entry in instance.all_logs(run.run_id):
            texts.append(repr(entry))
    captured = capfd.readouterr()
    texts += [captured.out, captured.err, caplog.text]
    files = {path: path.read_bytes()
             for path in _files(Path(instance.root_directory), Path(env["DRIFT_DATA_DIR"]))}
    return "\n".join(texts), files


def _assert_nowhere(secrets, blob: str, files: dict[Path, bytes]) -> None:
    for secret in secrets:
        assert secret not in blob, f"{secret!r} leaked into logs, errors or run storage"
        for path, data in files.items():
            assert secret.encode() not in data, f"{secret!r} leaked into {path}"


def _user_error(result):
    """The error the asset raised: the innermost cause of the step's failure."""
    (failure,) = result.get_step_failure_events()
    error = failure.step_failure_data.error
    while error.cause is not None:
        error = error.cause
    return error


@pytest.mark.postgres
@pytest.mark.parametrize("case", list(BROKEN_URLS))
def test_a_broken_url_is_refused_in_one_line_and_shows_nowhere(
        case, env, instance, pg_database, monkeypatch, capfd, caplog):
    _, database = pg_database("badurl")
    template, password, problem = BROKEN_URLS[case]
    url = template.format(db=database)
    monkeypatch.setenv("DRIFT_WAREHOUSE_URL", url)
    resources = build_resources({**env, "DRIFT_WAREHOUSE_URL": url})
    result = materialize([reference_table], resources=resources, instance=instance,
                         raise_on_error=False)
    assert not result.success
    blob, files = _everything_written(instance, env, capfd, caplog)
    assert "WarehouseURLError" in blob
    _assert_nowhere(_secrets_of(password), blob, files)
    error = _user_error(result)
    message = error.message.strip()
    assert "\n" not in message, message
    assert error.cls_name == "WarehouseURLError", message
    assert "warehouse URL (DRIFT_WAREHOUSE_URL) is not a valid SQLAlchemy URL: " in message
    assert problem in message


@pytest.mark.postgres
@pytest.mark.parametrize("case", list(GOOD_PASSWORDS))
def test_a_password_with_delimiters_works_and_shows_nowhere(
        case, env, instance, pg_database, monkeypatch, capfd, caplog):
    url, _ = pg_database("goodurl")
    password = GOOD_PASSWORDS[case]
    # trust authentication ignores the password, but the client carries it
    url = url.replace("postgres@", f"postgres:{password}@", 1)
    assert sa.make_url(url).password == unquote(password)
    monkeypatch.setenv("DRIFT_WAREHOUSE_URL", url)
    resources = build_resources({**env, "DRIFT_WAREHOUSE_URL": url})
    assert materialize([reference_table], resources=resources, instance=instance).success
    warehouse = resources["warehouse"]
    resolved = Warehouse(url=url)
    assert len(bike(resolved).read_reference()) == 31
    # what a person or a log line sees of the resource
    blob, files = _everything_written(instance, env, capfd, caplog)
    blob += repr(resolved) + str(resolved)
    _assert_nowhere(_secrets_of(password), blob, files)
    assert "postgres:***@127.0.0.1" in repr(resolved)
    assert isinstance(warehouse.url, EnvVar)
    resolved.dispose()


@pytest.mark.postgres
def test_a_warehouse_that_cannot_be_reached_is_named_in_one_line(
        env, instance, monkeypatch, capfd, caplog):
    password = "cr1-SECRET/x:y%zz"
    url = f"postgresql://postgres:{password}@127.0.0.1:1/nowhere"
    monkeypatch.setenv("DRIFT_WAREHOUSE_URL", url)
    resources = build_resources({**env, "DRIFT_WAREHOUSE_URL": url})
    result = materialize([reference_table], resources=resources, instance=instance,
                         raise_on_error=False)
    assert not result.success
    message = _user_error(result).message.strip()
    assert "\n" not in message, message
    assert message.startswith("drift_assets.resources.warehouse.WarehouseConnectionError: "
                              "cannot open the warehouse at "
                              "postgresql://postgres:***@127.0.0.1:1/nowhere: "), message
    assert "Connection refused" in message
    blob, files = _everything_written(instance, env, capfd, caplog)
    _assert_nowhere(_secrets_of(password), blob, files)


@pytest.mark.postgres
def test_a_dask_read_shows_no_password(pg_database, capfd, caplog):
    from distributed import Client, LocalCluster

    url, database = pg_database("dasksecret")
    password = "dk1-SECRET/p:q%zz"
    url = url.replace("postgres@", f"postgres:{quote(password, safe='')}@", 1)
    warehouse = Warehouse(url=url)
    bike(warehouse).replace_month("2011-03", generate_month("2011-03"))
    frame, rows = bike(warehouse).dask_window(["2011-03"])
    assert rows == 31
    # The URL travels to the workers as a task argument: older Dask workers log a failed task's
    # arguments, debuggers and dashboards show them; their repr hides the password.
    arguments = [arg for task in dict(frame.__dask_graph__()).values()
                 for arg in getattr(task, "args", ())]
    shown = " ".join(map(repr, arguments))
    assert "postgres:***@127.0.0.1" in shown
    _assert_nowhere(_secrets_of(password), shown, {})
    with sa.create_engine(url).begin() as conn:  # the workers' read will fail
        conn.execute(sa.text('DROP TABLE drift_bike_sharing."current"'))
    caplog.set_level(logging.INFO)
    worker_log = logging.getLogger("distributed.worker")
    worker_log.addHandler(caplog.handler)  # distributed's loggers do not propagate
    try:
        # the handler stays until the cluster has closed: the worker logs the failed task in
        # its own thread, after the client has the error
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            with pytest.raises(Exception, match="current"):
                client.compute(frame, sync=True)
    finally:
        worker_log.removeHandler(caplog.handler)
    warehouse.dispose()
    captured = capfd.readouterr()
    blob = captured.out + captured.err + caplog.text
    # the dataset's table, read in its namespace (the search path of the read's transaction)
    assert "Compute Failed" in blob and 'relation "current" does not exist' in blob
    _assert_nowhere(_secrets_of(password), blob, {})
