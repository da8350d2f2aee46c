"""``drift-assets backtest``: what each alert mode would have caught on a dataset's own history,
and how often it would have cried wolf (:mod:`drift_assets.lib.backtest`)."""

from __future__ import annotations

import json
import sys

EPILOG = """\
what it does: every month of the dataset's partitions is read once through its source
(generated, or its declared file; DRIFT_SOURCE for bike_sharing). Each mode is replayed on the
clean months: its flags from the second year on are the false alarms. Then each trial draws a
fault (kind, size, first month from the second year on, column or pair) from a generator
seeded by its seed, and the fault's months are judged again until the fault is found.
Trial i has seed SEED + i: seeds 0-99999 are for choosing rules, 100000 on were never used to.

output: per fault kind and size, for each mode, the share of trials found and the mean months
to detection (a fault lasts 3 months, a slow creep 6); then per mode the false alarms a year
of clean months (overall, per five columns, and the worst column); then the issue's goal for
calibrated + seasonal (every kind found in 95% at its goal size *, at most 2 false alarms a
year across five columns, ahead of both peers). --json gives every figure and every trial.

exit status: 0 the backtest ran (whether or not the goal is met); 2 a bad argument or a
dataset that cannot be backtested (fewer than 13 months, a source that cannot be read), in
one line on stderr."""

SHORT = {
    "Evidently defaults, first month (peer)": "Ev 1st*",
    "Evidently defaults, seasonal (peer)": "Ev seas*",
    "evidently, fixed": "ev fix",
    "evidently, rolling:3": "ev roll",
    "evidently, seasonal": "ev seas",
    "calibrated, fixed": "cal fix",
    "calibrated, rolling:3": "cal roll",
    "calibrated, seasonal": "CAL SEAS",
}


def add_parser(commands) -> None:
    """The ``backtest`` subcommand's arguments."""
    import argparse

    parser = commands.add_parser(
        "backtest", help="replay a dataset's history with injected faults: found and false "
        "alarms per mode",
        description="Replay a dataset's own history with faults injected at random months,\n"
        "columns and sizes; report per fault kind the share found against size and the\n"
        "months to detection, and the false alarms a year of clean months, for every mode\n"
        "side by side with Evidently's defaults.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", metavar="NAME",
                        help="the declared dataset to backtest (default: every one, in turn)")
    parser.add_argument("--trials", type=int, default=1000, metavar="N",
                        help="faults injected, one per trial (default 1000)")
    parser.add_argument("--seed", type=int, default=0, metavar="S",
                        help="the first trial's seed; trial i has seed S + i (default 0)")
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")


def run_backtest(args, out=None, err=None) -> int:
    """Run the backtest of each chosen dataset and print it; the exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    if args.trials < 1:
        print(f"drift-assets backtest: --trials {args.trials}: expected at least 1", file=err)
        return 2
    if args.seed < 0:
        print(f"drift-assets backtest: --seed {args.seed}: expected 0 or more", file=err)
        return 2
    from drift_assets.assets.backtest import backtest_table
    from drift_assets.cli.datasets import UnknownDataset, chosen
    from drift_assets.lib.backtest import Backtest
    from drift_assets.lib.source import SourceError
    from drift_assets.resources import build_resources
    from drift_assets.settings import load_settings

    try:
        _, monitored = chosen(args.dataset)
    except UnknownDataset as exc:
        print(f"drift-assets backtest: {exc}", file=err)
        return 2
    resources = build_resources(load_settings())
    reports = []
    for m in monitored:
        try:
            table = backtest_table(m, resources["source"], resources["settings"])
            backtest = Backtest(table)
        except (SourceError, ValueError) as exc:
            print(f"drift-assets backtest: dataset {m.name!r}: {exc}", file=err)
            return 2
        print(f"{m.name}: {len(table.order)} months, {args.trials} trials from seed "
              f"{args.seed}", file=err)
        report = backtest.run(range(args.seed, args.seed + args.trials),
                              progress=_progress(err))
        reports.append(report)
        if not args.json:
            print(render(report), file=out)
    if args.json:
        json.dump([r.to_dict() for r in reports], out, indent=1)
        print(file=out)
    return 0


def _progress(err):
    def progress(i: int, n: int) -> None:
        if i % 100 == 0 or i == n:
            print(f"  trial {i}/{n}", file=err)
    return progress


def render(report) -> str:
    """The report as terminal tables: detection per kind and size, false alarms, the goal."""
    from drift_assets.lib.faults import KINDS

    modes = report.modes
    lines = [f"{report.table}: {len(report.outcomes)} trials (seeds {report.seeds[0]}.."
             f"{report.seeds[-1]}), {report.seconds:.0f} s. Found: share of trials / mean "
             "months to detection; * a peer, or the goal size."]
    head = f"{'fault':17s} {'size':>5s} {'n':>4s} " + " ".join(f"{SHORT.get(m, m)[:9]:>9s}"
                                                           for m in modes)
    lines += [head, "-" * len(head)]
    rows = {(r["mode"], r["kind"], r["size"]): r for r in report.detection()}
    for name, kind in KINDS.items():
        if not report.applicable.get(name):
            lines.append(f"{name:17s} {'':>5s} {'':>4s} not applicable: no column of this "
                         "table it can break")
            continue
        for size in kind.sizes:
            cells = [rows.get((m, name, size)) for m in modes]
            if cells[0] is None:
                continue
            label = f"{size:g}" + ("*" if size == kind.goal else "")
            lines.append(f"{name:17s} {label:>5s} {cells[0]['trials']:>4d} " + " ".join(
                f"{c['share']:>4.0%} {c['months_to_detection'] or 0:>3.1f}".rjust(9)
                if c['months_to_detection'] else f"{c['share']:>4.0%}    -".rjust(9)
                for c in cells))
    lines += ["", f"{'false alarms (clean months from the second year on)':52s} "
              f"{'count':>5s} {'a year':>6s} {'/5 cols':>7s}  worst column"]
    for mode in modes:
        fa = report.false_alarms[mode]
        worst = max(fa["per_column"].items(), key=lambda kv: kv[1])
        lines.append(f"{mode:52s} {fa['count']:>5d} {fa['per_year']:>6.1f} "
                     f"{fa['per_year_five_columns']:>7.1f}  "
                     f"{f'{worst[0]} ({worst[1]})' if worst[1] else '-'}")
    goal = report.goal()
    lines += ["", f"goal ({goal['mode']}): " + ("met" if goal["met"] else "not met") + "; "
              f"kinds below 95% at the goal size: {', '.join(goal['kinds_short']) or 'none'}; "
              f"{goal['false_alarms_per_year']:.1f} false alarms a year per five columns; "
              f"behind: {', '.join(goal['behind_peers']) or 'no peer'}"
              + (f"; no trial at the goal size of {', '.join(goal['kinds_untried'])}"
                 if goal["kinds_untried"] else ""), ""]
    return "\n".join(lines)
