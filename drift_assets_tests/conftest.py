"""Shared fixtures: a private data folder and a temporary Dagster instance per test."""

from __future__ import annotations

import json
import os
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from dagster import instance_for_test

from drift_assets.resources import build_resources


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """The environment of an embedded-default deployment whose data folder is the test's own."""
    return {"DRIFT_DATA_DIR": str(tmp_path / "data")}


@pytest.fixture
def resources(env) -> dict:
    built = build_resources(env)
    yield built
    built["warehouse"].dispose()


@pytest.fixture
def instance(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    with instance_for_test(temp_dir=str(home)) as inst:
        yield inst


# --- Servers on this machine, for the production path: PostgreSQL, S3 (moto), Slack. ---

PG_ADMIN_URL = os.environ.get("DRIFT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_admin():
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)


@pytest.fixture
def pg_database():
    """A factory of fresh PostgreSQL databases with unique names, all dropped after the test.

    Returns ``(url, name)``; ``url`` is a ``postgresql://`` URL (psycopg 3)."""
    import sqlalchemy as sa

    created = []

    def create(tag: str = "test") -> tuple[str, str]:
        name = f"drift_{tag}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with _pg_admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        url = sa.make_url(PG_ADMIN_URL).set(database=name)
        return url.render_as_string(hide_password=False), name

    yield create
    with _pg_admin() as admin:
        for name in created:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def moto_server():
    """moto's S3 server on a free loopback port, for the whole session; yields its endpoint."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(moto_server, monkeypatch, tmp_path):
    """boto3 pointed at the moto server through the environment, as production reads it, with a
    bucket of this test's own. Yields ``(client, bucket)``."""
    import boto3

    for name, value in {
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        # never a developer's own profile or credentials
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    client = boto3.client("s3")
    bucket = f"drift-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    yield client, bucket


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


class SlackServer:
    """A loopback HTTP server that answers like Slack's Web API and records every request.

    ``mode``: "ok" answers ``{"ok": true}``; "not_ok" answers HTTP 200 ``{"ok": false}``;
    "500" answers an HTTP 500 server error."""

    def __init__(self):
        self.requests: list[dict] = []
        self.mode = "ok"
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the name http.server calls
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    body = json.loads(raw)
                else:
                    body = {k: v[0] for k, v in parse_qs(raw).items()}
                recorder.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": body})
                if recorder.mode == "500":
                    self._answer(500, b"internal error", "text/plain")
                elif recorder.mode == "not_ok":
                    self._answer(200, json.dumps({"ok": False, "error": "channel_not_found"})
                                 .encode(), "application/json")
                else:
                    self._answer(200, json.dumps({"ok": True, "channel": body.get("channel"),
                                                  "ts": "1700000000.000100"}).encode(),
                                 "application/json")

            def do_GET(self):  # noqa: N802 - conversations.history: what was posted, newest first
                recorder.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": {}})
                posted = [r["body"] for r in recorder.requests
                          if r["path"].endswith("/chat.postMessage")]
                messages = [{"text": b.get("text"), "metadata": _json(b.get("metadata"))}
                            for b in reversed(posted)]
                self._answer(200, json.dumps({"ok": True, "messages": messages}).encode(),
                             "application/json")

            def _answer(self, status: int, payload: bytes, kind: str):
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        host, port = self.server.server_address[:2]
        self.base_url = f"http://{host}:{port}/api/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def posted(self, method: str = "chat.postMessage") -> list[dict]:
        return [r["body"] for r in self.requests if r["path"].endswith("/" + method)]


@pytest.fixture
def slack_server():
    server = SlackServer()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
