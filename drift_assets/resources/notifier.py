"""Notifications: one interface, logged locally by default and posted to Slack in production."""

from __future__ import annotations

import json
import logging
import os
from abc import ABC, abstractmethod
from pathlib import Path

from dagster import ConfigurableResource
from dagster_slack import SlackResource
from pydantic import Field
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from drift_assets.lib.messages import Alert, DriftFact

log = logging.getLogger("drift_assets.notifier")


class Notifier(ConfigurableResource, ABC):
    """Sends an :class:`Alert` to the people who watch the model."""

    @abstractmethod
    def notify(self, alert: Alert) -> None: ...

    def was_sent(self, key: str) -> bool:
        """Whether an alert with ``key`` already reached the channel (asked only when a sender
        died between sending and recording it); False when the channel cannot tell."""
        return False

    def to_channel(self, channel: str | None) -> Notifier:
        """This notifier, posting to ``channel`` instead of its own where it posts to channels
        (a dataset's ``notify.slack_channel``); itself otherwise."""
        return self

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
            out.flush()
            os.fsync(out.fileno())

    def was_sent(self, key: str) -> bool:
        path = Path(self.outbox)
        if not key or not path.exists():
            return False
        with path.open(encoding="utf-8") as lines:
            return any(json.loads(line).get("key") == key for line in lines if line.strip())


class NotificationError(RuntimeError):
    """A channel refused or failed to take a message."""


_ICONS = {"drift": ":warning:", "model": ":arrows_counterclockwise:", "rollback": ":rewind:"}


def _cut(text: str, limit: int) -> str:
    """Slack refuses a block whose text is longer than its limit: shorten, saying so."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, 3000)}}


def _drift_blocks(fact: DriftFact) -> list[dict]:
    """A drifted month: the month, its share against the threshold, each cause on a line."""
    return [
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*Month*\n{fact.month}"},
            {"type": "mrkdwn",
             "text": f"*Drift share*\n{fact.share:.2f} (threshold {fact.threshold:.2f})"},
        ]},
        _section("*Drift causes*\n" + "\n".join(f"• {c}" for c in fact.causes)),
    ]


def slack_blocks(alert: Alert) -> list[dict]:
    """The alert as Block Kit blocks: title, each drifted month (share against threshold, and
    its causes with their scores), the other facts, what was done, and where the report is."""
    icon = _ICONS.get(alert.kind, ":bell:")
    blocks: list[dict] = [{"type": "header", "text": {
        "type": "plain_text", "text": _cut(f"{icon} {alert.title}", 150), "emoji": True}}]
    for fact in alert.drift:
        blocks.extend(_drift_blocks(fact))
    blocks.extend(_section(f"*{label}*: {value}") for label, value in alert.facts)
    if alert.action:
        blocks.append(_section(f"*Action*\n{alert.action}"))
    if alert.link:
        link = (f"<{alert.link}|Open the report>" if alert.link.startswith(("http://", "https://"))
                else f"`{alert.link}`")
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": _cut(f"Report: {link}", 3000)}]})
    if len(blocks) > 50:  # Slack's limit per message; the text fallback keeps everything
        blocks = blocks[:49] + [_section(f"… and {len(blocks) - 49} more block(s)")]
    return blocks


EVENT_TYPE = "drift_assets_alert"
HISTORY_LIMIT = 100  # recent messages looked through for a key


class SlackNotifier(Notifier):
    """Posts each alert to a Slack channel through dagster-slack's resource: the production choice.

    The message is Block Kit blocks with the plain text as the fallback (notifications, search).
    A refused or failed post raises :class:`NotificationError`; callers use ``notify_safely``.
    The Slack resource is composed, not nested, so that sensors and scripts can use this notifier
    without opening a resource context."""

    token: str = Field(description="bot token (xoxb-…), given as EnvVar('SLACK_BOT_TOKEN')")
    channel: str = Field(description="channel name or id, e.g. #model-alerts")
    base_url: str | None = Field(
        default=None, description="another Web API base than https://slack.com/api/ (a proxy)"
    )

    def client(self) -> WebClient:
        if not self.base_url:
            return SlackResource(token=self.token).get_client()
        return WebClient(token=self.token, base_url=self.base_url.rstrip("/") + "/")

    def to_channel(self, channel: str | None) -> Notifier:
        if not channel or channel == self.channel:
            return self
        return SlackNotifier(token=self.token, channel=channel, base_url=self.base_url)

    def notify(self, alert: Alert) -> None:
        # The key travels as message metadata, so that was_sent can find it again.
        metadata = {"event_type": EVENT_TYPE, "event_payload": {"key": alert.key}} \
            if alert.key else None
        try:
            self.client().chat_postMessage(
                channel=self.channel, text=alert.text(), blocks=slack_blocks(alert),
                metadata=metadata,
            )
        except SlackApiError as exc:
            status = getattr(exc.response, "status_code", "?")
            error = exc.response.get("error") if exc.response is not None else exc
            raise NotificationError(
                f"Slack chat.postMessage to {self.channel} failed (HTTP {status}): {error}"
            ) from exc
        except OSError as exc:  # unreachable, refused, timed out
            raise NotificationError(
                f"Slack chat.postMessage to {self.channel} failed: {type(exc).__name__}: {exc}"
            ) from exc

    def was_sent(self, key: str) -> bool:
        """Looks for ``key`` in the metadata of the channel's recent messages
        (conversations.history, which needs the channels:history scope); False when Slack
        cannot be asked, so the alert is sent again rather than lost."""
        try:
            answer = self.client().conversations_history(
                channel=self.channel, limit=HISTORY_LIMIT, include_all_metadata=True)
        except (SlackApiError, OSError) as exc:
            log.warning(f"could not ask Slack whether alert {key} arrived "
                        f"({type(exc).__name__}); sending it again")
            return False
        return any((m.get("metadata") or {}).get("event_payload", {}).get("key") == key
                   for m in answer.get("messages", []))
