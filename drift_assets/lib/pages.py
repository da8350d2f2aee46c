"""The pages a person opens from the UI: a month's verdict, and a dataset's months at a glance.

Static HTML written beside the charts in the dataset's reports folder and served as they are
(``drift-assets reports`` on one machine, any static file server or bucket in production), so
that a link in the UI or in an alert opens them in one click. The month's page leads with what
the pipeline decided and why (its reference window, its thresholds, each column's score); the
Evidently report of the month follows, marked as Evidently's own view, since with calibrated
thresholds or a seasonal window the two can disagree and the pipeline's verdict is the one
that acts.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from drift_assets.lib.history import DriftRecord, QualityRecord
from drift_assets.lib.numbers import text

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em 2em; color: #1d2330; max-width: 1200px }
h1 { font-size: 1.5em } h2 { font-size: 1.15em; margin-top: 1.6em }
table { border-collapse: collapse; font-size: 0.9em }
th, td { border: 1px solid #d4d8e0; padding: 0.25em 0.6em; text-align: right }
th { background: #f1f3f7 } td.name, th.name { text-align: left }
.drift { color: #b3261e; font-weight: 600 } .ok { color: #1b6e3a; font-weight: 600 }
td.drifted { background: #f8d7d4 } td.near { background: #fdf0d5 } td.calm { background: #e3f1e7 }
.note { color: #5b6475; font-size: 0.9em } img { max-width: 100% }
iframe { width: 100%; height: 1500px; border: 1px solid #d4d8e0 }
"""


def _e(value) -> str:
    return html.escape(str(value))


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}"
            f"</title><style>{STYLE}</style></head><body>{body}</body></html>\n")


def _verdict(record: DriftRecord) -> str:
    word = "DRIFT" if record.drift else "no drift"
    return f"<span class='{'drift' if record.drift else 'ok'}'>{word}</span>"


def _why(record: DriftRecord) -> str:
    share = (f"{len(record.drifted)} of {len(record.columns)} columns drifted (share "
             f"{record.share:.2f}, the month drifts at {record.share_threshold:.2f})")
    if record.thresholds == "calibrated":
        rule = ("calibrated: each column's effect size (the K-S statistic D; Cohen's h per "
                "category) against a threshold learned from resamples of the reference and "
                "from earlier alike months")
        if record.against_own_window:
            share += "; against its declared window one drifted column, or a broken " \
                "relation between columns, is drift"
    else:
        rule = ("Evidently's DataDriftPreset tests and thresholds (K-S, chi-squared or Z "
                "p-values below 0.05 for small references; Wasserstein or Jensen-Shannon "
                "distances above 0.1 for large ones)")
    return (f"<p><b>Compared with</b> {_e(record.describe_window())} "
            f"({record.reference_rows or 0:,} reference rows, {record.current_rows or 0:,} "
            f"rows this month).<br><b>Thresholds</b>: {_e(rule)}.<br><b>Verdict</b>: "
            f"{_e(share)}.</p>")


def _columns_table(record: DriftRecord) -> str:
    rows = []
    for c in record.columns:
        name = f"{c.column}={c.category}" if c.category else c.column
        rows.append(
            f"<tr><td class='name'>{_e(name)}</td><td class='name'>{_e(c.method)}</td>"
            f"<td>{text(c.score, c.p_value)}</td><td>{text(c.threshold)}</td>"
            f"<td class='name'>{'below' if c.p_value else 'above'}</td>"
            f"<td class='{'drifted' if c.drifted else 'calm'}'>"
            f"{'drifted' if c.drifted else 'no'}</td>"
            f"<td class='name'>{_e(c.moved_with or '')}</td><td>{text(c.psi)}</td>"
            f"<td>{text(c.ks_statistic)}</td></tr>")
    return ("<table><tr><th class='name'>column</th><th class='name'>method</th><th>score</th>"
            "<th>threshold</th><th class='name'>drifts when the score is</th><th>drifted</th>"
            "<th class='name'>moved with its twin</th><th>PSI</th><th>K-S statistic</th></tr>"
            + "".join(rows) + "</table>")


def _quality(quality: QualityRecord | None) -> str:
    if quality is None:
        return "<p class='note'>No quality record for this month.</p>"
    head = ("<span class='ok'>passed</span>" if quality.passed else
            "<span class='drift'>failed a blocking check</span>")
    items = "".join(f"<li>{_e(f.severity)} {_e(f.rule)}: {_e(f.message)}</li>"
                    for f in quality.findings)
    return f"<p>Quality: {head}</p>" + (f"<ul>{items}</ul>" if items else "")


def month_page(dataset: str, record: DriftRecord, quality: QualityRecord | None,
               evidently_href: str, summary_href: str, chart_href: str,
               sampled: bool) -> str:
    """The month's page: the pipeline's verdict and why, the month's quality, the drift share
    over the months, then Evidently's report of the same window, marked as its own view."""
    relations = ""
    if record.relations is not None:
        r = record.relations
        relations = (f"<p><b>Relations between columns</b>: largest shift {text(r.error)} "
                     f"residual std (threshold {text(r.threshold)}): "
                     f"{_e(r.describe()) if r.broken else 'held'}.</p>")
    skipped = "".join(f"<li>{_e(k)}: {_e(v)}</li>" for k, v in record.skipped.items())
    causes = "; ".join(record.cause_details)
    sample = (" It renders from a sample of each side, as the month is large; the verdict "
              "above used every row.") if sampled else ""
    body = (
        f"<h1>{_e(dataset)} · {_e(record.month)}: {_verdict(record)}</h1>"
        f"<p><a href='{_e(summary_href)}'>All months of {_e(dataset)}</a></p>"
        "<h2>The pipeline's verdict (what the sensor acts on)</h2>" + _why(record)
        + (f"<p><b>Causes</b>: {_e(causes)}</p>" if causes else "")
        + _columns_table(record) + relations
        + (f"<p><b>Not tested</b>:</p><ul>{skipped}</ul>" if skipped else "")
        + "<h2>Quality of the month</h2>" + _quality(quality)
        + f"<h2>Drift share month by month</h2><img src='{_e(chart_href)}' "
          "alt='drift share per month'>"
        + "<h2>Evidently's view</h2><p class='note'>Evidently's own DataDriftPreset report of "
          "the same reference window and month, with Evidently's default tests and "
          "thresholds. Where its verdict differs from the pipeline's (calibrated thresholds, "
          f"a relation between columns), the pipeline's above is the one acted on.{sample} "
          f"<a href='{_e(evidently_href)}'>Open it on its own page</a>.</p>"
          f"<iframe src='{_e(evidently_href)}' title=\"Evidently's report\"></iframe>"
    )
    return _page(f"{dataset} {record.month}: {'drift' if record.drift else 'no drift'}", body)


def _cell(column: str, record: DriftRecord) -> str:
    verdict = next((c for c in record.columns if c.column == column), None)
    if verdict is None:
        return "<td>-</td>"
    # how near the threshold: a p-value drifts below it, a distance or effect above it
    if verdict.p_value:
        near = verdict.score <= verdict.threshold * 4
    else:
        near = verdict.score >= verdict.threshold * 0.75
    css = "drifted" if verdict.drifted else ("near" if near else "calm")
    title = _e(verdict.describe())
    return (f"<td class='{css}' title='{title}'>{text(verdict.score, verdict.p_value)}<br>"
            f"<span class='note'>/ {text(verdict.threshold)}</span></td>")


def summary_page(dataset: str, records: dict[str, DriftRecord], alerted: Iterable[str],
                 month_href, charts: dict[str, str]) -> str:
    """A dataset's months at a glance: a month-by-column grid of score against threshold
    (drifted cells red, near ones amber; the months that raised an alert marked), each month
    linked to its page; then the charts (``title -> href``)."""
    alerted = set(alerted)
    columns: list[str] = []
    for record in records.values():
        columns += [c.column for c in record.columns if c.column not in columns]
    rows = []
    for month in sorted(records, reverse=True):
        record = records[month]
        mark = " &#9888; alert" if month in alerted else ""
        rows.append(
            f"<tr><td class='name'><a href='{_e(month_href(month))}'>{_e(month)}</a>{mark}</td>"
            f"<td class='name'>{_verdict(record)} {record.share:.2f}</td>"
            f"<td class='name'>{_e(record.describe_window())}</td>"
            + "".join(_cell(c, record) for c in columns) + "</tr>")
    header = "".join(f"<th>{_e(c)}</th>" for c in columns)
    images = "".join(f"<h2>{_e(title)}</h2><img src='{_e(href)}' alt='{_e(title)}'>"
                     for title, href in charts.items())
    body = (
        f"<h1>{_e(dataset)}: drift and quality month by month</h1>"
        "<p class='note'>Each cell: the column's score / its threshold in the pipeline's "
        "verdict (a p-value drifts below its threshold, a distance or an effect size above "
        "it). Red: drifted; amber: near its threshold; &#9888;: the month raised an alert. "
        "Hover a cell for its test; click a month for its page and Evidently's report.</p>"
        "<table><tr><th class='name'>month</th><th class='name'>verdict, share</th>"
        f"<th class='name'>compared with</th>{header}</tr>" + "".join(rows) + "</table>"
        + images)
    return _page(f"{dataset}: drift and quality", body)
