"""``drift-assets reports``: serve the reports folder over HTTP, read-only, so that a link in
the UI or in an alert opens the month's page in one click."""

from __future__ import annotations

import functools
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # one line per request would bury the UI's output in `make dev`


def run_reports(port: int | None) -> int:
    from drift_assets.settings import load_settings

    settings = load_settings()
    address = urlsplit(settings.reports_url)
    host = address.hostname or "127.0.0.1"
    port = port or address.port or (443 if address.scheme == "https" else 80)
    folder = settings.reports_dir
    folder.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(_Quiet, directory=str(folder))
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except (OSError, OverflowError) as exc:  # a port past 65535 in the URL: OverflowError
        why = getattr(exc, "strerror", None) or str(exc)
        print(f"drift-assets reports: cannot listen on {host}:{port}: {why}", file=sys.stderr)
        return 2
    print(f"drift-assets reports: serving {folder} at http://{host}:{port}/ (Ctrl-C stops)",
          file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
