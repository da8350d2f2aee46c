"""Charts people look at: drift share per month against the trigger, each column's score
against its threshold, missing shares, and the model's metric per month with its normal band.

Each chart is a small PNG file (the summary page shows them); :func:`markdown_image` puts one
inline in a Markdown metadata value, so the Dagster UI shows it without a file server.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers
import matplotlib.pyplot as plt  # noqa: E402

from drift_assets.lib.files import write_whole  # noqa: E402
from drift_assets.lib.lifecycle import error_threshold  # noqa: E402


def save_figure(fig, path: str | Path, laid_out: bool = False) -> str:
    """Write ``fig`` as a small PNG, whole (see :func:`write_whole`), and close it; returns
    the path. ``laid_out``: the caller has laid the figure out itself (a legend below it)."""
    if not laid_out:
        fig.tight_layout()
    image = io.BytesIO()
    fig.savefig(image, format="png", dpi=80)  # small: inlined in metadata, kept in run storage
    plt.close(fig)
    return write_whole(path, image.getvalue())


def drift_chart(shares: dict[str, float], threshold: float, fired: list[str],
                path: str | Path, drifted: list[str] | None = None) -> str:
    """Drift share per month, the threshold, the months whose verdict was drift (with
    calibrated thresholds one column can be drift below the share) and the months where
    drift began, which raised the alerts."""
    months = sorted(shares)
    fig, ax = plt.subplots(figsize=(10, 3.5))
    ax.plot(months, [shares[m] for m in months], marker="o", label="drift share")
    ax.axhline(threshold, color="crimson", linestyle="--", label=f"threshold {threshold:.2f}")
    if drifted:
        ax.scatter(drifted, [shares[m] for m in drifted], color="crimson", zorder=3,
                   label="verdict: drift")
    if fired:
        ax.scatter(fired, [shares[m] for m in fired], s=160, facecolors="none",
                   edgecolors="crimson", linewidths=2, label="drift began: alert", zorder=3)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of drifted features")
    ax.set_title("Data drift per month against its reference window")
    ax.tick_params(axis="x", rotation=60)
    ax.legend(loc="upper left", fontsize=8)
    return save_figure(fig, path)


def markdown_image(path: str | Path, alt: str) -> str:
    """The PNG at ``path`` as a Markdown image with the bytes inline (a data URI)."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f"![{alt}](data:image/png;base64,{data})"


def column_scores_chart(series: dict[str, list[tuple[str, float, float, bool, bool]]],
                        path: str | Path) -> str:
    """One panel per column: its score per month (month, score, threshold, drifted, p-value)
    and its threshold, drifted months in red; a p-value on a log scale, as it drifts low."""
    columns = list(series)
    fig, axes = plt.subplots(len(columns), 1, figsize=(10, 1.7 * max(len(columns), 1)),
                             sharex=True, squeeze=False)
    for ax, column in zip(axes[:, 0], columns, strict=True):
        points = series[column]
        months = [p[0] for p in points]
        ax.plot(months, [p[1] for p in points], marker="o", markersize=3, label="score")
        ax.step(months, [p[2] for p in points], where="mid", color="crimson",
                linestyle="--", label="threshold")
        drifted = [p for p in points if p[3]]
        if drifted:
            ax.scatter([p[0] for p in drifted], [p[1] for p in drifted], color="crimson",
                       zorder=3, label="drifted")
        p_value = bool(points) and points[-1][4]
        if p_value and all(p[1] > 0 for p in points):
            ax.set_yscale("log")
        ax.set_ylabel(column, rotation=0, ha="right")
        ax.set_title(f"{column}: drifts when {'below' if p_value else 'above'} the threshold",
                     fontsize=9, loc="left")
    axes[-1, 0].tick_params(axis="x", rotation=60)
    axes[0, 0].legend(loc="upper right", fontsize=8)
    return save_figure(fig, path)


def missing_chart(shares: dict[str, dict[str, float]], limit: float, path: str | Path) -> str:
    """Missing share per column (column -> month -> share) over the months, with the limit."""
    fig, ax = plt.subplots(figsize=(10, 3))
    months = sorted({m for by_month in shares.values() for m in by_month})
    for column, by_month in shares.items():
        ax.plot(months, [by_month.get(m, float("nan")) for m in months], marker=".",
                label=column)
    ax.axhline(limit, color="crimson", linestyle="--", label=f"limit {limit:.0%}")
    ax.set_ylim(0, max([limit * 1.5] + [v for b in shares.values() for v in b.values()
                                        if v == v]) * 1.05)
    ax.set_ylabel("missing share")
    ax.set_title("Missing values per column")
    ax.tick_params(axis="x", rotation=60)
    ax.legend(loc="upper left", fontsize=8, ncol=4)
    return save_figure(fig, path)


def _normal_band(scores: list[float], n_std: float) -> tuple[float, float] | None:
    """The band the next month is judged by: the bounds ``model_performance`` learns, for a
    score below and for an error above (None until there are enough months)."""
    low = error_threshold(scores, None, n_std, greater_is_better=True)
    high = error_threshold(scores, None, n_std, greater_is_better=False)
    return None if low is None or high is None else (low, high)


def error_chart(rows: list[dict], threshold: float | None, path: str | Path,
                metric: str = "rmsle", n_std: float | None = None) -> str:
    """The production model's ``metric`` per month (realized; estimated where given),
    coloured by the production version that made the predictions; with ``n_std``, the normal
    band each month was judged by (the earlier months' mean plus or minus ``n_std`` standard
    deviations), shaded."""
    rows = sorted(rows, key=lambda r: r["month"])
    realized = [r for r in rows if r.get("score") is not None and r["score"] == r["score"]]
    fig, ax = plt.subplots(figsize=(10, 3.5))
    # every month on the axis first, in order: the band starts later than the months
    ax.plot([r["month"] for r in rows], [float("nan")] * len(rows))
    if n_std is not None:
        bands = [(r["month"], _normal_band([e["score"] for e in realized
                                            if e["month"] < r["month"]], n_std))
                 for r in rows]
        bands = [(m, b) for m, b in bands if b is not None]
        if bands:
            ax.fill_between([m for m, _ in bands], [b[0] for _, b in bands],
                            [b[1] for _, b in bands], color="grey", alpha=0.15, step="mid",
                            label=f"normal band (mean ± {n_std:g} std of earlier months)")
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
    return save_figure(fig, path)
