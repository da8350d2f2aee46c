"""Alerts as data: what happened, the facts behind it and what was done, rendered per channel."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Alert:
    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)  # (label, value) lines
    action: str = ""
    link: str = ""
    kind: str = "drift"

    def text(self) -> str:
        """Plain text, for logs, the outbox and Slack's fallback text."""
        lines = [self.title] + [f"- {label}: {value}" for label, value in self.facts]
        if self.action:
            lines.append(f"Action: {self.action}")
        if self.link:
            lines.append(f"Report: {self.link}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return asdict(self)
