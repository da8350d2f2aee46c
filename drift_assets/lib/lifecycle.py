"""Decisions of the model lifecycle: the promotion gate, error thresholds and the drift trigger."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    reason: str


def promotion_gate(
    candidate_rmsle: float, production_rmsle: float | None, tolerance: float = 0.0
) -> GateDecision:
    """A candidate replaces production only if its RMSLE on the same holdout is no worse than
    production's, allowing ``tolerance`` (relative: 0.02 accepts up to 2% worse)."""
    if production_rmsle is None:
        return GateDecision(True, f"first model (holdout RMSLE {candidate_rmsle:.4f})")
    bound = production_rmsle * (1 + tolerance)
    if candidate_rmsle <= bound:
        return GateDecision(True, f"holdout RMSLE {candidate_rmsle:.4f} <= production's "
                                  f"{production_rmsle:.4f} (tolerance {tolerance:.0%})")
    return GateDecision(False, f"holdout RMSLE {candidate_rmsle:.4f} is worse than production's "
                               f"{production_rmsle:.4f} on the same holdout "
                               f"(tolerance {tolerance:.0%}): kept as candidate")


def error_threshold(
    history: list[float], fixed: float | None = None, n_std: float = 3.0, min_history: int = 3
) -> float | None:
    """The RMSLE above which a month counts as degraded: a fixed bound when given, else the mean
    plus ``n_std`` standard deviations of the earlier months (None until there are enough)."""
    if fixed is not None:
        return fixed
    if len(history) < min_history:
        return None
    values = np.asarray(history, dtype=float)
    return float(values.mean() + n_std * values.std(ddof=1))


def crossings(shares: dict[str, float], threshold: float, rearm_below: float | None = None
              ) -> list[str]:
    """Months where the drift share crosses up to ``threshold`` (hysteresis).

    In month order, the trigger fires at a month whose share reaches the threshold while it is
    armed, then stays quiet while the share stays up; it re-arms when a month's share falls
    below ``rearm_below`` (default: the threshold itself).
    """
    rearm = threshold if rearm_below is None else rearm_below
    armed, fired = True, []
    for month in sorted(shares):
        share = shares[month]
        if armed and share >= threshold:
            fired.append(month)
            armed = False
        elif not armed and share < rearm:
            armed = True
    return fired
