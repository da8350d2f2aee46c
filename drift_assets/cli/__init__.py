"""The ``drift-assets`` command: run the graph for a range of months, read what it found, manage
the model registry, or compare two files for drift.

Each command is a thin module over the project's classes: ``backfill`` (the asset graph and the
drift sensor, as the daemon would run them), ``history`` (the month history), ``models`` (the
registry), ``detect`` (the drift engine on two files).
"""

from __future__ import annotations

import argparse
import sys

from drift_assets.lib.generator import FIRST_DAY, LAST_DAY
from drift_assets.lib.months import month_label

DETECT_EPILOG = "exit status: 0 no drift, 1 drift, 2 the check could not be made (as diff)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="drift-assets",
        description="Keep a model healthy as its production data drifts: load months, check "
        "their quality and drift, retrain and alert.")
    commands = parser.add_subparsers(dest="command", required=True)
    backfill = commands.add_parser(
        "backfill", help="materialize the graph for a range of months, then run the sensor once",
        description="Materialize the reference and every month from --from to --to (YYYY-MM, "
        "both included), then evaluate the drift sensor once and run the retrain it asks for.")
    backfill.add_argument("--from", dest="first", default=month_label(FIRST_DAY),
                          metavar="YYYY-MM", help="first month (default: %(default)s)")
    backfill.add_argument("--to", dest="last", default=month_label(LAST_DAY),
                          metavar="YYYY-MM", help="last month (default: %(default)s)")
    detect = commands.add_parser(
        "detect", help="compare two CSV/Parquet files, Parquet folders or globs for drift",
        description="Compare a current table with a reference table, column by column, with "
        "Evidently's DataDriftPreset tests.", epilog=DETECT_EPILOG)
    detect.add_argument("reference", help="CSV or Parquet file, Parquet folder or glob")
    detect.add_argument("current", help="CSV or Parquet file, Parquet folder or glob")
    detect.add_argument("--columns", nargs="+", help="columns to check (default: the features)")
    detect.add_argument("--drift-share", type=float, default=0.5,
                        help="dataset drift when this share of columns drifts (default 0.5)")
    detect.add_argument("--json", action="store_true", help="print the result as JSON")
    detect.add_argument("--html", help="write Evidently's HTML report here")
    detect.add_argument("--scheduler", help="a Dask scheduler (tcp://host:port) to run on; "
                        "default DRIFT_DASK_SCHEDULER, else this process")
    detect.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show progress on stderr (default: when stderr is a terminal)")
    history = commands.add_parser("history", help="one row per month: drift, quality, error")
    history.add_argument("--json", action="store_true", help="print the rows as JSON")
    models = commands.add_parser("models", help="the model registry")
    actions = models.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every version with its status and scores")
    rollback = actions.add_parser("rollback", help="make an earlier version production again")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    from drift_assets.settings import SettingsError

    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except SettingsError as exc:  # a bad variable: one line naming it, not a traceback
        print(f"drift-assets {args.command}: {exc}", file=sys.stderr)
        return 2


def _run(args) -> int:
    if args.command == "config":
        from drift_assets.cli.config import run_config

        return run_config(args)
    if args.command == "init":
        from drift_assets.cli.config import run_init

        return run_init(args)
    if args.command == "models":
        from drift_assets.cli.models import run_models

        return run_models(args)
    if args.command == "history":
        from drift_assets.cli.history import run_history

        return run_history(args.json)
    if args.command == "backfill":
        from drift_assets.cli.backfill import run_backfill

        run_backfill(args.first, args.last)
        return 0
    from drift_assets.cli.detect import run_detect

    return run_detect(args)


if __name__ == "__main__":
    sys.exit(main())
