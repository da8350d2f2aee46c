"""Alerts as data: what happened, the facts behind it and what was done, rendered per channel."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class DriftFact:
    """One month that drifted, as an alert states it."""

    month: str
    share: float
    threshold: float
    causes: list[str]  # "hum (calibrated ks_d 0.645, threshold 0.323)", "relation … broken"

    def text(self) -> str:
        # Calibrated thresholds alert on one drifted column or a broken relation, below the
        # share: then the share is given without the comparison that did not decide.
        versus = f" >= {self.threshold:.2f}" if self.share >= self.threshold else ""
        return f"{self.month}: share {self.share:.2f}{versus}; {', '.join(self.causes)}"


@dataclass(frozen=True)
class Alert:
    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)  # (label, value) lines
    action: str = ""
    link: str = ""
    kind: str = "drift"
    drift: list[DriftFact] = field(default_factory=list)  # the drifted months, if any
    key: str = ""  # the cause it is sent once for (lib.outbox), set when it is put there

    def text(self) -> str:
        """Plain text, for logs, the outbox and Slack's fallback text."""
        lines = [self.title] + [f"- drift: {d.text()}" for d in self.drift]
        lines += [f"- {label}: {value}" for label, value in self.facts]
        if self.action:
            lines.append(f"Action: {self.action}")
        if self.link:
            lines.append(f"Report: {self.link}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Alert:
        return cls(**{**data, "facts": [tuple(f) for f in data.get("facts", [])],
                      "drift": [DriftFact(**d) for d in data.get("drift", [])]})
