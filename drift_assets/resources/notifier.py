"""Notifications: one interface, logged locally by default and posted to Slack in production."""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from pathlib import Path

from dagster import ConfigurableResource

from drift_assets.lib.alerts import Alert

log = logging.getLogger("drift_assets.notifier")


class Notifier(ConfigurableResource, ABC):
    """Sends an :class:`Alert` to the people who watch the model."""

    @abstractmethod
    def notify(self, alert: Alert) -> None: ...

    def notify_safely(self, alert: Alert, logger: logging.Logger | None = None) -> bool:
        """Send, logging a failure instead of raising it: a failing channel must not fail work
        already done (a stored model, a sensor tick). Returns whether it was sent."""
        try:
            self.notify(alert)
            return True
        except Exception as exc:  # noqa: BLE001 - every channel failure is handled the same way
            (logger or log).error(f"notification failed ({type(exc).__name__}): {exc}")
            return False


class LogNotifier(Notifier):
    """Logs each alert and appends it to a JSON-lines outbox: the embedded default."""

    outbox: str

    def notify(self, alert: Alert) -> None:
        log.warning("%s", alert.text())
        path = Path(self.outbox)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(alert.to_dict(), default=str) + "\n")
