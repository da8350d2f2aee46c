"""``drift-assets detect``: the drift engine on two files, folders or globs.

Exit status as ``diff``'s: 0 no drift, 1 drift, 2 the check could not be made. A column that
cannot be tested (all its values missing, text in a numeric column, a type that is neither
numerical nor categorical) makes the check one that cannot be made, whether it was named with
``--columns`` or is one of the default columns: it is never left out of the verdict silently,
and "no column compared" is never "no drift".
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd

from drift_assets.lib.schema import DEFAULT_DRIFT_FEATURES
from drift_assets.lib.source import (
    ParquetColumns,
    SourceError,
    local_parquet,
    pieces,
    read_table,
)
from drift_assets.settings import load_settings

NO_DRIFT, DRIFT, NOT_MADE = 0, 1, 2


def emit(text: str) -> bool:
    """Print ``text`` on stdout. False when the reader has gone (``| head`` closed the pipe):
    stdout then points at /dev/null, so that Python's flush at exit does not fail again, and
    the command ends quietly with the exit status it would have had."""
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return False
    return True


def _fail(message: str) -> int:
    print(f"drift-assets detect: {message}", file=sys.stderr)
    return NOT_MADE


def settle_arguments(args) -> str | None:
    """Finish what argparse cannot: ``--columns`` takes one or more values, so in
    ``detect --columns temp hum a.csv b.csv`` it takes the two files too (argparse cannot tell
    ``hum`` from a file); the files it took are given back from its end. Then comma-separated
    names (``--columns temp,hum``) are split. Returns the problem to report, or None."""
    values = list(args.columns or [])
    missing = [name for name in ("reference", "current") if getattr(args, name) is None]
    if missing:
        if len(values) <= len(missing):  # nothing would be left for --columns
            return f"the following arguments are required: {', '.join(missing)}"
        for name, value in zip(missing, values[-len(missing):], strict=True):
            setattr(args, name, value)
        values = values[:-len(missing)]
    if args.columns is not None:
        names = [name.strip() for value in values for name in value.split(",")]
        args.columns = list(dict.fromkeys(name for name in names if name))
        if not args.columns:
            return "--columns names no column"
    return None


def run_detect(args) -> int:
    """The stand-alone drift check: exit 0 no drift, 1 drift, 2 the check could not be made."""
    import time

    from drift_assets.engine import build_profile, detect_drift, save_evidently_html

    problem = settle_arguments(args)
    if problem:
        return _fail(problem)
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    started = time.perf_counter()

    def progress(step: str) -> None:
        # On a terminal, big files take seconds per step: say which one is running.
        if show:
            print(f"[{time.perf_counter() - started:6.1f}s] {step}", file=sys.stderr, flush=True)

    scheduler = args.scheduler or load_settings().dask_scheduler
    if scheduler:
        return _detect_on_cluster(args, scheduler, progress)
    try:
        files = None if args.html else (local_parquet(args.reference),
                                        local_parquet(args.current))
        if files and None not in files:
            return _detect_by_column(args, *files, progress)
        progress(f"reading {args.reference}")
        reference = _rows(read_parquet_or_table(args.reference), args.reference)
        progress(f"reading {args.current} (reference: {len(reference):,} rows)")
        current = _rows(read_parquet_or_table(args.current), args.current)
        columns = _detect_columns(args, reference.columns, current.columns)
        progress(f"profiling the reference ({len(columns)} columns; current: {len(current):,} "
                 "rows)")
        profile = build_profile(reference, columns)
        progress("testing the columns")
        result = detect_drift(profile, current, columns, drift_share=args.drift_share)
        untested = _untested(args, result)
        if untested:
            for line in untested:
                _fail(line)
            return NOT_MADE
        if args.html:
            progress(f"writing Evidently's report to {args.html}")
            save_evidently_html(reference, current, columns, args.html)
        progress("done")
    except (SourceError, ValueError, KeyError) as exc:
        return _fail(str(exc))
    return _print_result(args, result)


def _detect_by_column(args, reference_files: list[str], current_files: list[str],
                      progress) -> int:
    """The check on local Parquet files, one column at a time: only the columns compared are
    read, each reference column is profiled and its current column tested while no other
    column of the pair is held, and text comes as categories (codes, not a Python string a
    row). The verdicts are those of the whole frames."""
    from drift_assets.engine import build_profile, detect_drift
    from drift_assets.engine.drift import DriftResult
    from drift_assets.engine.profile import parallel_map

    reference = ParquetColumns(args.reference, reference_files)
    current = ParquetColumns(args.current, current_files)
    for side in (reference, current):
        if not side.rows:
            raise SourceError(side.location, f"no rows to compare ({len(side.names)} columns, "
                              "0 rows)")
    columns = _detect_columns(args, reference.names, current.names)
    progress(f"testing {len(columns)} columns ({reference.rows:,} reference rows, "
             f"{current.rows:,} current), a column at a time")

    def test(column: str):
        profile = build_profile(reference.column(column).to_frame(), [column], max_workers=1)
        categories = profile.column_types[column] == "cat"
        return detect_drift(profile, current.column(column, categories).to_frame(), [column],
                            drift_share=args.drift_share, max_workers=1)

    parts = parallel_map(test, columns, None)
    result = DriftResult(tuple(c for part in parts for c in part.columns),
                         float(args.drift_share),
                         {c: r for part in parts for c, r in part.skipped.items()})
    progress("done")
    untested = _untested(args, result)
    for line in untested:
        _fail(line)
    return NOT_MADE if untested else _print_result(args, result)


def _rows(frame: pd.DataFrame, location: str) -> pd.DataFrame:
    if frame.empty:
        raise SourceError(location, f"no rows to compare ({len(frame.columns)} columns, 0 rows)")
    return frame


def _detect_columns(args, reference_columns, current_columns) -> list[str]:
    columns = args.columns or [c for c in DEFAULT_DRIFT_FEATURES if c in reference_columns]
    if not columns:
        columns = [c for c in reference_columns if c in current_columns]
        if not columns:
            raise SourceError(args.current, f"no column in common with {args.reference}")
    for name, present, path in (("reference", reference_columns, args.reference),
                                ("current", current_columns, args.current)):
        absent = [c for c in columns if c not in present]
        if absent:
            raise SourceError(path, f"{name} lacks column(s) {', '.join(absent)}")
    return columns


def _untested(args, result) -> list[str]:
    """One line per reason a column could not be tested: the file at fault (from the side each
    :class:`~drift_assets.engine.drift.SkipReason` names), the column(s) and the reason."""
    files = {"reference": args.reference, "current": args.current}
    groups: dict[tuple[str, str], list[str]] = {}
    for column, reason in result.skipped.items():
        side = getattr(reason, "side", None)
        where = files.get(side) or f"{args.reference} vs {args.current}"
        text = str(reason).removeprefix(f"{side}: ")
        groups.setdefault((where, text), []).append(column)
    hint = "" if args.columns else " (the default columns; choose others with --columns)"
    lines = [f"{where}: column{'s' if len(columns) > 1 else ''} "
             f"{', '.join(repr(c) for c in columns)}: {text}{hint}"
             for (where, text), columns in groups.items()]
    if not result.columns and not lines:  # nothing compared is not "no drift"
        lines.append(f"{args.current}: no column compared")
    return lines


def read_parquet_or_table(location: str) -> pd.DataFrame:
    """A CSV or Parquet file, or every Parquet file of a folder or a glob."""
    files = pieces(location)
    if files == [location]:
        return read_table(location, as_text=False)
    try:
        return pd.read_parquet(files)
    except (OSError, ValueError) as exc:
        raise SourceError(location, f"not a readable set of Parquet files ({exc})") from exc


def _detect_on_cluster(args, scheduler: str, progress) -> int:
    """The same check on a Dask cluster: the workers read the Parquet pieces."""
    from distributed import Client

    from drift_assets.engine.distributed import detect_drift_distributed, read_parquet

    if args.html:
        return _fail("--html needs the data in one process; drop the scheduler")
    try:
        progress(f"connecting to {scheduler}")
        for location in (args.reference, args.current):
            # Dask would read a glob that matches nothing as an empty frame
            if pieces(location) == [location] and not Path(location).exists():
                raise SourceError(location, "no such file or folder")
        with Client(scheduler, timeout="30s") as client:
            reference, current = read_parquet(args.reference), read_parquet(args.current)
            columns = _detect_columns(args, list(reference.columns), list(current.columns))
            progress(f"testing {len(columns)} columns on {len(client.nthreads())} workers")
            result = detect_drift_distributed(reference, current, columns,
                                              drift_share=args.drift_share, client=client)
        progress("done")
    except (SourceError, ValueError, KeyError, OSError) as exc:
        return _fail(str(exc))
    untested = _untested(args, result)
    for line in untested:
        _fail(line)
    return NOT_MADE if untested else _print_result(args, result)


def _print_result(args, result) -> int:
    status = DRIFT if result.dataset_drift else NO_DRIFT
    if args.json:
        emit(json.dumps(result.to_dict(), indent=2, default=str))
        return status
    table = pd.DataFrame([
        {"column": c.column, "type": c.column_type, "method": c.method,
         "score": f"{c.score:.6g}", "threshold": c.threshold,
         "drifted": "DRIFT" if c.drifted else "no"}
        for c in result.columns
    ])
    verdict = "DRIFT" if result.dataset_drift else "no drift"
    emit(f"{table.to_string(index=False)}\n\n{verdict}: {result.drifted_count} of "
         f"{len(result.columns)} columns drifted (share {result.share:.2f}, threshold "
         f"{result.drift_share_threshold:.2f})")
    return status
