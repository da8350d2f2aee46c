"""A dataset's reports folder: where each page and chart lives, its link, and writing them.

    <reports>/<dataset>/index.html              the months at a glance (summary_page)
    <reports>/<dataset>/<YYYY-MM>.html          the month's verdict and Evidently's report
    <reports>/<dataset>/evidently/<YYYY-MM>.html  Evidently's report alone (js/ shared)
    <reports>/<dataset>/*.png                   the charts

A link is the folder's URL (``DRIFT_REPORTS_URL``, where the folder is served) followed by the
file's place in it, or the file's path when no URL is set. Nothing here is read back by the
pipeline: the pages are rendered from the month history, which stays the record.
"""

from __future__ import annotations

from pathlib import Path

from drift_assets.lib import charts, pages
from drift_assets.lib.files import write_whole
from drift_assets.lib.history import DriftRecord, MonthHistory
from drift_assets.lib.lifecycle import crossings


class ReportsFolder:
    """The reports of one dataset, at ``folder``, served at ``url`` (empty: not served)."""

    def __init__(self, folder: str | Path, url: str = ""):
        self.folder = Path(folder)
        self.url = url.rstrip("/")

    def month_page(self, month: str) -> Path:
        return self.folder / f"{month}.html"

    def evidently_page(self, month: str) -> Path:
        return self.folder / "evidently" / f"{month}.html"

    @property
    def summary_page(self) -> Path:
        return self.folder / "index.html"

    def chart(self, name: str) -> Path:
        return self.folder / f"{name}.png"

    def link(self, path: Path) -> str:
        """The address a person opens: under the URL when the folder is served."""
        if not self.url:
            return str(path.resolve())
        return f"{self.url}/{path.relative_to(self.folder).as_posix()}"

    def publish(self, dataset: str, history: MonthHistory, drift_share: float,
                max_missing_share: float, record: DriftRecord | None = None,
                sampled: bool = False, model: dict | None = None) -> str:
        """The page of every month: the drift share chart, the per-column and missing-share
        charts, the model's chart when ``model`` (its rows, metric, threshold and n_std) is
        given, under the month-by-column grid; and ``record``'s own page (the month just
        judged, with its quality record; ``sampled``: its Evidently report is from a sample).
        The history is read once for both. Returns the link of the page of every month."""
        records = history.drift_records()
        qualities = history.quality_records()
        if record is not None:
            write_whole(self.month_page(record.month), pages.month_page(
                dataset, record, qualities.get(record.month),
                evidently_href=f"evidently/{record.month}.html", summary_href="index.html",
                chart_href="drift_share.png", sampled=sampled))
        shares = {m: r.share for m, r in records.items()}
        # where drift began, by the months' verdicts (a calibrated month can drift below the
        # share): the months the sensor alerts on, as it re-arms after a month without drift
        fired = crossings({m: float(r.drift) for m, r in records.items()}, 0.5)
        shown = {}
        if records:
            charts.drift_chart(shares, drift_share, fired, self.chart("drift_share"),
                               drifted=[m for m, r in records.items() if r.drift])
            shown["Drift share per month"] = "drift_share.png"
            charts.column_scores_chart(_column_series(records), self.chart("column_scores"))
            shown["Each column's score against its threshold"] = "column_scores.png"
        watched = {c.column for r in records.values() for c in r.columns}
        missing: dict[str, dict[str, float]] = {}
        for month, quality in qualities.items():
            for column in quality.columns:
                if column.column in watched or not watched:
                    missing.setdefault(column.column, {})[month] = column.missing_share
        if missing:
            charts.missing_chart(missing, max_missing_share, self.chart("missing_share"))
            shown["Missing values per column"] = "missing_share.png"
        if model is not None and model["rows"]:
            charts.error_chart(model["rows"], model["threshold"], self.chart("model_error"),
                               model["metric"], n_std=model["n_std"])
        if self.chart("model_error").exists():  # model_performance keeps it up to date
            shown["The model's metric per month, estimated and realized"] = "model_error.png"
        write_whole(self.summary_page, pages.summary_page(
            dataset, records, alerted=fired, month_href=lambda m: f"{m}.html", charts=shown))
        return self.link(self.summary_page)


def _column_series(records: dict[str, DriftRecord]) -> dict[str, list]:
    """Column -> (month, score, threshold, drifted, p-value) over the months."""
    series: dict[str, list] = {}
    for month in sorted(records):
        for c in records[month].columns:
            series.setdefault(c.column, []).append(
                (month, c.score, c.threshold, c.drifted, c.p_value))
    return series
