"""The alert backtest of one dataset: its own history replayed with faults injected
(:mod:`drift_assets.lib.backtest`), as an asset a person reads in the UI."""

from pathlib import Path

import pandas as pd
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableRecord,
    TableSchema,
    asset,
)
from pydantic import Field

from drift_assets.assets.quality import rule_limits
from drift_assets.lib import charts
from drift_assets.lib.backtest import KNOWN_CHANGES, MODES, RECOMMENDED, Report, Table
from drift_assets.lib.faults import KINDS
from drift_assets.lib.months import month_label
from drift_assets.lib.source import select_month
from drift_assets.monitored import Monitored
from drift_assets.resources import DataSource, DriftSettings

HELD_OUT_SEED = 100_000  # trials from here on were never used to choose a rule


def backtest_table(monitored: Monitored, source: DataSource, settings: DriftSettings
                   ) -> Table:
    """The dataset's history as the backtest replays it: every month of its partitions read
    once through its source, with its features, declared categorical columns, reference months
    and quality rules as the pipeline applies them (``settings``: the environment's, the
    dataset's declared keys over them)."""
    settings = monitored.settings(settings)
    src = monitored.source(source)
    months = [month_label(k) for k in monitored.partitions.get_partition_keys()]
    schema, frame = src.load_inferred(months, monitored.schema_hint)
    history = {m: select_month(frame, m, src.describe(), schema, allow_empty=True)
               for m in months}
    history = {m: rows for m, rows in history.items() if len(rows)}
    limits = dict(max_missing_share=settings.max_missing_share,
                  max_out_of_range_share=settings.max_out_of_range_share,
                  **rule_limits(monitored, schema))
    allowed = {c: r.allowed for c, r in monitored.dataset.columns.items() if r.allowed}
    return Table(
        name=monitored.name, months=history, kinds=schema.kinds,
        features=monitored.features(settings, schema),
        reference_months=tuple(settings.reference_choice.months),
        categorical=tuple(monitored.dataset.categorical or ()),
        quality={**limits, "allowed": allowed},
        known=KNOWN_CHANGES.get(monitored.name, {}) if monitored.example is not None else {},
    )


SHORT = {"Evidently defaults, first month (peer)": "Evidently 1st month (peer)",
         "Evidently defaults, seasonal (peer)": "Evidently seasonal (peer)"}


def detection_chart(report: Report, path: str | Path) -> str:
    """Share found against the fault's size, one panel per kind, one line per mode (peers
    dashed); the goal size marked. Returns the PNG's path."""
    import matplotlib.pyplot as plt

    rows = pd.DataFrame(report.detection())
    kinds = [k for k in KINDS if not rows.empty and k in set(rows["kind"])]
    columns = 3
    panels = (len(kinds) + columns - 1) // columns or 1
    fig, axes = plt.subplots(panels, columns, figsize=(9, 1.9 * panels + 0.6), squeeze=False)
    for ax, kind in zip(axes.flat, kinds, strict=False):
        for mode in report.modes:
            these = rows[(rows["kind"] == kind) & (rows["mode"] == mode)].sort_values("size")
            ax.plot(range(len(these)), these["share"], marker="o", markersize=3,
                    linestyle="--" if "(peer)" in mode else "-",
                    linewidth=2.2 if mode == RECOMMENDED else 1.0,
                    color="black" if mode == RECOMMENDED else None,
                    label=SHORT.get(mode, mode))
            ax.set_xticks(range(len(these)), [f"{s:g}" + ("*" if s == KINDS[kind].goal else "")
                                              for s in these["size"]], fontsize=7)
        ax.axhline(0.95, color="grey", linewidth=0.6, linestyle=":")
        ax.set_title(kind, fontsize=8)
        ax.set_xlabel(KINDS[kind].unit, fontsize=6, labelpad=1)
        ax.set_ylim(-0.05, 1.05)
        ax.tick_params(axis="y", labelsize=7)
    for ax in list(axes.flat)[len(kinds):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=7)
    fig.suptitle(f"{report.table}: share of faults found against size (* the goal size), "
                 f"{len(report.outcomes)} trials", fontsize=9)
    fig.tight_layout(rect=(0, 0.08, 1, 0.96), pad=0.4)
    return charts.save_figure(fig, path, laid_out=True)


RESULT_TABLE = TableSchema(columns=[
    TableColumn("mode", "string"),
    TableColumn("found at goal size", "string", description="per kind, share of trials whose "
                "fault was flagged in one of its months, at the kind's goal size"),
    TableColumn("kinds below 95%", "string"),
    TableColumn("months to detection", "float", description="mean, of the faults found at "
                "their goal size"),
    TableColumn("false alarms a year", "float", description="clean month-columns flagged, "
                "from the second year on"),
    TableColumn("per five columns", "float"),
    TableColumn("worst column", "string"),
])


def result_rows(report: Report) -> list[TableRecord]:
    """One row per mode: what it found at the goal sizes and its false alarms."""
    at_goal = report.at_goal()
    detection = [r for r in report.detection() if r["goal_size"]]
    rows = []
    for mode in report.modes:
        shares = {k: s for k, s in at_goal[mode].items() if s is not None}
        months = [r["months_to_detection"] for r in detection
                  if r["mode"] == mode and r["months_to_detection"] is not None]
        alarms = report.false_alarms[mode]
        worst = max(alarms["per_column"].items(), key=lambda kv: kv[1])
        rows.append(TableRecord({
            "mode": mode,
            "found at goal size": f"{min(shares.values()):.0%}–{max(shares.values()):.0%}"
            if shares else "no trial",
            "kinds below 95%": ", ".join(k for k, s in shares.items() if s < 0.95) or "none",
            "months to detection": round(sum(months) / len(months), 2) if months else None,
            "false alarms a year": round(alarms["per_year"], 2),
            "per five columns": round(alarms["per_year_five_columns"], 2),
            "worst column": f"{worst[0]} ({worst[1]})" if worst[1] else "none",
        }))
    return rows


class BacktestConfig(Config):
    trials: int = Field(default=500, ge=1, description="faults injected, one per trial")
    seed: int = Field(default=HELD_OUT_SEED, ge=0, description="the first trial's seed; trial "
                      "i has seed + i")


def build_backtest_asset(monitored: Monitored) -> AssetsDefinition:
    """``<dataset>/alert_backtest``: unpartitioned, in the dataset's group, in no job."""

    @asset(
        key=monitored.key("alert_backtest"),
        **monitored.labels("drift"),
        kinds={"pandas"},
    )
    def alert_backtest(context: AssetExecutionContext, config: BacktestConfig,
                       source: DataSource, settings: DriftSettings) -> MaterializeResult:
        """What each alert mode would have caught on this dataset's own history, and how often
        it would have cried wolf: faults from the catalogue (sensor offset, unit change,
        recoded or new category, stuck value, values lost, broken relation, swapped columns,
        slow creep) injected at random months, columns and sizes, each mode (Evidently's
        thresholds or calibrated ones; fixed, rolling:3 or seasonal references; Evidently's
        defaults as the peer) judged on the faulted months with the pipeline's own functions.
        The table gives, per mode, the share found at each kind's goal size and the false
        alarms a year of clean months; the chart, the share found against the size."""
        from drift_assets.lib.backtest import Backtest

        table = backtest_table(monitored, source, settings)
        seeds = range(config.seed, config.seed + config.trials)
        report = Backtest(table).run(
            seeds, progress=lambda i, n: i % 100 == 0 and context.log.info(f"trial {i}/{n}"))
        chart = detection_chart(report, Path(monitored.settings(settings).reports_dir)
                                / "alert_backtest.png")
        goal = report.goal()
        return MaterializeResult(metadata={
            "results": MetadataValue.table(result_rows(report), schema=RESULT_TABLE),
            "detection_chart": MetadataValue.md(charts.markdown_image(chart,
                                                                       "found against size")),
            "trials": len(report.outcomes),
            "seeds": f"{config.seed}..{config.seed + config.trials - 1}",
            "months": f"{table.order[0]}..{table.order[-1]}",
            "goal_met": goal["met"],
            "goal": (f"{goal['mode']}: kinds below 95% at the goal size: "
                     f"{', '.join(goal['kinds_short']) or 'none'}; "
                     f"{goal['false_alarms_per_year']:.2f} false alarms a year per five "
                     f"columns; behind: {', '.join(goal['behind_peers']) or 'no peer'}"
                     + (f"; no trial at the goal size of {', '.join(goal['kinds_untried'])}"
                        if goal["kinds_untried"] else "")),
            "seconds": round(report.seconds, 1),
            "modes": ", ".join(m.name for m in MODES),
        })

    return alert_backtest
