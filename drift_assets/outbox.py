"""Alerts that could not be sent yet, kept in the Dagster instance until the sensor sends them.

A failing channel (Slack down, a bad answer) must neither fail the work that raised the alert nor
lose the alert. The alert goes here; the drift sensor's next tick sends what is waiting and takes
each alert out once it was sent, so it is retried until it goes through and sent once.
"""

from __future__ import annotations

import json
import logging

from dagster import DagsterInstance

from drift_assets.lib.messages import Alert

KEY = "drift_assets/outbox"


def _load(instance: DagsterInstance) -> list[dict]:
    raw = instance.run_storage.get_cursor_values({KEY}).get(KEY)
    return json.loads(raw) if raw else []


def _save(instance: DagsterInstance, alerts: list[dict]) -> None:
    instance.run_storage.set_cursor_values({KEY: json.dumps(alerts)})


def send_or_keep(instance: DagsterInstance, notifier, alert: Alert,
                 log: logging.Logger | None = None) -> bool:
    """Send ``alert``; if the channel fails, keep it for the sensor's next tick."""
    if notifier.notify_safely(alert, log):
        return True
    _save(instance, _load(instance) + [alert.to_dict()])
    return False


def waiting(instance: DagsterInstance) -> list[Alert]:
    return [Alert.from_dict(a) for a in _load(instance)]


def flush(instance: DagsterInstance, notifier, log: logging.Logger | None = None) -> int:
    """Send the waiting alerts in order; stop at the first failure. Returns how many were sent."""
    sent = 0
    for alert in waiting(instance):
        if not notifier.notify_safely(alert, log):
            break
        sent += 1
        _save(instance, _load(instance)[1:])
    return sent
