"""Charts people look at: drift share per month against the trigger, model error per month."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers
import matplotlib.pyplot as plt  # noqa: E402


def _save(fig, path: str | Path) -> str:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return str(path.resolve())


def drift_chart(shares: dict[str, float], threshold: float, fired: list[str],
                path: str | Path) -> str:
    """Drift share per month, the threshold, and the months where the trigger fired."""
    months = sorted(shares)
    fig, ax = plt.subplots(figsize=(10, 3.5))
    ax.plot(months, [shares[m] for m in months], marker="o", label="drift share")
    ax.axhline(threshold, color="crimson", linestyle="--", label=f"threshold {threshold:.2f}")
    if fired:
        ax.scatter(fired, [shares[m] for m in fired], s=160, facecolors="none",
                   edgecolors="crimson", linewidths=2, label="trigger fired", zorder=3)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of drifted features")
    ax.set_title("Data drift per month against the reference")
    ax.tick_params(axis="x", rotation=60)
    ax.legend(loc="upper left")
    return _save(fig, path)


def error_chart(rows: list[dict], threshold: float | None, path: str | Path,
                metric: str = "rmsle") -> str:
    """The production model's ``metric`` per month (realized; estimated where given),
    coloured by the production version that made the predictions."""
    rows = sorted(rows, key=lambda r: r["month"])
    realized = [r for r in rows if r.get("score") is not None and r["score"] == r["score"]]
    fig, ax = plt.subplots(figsize=(10, 3.5))
    ax.plot([r["month"] for r in realized], [r["score"] for r in realized], color="grey",
            linewidth=1, zorder=1)
    for version in sorted({r["version"] for r in realized}):
        mine = [r for r in realized if r["version"] == version]
        ax.scatter([r["month"] for r in mine], [r["score"] for r in mine], zorder=2,
                   label=f"production v{version}")
    estimated = [r for r in rows if r.get("estimated") is not None
                 and r["estimated"] == r["estimated"]]  # not NaN
    if estimated:
        ax.plot([r["month"] for r in estimated], [r["estimated"] for r in estimated],
                linestyle=":", marker="x", color="black", label="estimated before labels")
    if threshold is not None:
        ax.axhline(threshold, color="crimson", linestyle="--", label=f"threshold {threshold:.3f}")
    name = metric.upper() if metric in ("rmsle", "rmse", "mae") else metric
    ax.set_ylabel(name)
    ax.set_title(f"Model {name} per month")
    ax.tick_params(axis="x", rotation=60)
    ax.legend(loc="upper left")
    return _save(fig, path)
