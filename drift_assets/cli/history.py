"""``drift-assets history``: one row per month from the month history and the model registry:
what each month was compared with, what was found, and what was sent."""

from __future__ import annotations

import json

from drift_assets.cli.detect import emit
from drift_assets.cli.instance import open_instance

# What was sent for a month: its text in full (--json) and in the table.
ALERTS = {
    "quality": ("quality alert; drift and model alerts suppressed", "quality alert"),
    "drift": ("drift alert, retrain run {run}", "drift alert {run}"),
    "continuing": ("none (drift continues, already alerted)", "none (alerted before)"),
    "none": ("none", "none"),
}
TABLE_WIDTH = 120  # the text table fits a terminal this wide
GAP = "  "
MIN_CELL = 8  # a column shrunk to fit keeps at least this many characters (or its header's)


def _alerts_sent(instance, training_job: str) -> dict[str, str]:
    """Month -> the id of the retrain run its drift alert went with (the run sends it)."""
    from dagster import DagsterRunStatus, RunsFilter

    sent: dict[str, str] = {}
    for run in instance.get_runs(RunsFilter(job_name=training_job,
                                            statuses=[DagsterRunStatus.SUCCESS])):
        for month in run.tags.get("drift_assets/drift_months", "").split(","):
            if month:
                sent.setdefault(month, run.run_id)
    return sent


def history_rows(history, registry, instance, training_job: str) -> list[dict]:
    """One row per month: the reference window, the verdict with each cause, the failed quality
    checks with their columns, the model's estimated and realized error, and the alerts
    (``alert``: quality, drift, continuing or none; ``alert_run``: the retrain run of a drift
    alert; ``alerts``: the same in words)."""
    drift, quality = history.drift_records(), history.quality_records()
    performance = registry.performance().set_index("month").to_dict("index")
    sent = _alerts_sent(instance, training_job)
    rows = []
    for month in sorted(set(drift) | set(quality)):
        record, checks, error = drift.get(month), quality.get(month), performance.get(month, {})
        if checks is not None and not checks.passed:
            alert = "quality"
        elif month in sent:
            alert = "drift"
        elif record is not None and record.drift:
            alert = "continuing"
        else:
            alert = "none"
        run = sent.get(month) if alert == "drift" else None
        relations = record.relations if record is not None else None
        rows.append({
            "month": month,
            "reference": record.describe_window() if record else None,
            "drift_share": record.share if record else None,
            "drift": record.drift if record else None,
            "drifted": [{"column": c.column, "category": c.category, "method": c.method,
                         "score": c.score, "threshold": c.threshold}
                        for c in record.drifted] if record else [],
            "broken_relations": relations.columns if relations and relations.broken else [],
            "quality_failed": [{"check": f.rule, "column": f.column, "message": f.message}
                               for f in checks.errors] if checks else [],
            "metric": error.get("metric"),
            "estimated": error.get("estimated"),
            "realized": error.get("score"),
            "alert": alert,
            "alert_run": run,
            "alerts": ALERTS[alert][0].format(run=(run or "")[:8]),
        })
    return rows


def _number(value, digits: int = 3) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def _causes(row: dict, scores: bool) -> str:
    """The drifted columns (with score/threshold, or by name alone) and broken relations."""
    causes = [f"{d['column']}{'=' + d['category'] if d['category'] else ''}"
              + (f" {d['score']:.3g}/{d['threshold']:.3g}" if scores else "")
              for d in row["drifted"]]
    if row["broken_relations"]:
        causes.append(f"relation {', '.join(row['broken_relations'])}")
    return ", ".join(causes) or "-"


def _text_row(row: dict) -> dict[str, str]:
    model = (row["estimated"], row["realized"])
    return {
        "month": row["month"],
        "reference": row["reference"] or "-",
        "drift": "-" if row["drift"] is None else ("DRIFT" if row["drift"] else "no"),
        "share": _number(row["drift_share"], 2),
        "causes": _causes(row, scores=True),
        "quality": "; ".join(q["message"] for q in row["quality_failed"]) or "ok",
        # estimated/realized
        "model": "-" if model == (None, None) else
        f"{row['metric']} " + "/".join(_number(v, 2) for v in model),
        "alerts": ALERTS[row["alert"]][1].format(run=(row["alert_run"] or "")[:8]),
    }


# columns that give up width, the widest first, when the table is wider than TABLE_WIDTH
FLEXIBLE = ("reference", "causes", "quality", "alerts")


def _widths(cells: list[dict[str, str]]) -> dict[str, int]:
    widths = {h: max(len(h), *(len(c[h]) for c in cells)) for h in cells[0]}
    budget = TABLE_WIDTH - len(GAP) * (len(widths) - 1)
    while sum(widths.values()) > budget:
        widest = max(FLEXIBLE, key=lambda h: widths[h])
        if widths[widest] <= max(MIN_CELL, len(widest)):
            break
        widths[widest] -= 1
    return widths


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def text_table(rows: list[dict]) -> str:
    """The rows as a table of at most TABLE_WIDTH characters a line, one line a month: long
    cells end in '…'; drifted columns too long for their cell with scores are named alone."""
    cells = [_text_row(r) for r in rows]
    widths = _widths(cells)
    for cell, row in zip(cells, rows, strict=True):
        if len(cell["causes"]) > widths["causes"]:
            cell["causes"] = _causes(row, scores=False)
    widths = _widths(cells)
    lines = [GAP.join(h.ljust(w) for h, w in widths.items())]
    lines += [GAP.join(_cut(c[h], w).ljust(w) for h, w in widths.items()) for c in cells]
    return "\n".join(line.rstrip() for line in lines)


def run_history(as_json: bool, dataset: str | None = None) -> int:
    """``history``: one row per month of each dataset (or of ``dataset``) on the configured
    warehouse and instance; --json gives every row with its dataset named."""
    from drift_assets.cli.datasets import chosen
    from drift_assets.lib.history import MonthHistory
    from drift_assets.lib.registry import ModelRegistry

    defs, monitored = chosen(dataset)
    warehouse = defs.resources["warehouse"]
    tables = {}
    try:
        with open_instance() as instance:
            for m in monitored:
                store = m.store(warehouse)
                tables[m.name] = [
                    {"dataset": m.name, **row} for row in history_rows(
                        MonthHistory(store.engine), ModelRegistry(store.engine), instance,
                        m.job_name("training_job"))]
    finally:
        warehouse.dispose()
    if as_json:
        rows = [row for rows in tables.values() for row in rows]
        emit(json.dumps(rows, indent=2, default=lambda v: None if v != v else v))
        return 0
    parts = []
    for name, rows in tables.items():
        body = text_table([{k: v for k, v in r.items() if k != "dataset"} for r in rows]) \
            if rows else "no month has been checked yet: run `drift-assets backfill`"
        parts.append(f"{name}\n{body}" if len(tables) > 1 else body)
    emit("\n\n".join(parts))
    return 0
