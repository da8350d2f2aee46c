"""Decisions of the model lifecycle: the promotion gate, error thresholds, the drift trigger, and
the rollback both the monthly check and ``drift-assets models rollback`` perform."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drift_assets.lib.registry import ModelFiles, ModelRecord, ModelRegistry, load_model


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    reason: str


def promotion_gate(candidate: float, production: float | None, tolerance: float = 0.0,
                   metric: str = "rmsle") -> GateDecision:
    """A candidate replaces production only if its ``metric`` on the same holdout is no worse
    than production's, allowing ``tolerance`` (relative: 0.02 accepts up to 2% worse), in the
    metric's own direction (an error lower, a score such as roc_auc higher)."""
    from drift_assets.lib.modelling import no_worse

    name = metric.upper() if metric in ("rmsle", "rmse", "mae") else metric
    if production is None:
        return GateDecision(True, f"first model (holdout {name} {candidate:.4f})")
    if no_worse(candidate, production, metric, tolerance):
        return GateDecision(True, f"holdout {name} {candidate:.4f} is no worse than "
                                  f"production's {production:.4f} (tolerance {tolerance:.0%})")
    return GateDecision(False, f"holdout {name} {candidate:.4f} is worse than production's "
                               f"{production:.4f} on the same holdout "
                               f"(tolerance {tolerance:.0%}): kept as candidate")


def error_threshold(history: list[float], fixed: float | None = None, n_std: float = 3.0,
                    min_history: int = 3, greater_is_better: bool = False) -> float | None:
    """The value past which a month counts as degraded: a fixed bound when given, else the mean
    plus (an error) or minus (a score) ``n_std`` standard deviations of the earlier months
    (None until there are enough)."""
    if fixed is not None:
        return fixed
    if len(history) < min_history:
        return None
    values = np.asarray(history, dtype=float)
    spread = n_std * values.std(ddof=1)
    return float(values.mean() - spread if greater_is_better else values.mean() + spread)


def degraded(value: float, threshold: float | None, metric: str) -> bool:
    """Whether a month's ``metric`` is past its threshold, in the metric's direction."""
    from drift_assets.lib.modelling import METRIC_REGISTRY

    if threshold is None:
        return False
    return value < threshold if METRIC_REGISTRY[metric].greater_is_better else value > threshold


def roll_back(registry: ModelRegistry, store: ModelFiles, target: ModelRecord, detail: str
              ) -> ModelRecord | None:
    """Make ``target`` production again, and return the version it replaces (None if none).

    The target's file is loaded first and must match the registry's SHA-256: a file that does
    not is refused (the store's ValueError, or OSError when it cannot be read) before anything
    changes. Then the current production version gets a ``rolled_back`` event and the target is
    promoted with a ``rolled_back_to`` event, both with ``detail``. Telling people is the
    caller's part."""
    load_model(target, store)
    current = registry.production()
    if current is not None:
        registry.record_event(current.version, "rolled_back", detail)
    registry.promote(target.version, event="rolled_back_to", detail=detail)
    return current


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
