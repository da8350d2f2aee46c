"""Secrets come from the environment only and show nowhere: logs, metadata, run storage, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from dagster import build_sensor_context, materialize

from drift_assets.lib.generator import generate_month
from drift_assets.resources import FileSource, build_resources
from drift_assets.sensors import drift_sensor
from drift_assets_tests.graph import ALL_ASSETS, current_data, reference_table, trained_model

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
        materialize(ALL_ASSETS, selection=[a for a in ALL_ASSETS if a.key.path[0] in (
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
    assert resources["model_store"].versions("bike_demand_ridge") == [1, 2]

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
