"""``drift-assets history``: one row per month from the month history and the model registry:
what each month was compared with, what was found, and what was sent."""

from __future__ import annotations

import json

import pandas as pd

from drift_assets.cli.instance import open_instance


def _alerts_sent(instance) -> dict[str, str]:
    """Month -> the retrain run its drift alert went with (the run sends the message)."""
    from dagster import DagsterRunStatus, RunsFilter

    sent: dict[str, str] = {}
    for run in instance.get_runs(RunsFilter(job_name="training_job",
                                            statuses=[DagsterRunStatus.SUCCESS])):
        for month in run.tags.get("drift_assets/drift_months", "").split(","):
            if month:
                sent.setdefault(month, f"drift alert, retrain run {run.run_id[:8]}")
    return sent


def history_rows(history, registry, instance) -> list[dict]:
    """One row per month: the reference window, the verdict with each cause, the failed quality
    checks with their columns, the model's estimated and realized error, and the alerts."""
    drift, quality = history.drift_records(), history.quality_records()
    performance = registry.performance().set_index("month").to_dict("index")
    sent = _alerts_sent(instance)
    rows = []
    for month in sorted(set(drift) | set(quality)):
        record, checks, error = drift.get(month), quality.get(month), performance.get(month, {})
        broken = checks is not None and not checks.passed
        if broken:
            alerts = "quality alert; drift and model alerts suppressed"
        elif month in sent:
            alerts = sent[month]
        elif record is not None and record.drift:
            alerts = "none (drift continues, already alerted)"
        else:
            alerts = "none"
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
            "estimated_rmsle": error.get("estimated_rmsle"),
            "realized_rmsle": error.get("rmsle"),
            "alerts": alerts,
        })
    return rows


def _number(value) -> str:
    return "-" if value is None or value != value else f"{value:.3f}"


def _text_row(row: dict) -> dict:
    causes = [f"{d['column']}{'=' + d['category'] if d['category'] else ''} "
              f"{d['score']:.3g}/{d['threshold']:.3g}" for d in row["drifted"]]
    causes += [f"relation {', '.join(row['broken_relations'])}"] if row["broken_relations"] \
        else []
    return {
        "month": row["month"], "reference": row["reference"] or "-",
        "drift_share": _number(row["drift_share"]),
        "verdict": "-" if row["drift"] is None else ("DRIFT" if row["drift"] else "no"),
        "drifted": ", ".join(causes),
        "quality": "; ".join(q["message"] for q in row["quality_failed"]) or "ok",
        "estimated_rmsle": _number(row["estimated_rmsle"]),
        "realized_rmsle": _number(row["realized_rmsle"]), "alerts": row["alerts"],
    }


def run_history(as_json: bool) -> int:
    """``history``: one row per month on the configured warehouse and instance."""
    from drift_assets.definitions import defs
    from drift_assets.lib.history import MonthHistory
    from drift_assets.lib.registry import ModelRegistry

    engine = defs.resources["warehouse"].engine
    with open_instance() as instance:
        rows = history_rows(MonthHistory(engine), ModelRegistry(engine), instance)
    if as_json:
        print(json.dumps(rows, indent=2, default=lambda v: None if v != v else v))
    elif rows:
        print(pd.DataFrame([_text_row(r) for r in rows]).to_string(index=False))
    else:
        print("no month has been checked yet: run `drift-assets backfill`")
    return 0
