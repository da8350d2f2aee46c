"""The ``drift-assets`` command: run the graph for a range of months, read what it found, manage
the model registry, or compare two files for drift.

Each command is a thin module over the project's classes: ``backfill`` (the asset graph and the
drift sensor, as the daemon would run them), ``history`` (the month history), ``models`` (the
registry), ``detect`` (the drift engine on two files), ``reports`` (the pages the UI links to).
"""

from __future__ import annotations

import argparse
import sys

DETECT_EPILOG = """\
columns: --columns temp,hum, --columns temp hum, or --columns repeated. Written before the
files (detect --columns temp hum ref.csv cur.csv), the last two values are the files.
Without --columns: the bike-sharing features the reference has, else every column both
files share.

exit status (as diff): 0 no drift, 1 drift, 2 the check could not be made: a file that
cannot be read or has no rows, a column missing, or a column that cannot be tested (all its
values missing, text in a numeric column, a type neither numerical nor categorical). This
holds for the columns given with --columns and for the default ones alike: no column is left
out of the verdict silently, and "no column compared" is never "no drift". Each problem is
one line on stderr naming the file, the column and the reason; stdout is then empty.
Output cut short by its reader (| head) ends quietly, with the same exit status."""

BACKFILL_EPILOG = """\
datasets: without --dataset every declared dataset runs, one after the other; a --from/--to
range then runs on each dataset where its months are partitions, and a dataset with none of
them is passed over (said on stderr).

progress: one line on stderr per month as it finishes, always (a terminal and a log alike);
the summary table goes to stdout at the end.

exit status: 0 every month ran; 1 a month failed, a month stopped by a blocking quality check
included (the summary still printed, naming it), or a reference did (no month of that dataset
run then); 2 a bad argument, in one line on stderr: a dataset not declared, a month not
YYYY-MM, --from after --to, a month before the dataset's first partition, after its last one
(the month in progress, or the last month of a generated or declared-finite source)."""
DATASET_HELP = "the declared dataset to work on (default: every one, in turn)"


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: 1-65535")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="drift-assets",
        description="Keep a model healthy as its production data drifts: load months, check "
        "their quality and drift, retrain and alert.")
    commands = parser.add_subparsers(dest="command", required=True)
    backfill = commands.add_parser(
        "backfill", help="materialize the graph for a range of months, then run the sensor once",
        description="Materialize the reference and every month from --from to --to (YYYY-MM, "
        "both included), then evaluate the drift sensor once and run the retrain it asks for.",
        epilog=BACKFILL_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    backfill.add_argument("--from", dest="first", metavar="YYYY-MM",
                          help="first month (default: the dataset's first partition)")
    backfill.add_argument("--to", dest="last", metavar="YYYY-MM",
                          help="last month (default: the dataset's last partition)")
    backfill.add_argument("--dataset", metavar="NAME", help=DATASET_HELP)
    backfill.add_argument("--train-first", action="store_true",
                          help="a dataset with a model and no version yet gets one trained on "
                          "its reference first, so every month is scored (as `make demo`)")
    detect = commands.add_parser(
        "detect", help="compare two CSV/Parquet files, Parquet folders or globs for drift",
        description="Compare a current table with a reference table, column by column, with\n"
        "Evidently's DataDriftPreset tests.", epilog=DETECT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    # Not required for argparse: --columns may have taken them (see detect.settle_arguments),
    # which checks that both are there. Still one value each, so options may sit between them.
    for name in ("reference", "current"):
        detect.add_argument(name, help="CSV or Parquet file, Parquet folder or glob"
                            ).required = False
    detect.add_argument("--columns", nargs="+", action="extend", metavar="COLUMN",
                        help="columns to check, by name or comma-separated; may be repeated "
                        "(default: see below)")
    detect.add_argument("--drift-share", type=float, default=0.5,
                        help="dataset drift when this share of columns drifts (default 0.5)")
    detect.add_argument("--json", action="store_true", help="print the result as JSON")
    detect.add_argument("--html", help="write Evidently's HTML report here")
    detect.add_argument("--scheduler", help="a Dask scheduler (tcp://host:port) to run on; "
                        "default DRIFT_DASK_SCHEDULER, else this process")
    detect.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show progress on stderr (default: when stderr is a terminal)")
    history = commands.add_parser(
        "history", help="one row per month: drift, quality, error",
        description="One row per month: the reference window, the verdict and drift share, the "
        "drifted columns (score/threshold, or their names alone where that is too long) and "
        "broken relations, the failed quality checks, the model's metric (estimated/realized) "
        "and the alerts sent. The table fits 120 columns: long cells end in '…'; --json has "
        "every field in full.")
    history.add_argument("--json", action="store_true", help="print the rows as JSON, in full")
    history.add_argument("--dataset", metavar="NAME", help=DATASET_HELP)
    models = commands.add_parser("models", help="the model registry of each dataset")
    actions = models.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="every version with its status and scores")
    listing.add_argument("--dataset", metavar="NAME", help=DATASET_HELP)
    rollback = actions.add_parser("rollback", help="make an earlier version production again")
    rollback.add_argument("--dataset", metavar="NAME", help="the dataset whose model to roll "
                          "back (needed when more than one declares a model)")
    rollback.add_argument("version", nargs="?", type=int,
                          help="the version (default: the previous production one)")
    config = commands.add_parser("config", help="check a datasets declaration")
    config_actions = config.add_subparsers(dest="action", required=True)
    config_check = config_actions.add_parser(
        "check", help="check every key of a declaration, and the columns of its file sources",
        description="Check a datasets declaration (a YAML file, or a folder of them) without "
        "running anything.", epilog="exit status: 0 the declaration is usable, 2 it is not "
        "(the file, the dataset and the key are named)")
    config_check.add_argument("file", nargs="?",
                              help="the declaration (default: DRIFT_CONFIG, else "
                              "drift_assets.yaml at the project root)")
    init = commands.add_parser(
        "init", help="print a declaration of a CSV or Parquet table, to start from",
        description="Read a sample of a table and print a declaration with its columns, their "
        "inferred kinds and the timestamp column it found; `config check` accepts it as it is.")
    init.add_argument("file", help="a CSV or Parquet file")
    init.add_argument("--name", required=True, help="the dataset's name, [a-z][a-z0-9_]*")
    init.add_argument("--timestamp", help="the column that places a row in a month "
                      "(default: found in the sample)")
    reports = commands.add_parser(
        "reports", help="serve the reports folder, so the links in the UI open",
        description="Serve the reports folder (DRIFT_DATA_DIR/reports: each month's page, "
        "Evidently's reports, the summary of each dataset) over HTTP, read-only, at the address "
        "DRIFT_REPORTS_URL names (default http://127.0.0.1:3001), as `make dev` does beside the "
        "UI. In production, serve that folder (or the bucket it is synced to) with any static "
        "server and set DRIFT_REPORTS_URL to its address.",
        epilog="exit status: 0 stopped with Ctrl-C; 2 the address is not on this machine or "
        "the port is taken (one line on stderr)")
    reports.add_argument("--port", type=_port, help="the port, 1-65535 (default: "
                         "DRIFT_REPORTS_URL's)")
    from drift_assets.cli.backtest import add_parser as add_backtest

    add_backtest(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    from drift_assets.lib.declaration import DeclarationError
    from drift_assets.settings import SettingsError

    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (SettingsError, DeclarationError) as exc:  # one line naming it, not a traceback
        print(f"drift-assets {args.command}: {exc}", file=sys.stderr)
        return 2


def _run(args) -> int:
    if args.command == "backtest":
        from drift_assets.cli.backtest import run_backtest

        return run_backtest(args)
    if args.command == "config":
        from drift_assets.cli.config import run_config

        return run_config(args)
    if args.command == "init":
        from drift_assets.cli.config import run_init

        return run_init(args)
    if args.command == "reports":
        from drift_assets.cli.reports import run_reports

        return run_reports(args.port)
    if args.command == "models":
        from drift_assets.cli.models import run_models

        return run_models(args)
    if args.command == "history":
        from drift_assets.cli.history import run_history

        return run_history(args.json, args.dataset)
    if args.command == "backfill":
        from drift_assets.cli.backfill import run_backfill

        return run_backfill(args.first, args.last, dataset=args.dataset,
                            train_first=args.train_first)
    from drift_assets.cli.detect import run_detect

    return run_detect(args)


if __name__ == "__main__":
    sys.exit(main())
