"""Faults injected on the real wire: a PostgreSQL connection lost mid-write, S3 down or failing."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
import sqlalchemy as sa
from dagster import materialize

from drift_assets.lib.generator import generate_month
from drift_assets.lib.registry import ModelRegistry
from drift_assets.lib.schema import BIKE
from drift_assets.lib.source import conform
from drift_assets.resources import Warehouse, build_resources
from drift_assets.resources import warehouse as warehouse_module
from drift_assets_tests.graph import (
    ALL_ASSETS,
    bike,
    current_data,
    reference_table,
    trained_model,
)


@pytest.mark.postgres
def test_connection_lost_mid_copy_leaves_the_month_whole(pg_database, monkeypatch):
    url, _ = pg_database("fault")
    warehouse = Warehouse(url=url, chunk_rows=500)
    store = bike(warehouse)
    before = conform(generate_month("2011-03", rows_per_day=100), "test", BIKE,
                     unique_days=False)
    store.replace_month("2011-03", before)
    after = conform(generate_month("2011-03", seed=1, rows_per_day=100), "test", BIKE,
                    unique_days=False)
    real_chunks = warehouse_module._csv_chunks
    killed = []

    def chunks_then_cut(frame, schema, rows):
        for number, chunk in enumerate(real_chunks(frame, schema, rows)):
            if number == 2:  # two chunks are on the wire: the server loses the connection
                with sa.create_engine(url).connect() as admin:
                    admin.execute(sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                        "AND query LIKE 'COPY%'"))
                    admin.commit()
                killed.append(number)
            yield chunk

    monkeypatch.setattr(warehouse_module, "_csv_chunks", chunks_then_cut)
    with pytest.raises(sa.exc.DBAPIError):
        store.replace_month("2011-03", after)
    monkeypatch.setattr(warehouse_module, "_csv_chunks", real_chunks)
    assert killed == [2]
    warehouse.dispose()
    fresh_warehouse = Warehouse(url=url)
    fresh = bike(fresh_warehouse)
    kept = fresh.read_month("2011-03")
    assert len(kept) == len(before) == 3100
    pd.testing.assert_frame_equal(kept, before.sort_values(["dteday", "instant"])
                                  .reset_index(drop=True), check_exact=False)
    fresh.replace_month("2011-03", after)  # and the next try goes through whole
    assert fresh.month_counts() == {"2011-03": 3100}
    fresh_warehouse.dispose()


class FailingS3:
    """A loopback endpoint that answers every request with 503 SlowDown, counting them."""

    def __init__(self):
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _fail(self):
                outer.requests += 1
                body = (b"<?xml version='1.0'?><Error><Code>SlowDown</Code>"
                        b"<Message>Please reduce your request rate.</Message></Error>")
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self.send_response(503)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_HEAD = do_POST = _fail  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.mark.parametrize("kind", ["errors", "unreachable"])
def test_s3_failing_during_upload_fails_clearly_and_registers_nothing(env, instance, s3,
                                                                       monkeypatch, kind):
    _, bucket = s3
    resources = build_resources({**env, "DRIFT_S3_BUCKET": bucket})
    materialize([reference_table], resources=resources, instance=instance)
    for month in ("2011-02-01", "2011-03-01"):
        materialize(ALL_ASSETS, selection=[current_data], partition_key=month,
                    resources=resources, instance=instance)
    failing = FailingS3()
    endpoint = failing.url
    if kind == "unreachable":
        failing.server.shutdown()
        failing.server.server_close()  # nothing listens on that port any more
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    result = materialize(ALL_ASSETS, selection=[trained_model], resources=resources,
                         instance=instance, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure).step_failure_data
    message = failure.error.message + "".join(c.message for c in [failure.error.cause] if c)
    assert f"storing bike_sharing under s3://{bucket}/models/bike_sharing/ failed" in message
    if kind == "errors":
        assert failing.requests >= 3  # retried with backoff before giving up
        assert "SlowDown" in message or "503" in message
    # The registry never points at an object that is not there.
    assert ModelRegistry(bike(resources["warehouse"]).engine).all() == []
    resources["warehouse"].dispose()
