"""``drift-assets detect``: the drift engine on two files, folders or globs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from drift_assets.lib.schema import DEFAULT_DRIFT_FEATURES
from drift_assets.lib.source import SourceError, pieces, read_table
from drift_assets.settings import load_settings


def run_detect(args) -> int:
    """The stand-alone drift check: exit 0 no drift, 1 drift, 2 error (as ``diff`` does)."""
    import time

    from drift_assets.engine import build_profile, detect_drift, save_evidently_html

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
        progress(f"reading {args.reference}")
        reference = read_parquet_or_table(args.reference)
        progress(f"reading {args.current} (reference: {len(reference):,} rows)")
        current = read_parquet_or_table(args.current)
        columns = _detect_columns(args, reference.columns, current.columns)
        progress(f"profiling the reference ({len(columns)} columns; current: {len(current):,} "
                 "rows)")
        profile = build_profile(reference, columns)
        progress("testing the columns")
        result = detect_drift(profile, current, columns, drift_share=args.drift_share)
        if args.html:
            progress(f"writing Evidently's report to {args.html}")
            save_evidently_html(reference, current, columns, args.html)
        progress("done")
    except (SourceError, ValueError, KeyError) as exc:
        print(f"drift-assets detect: {exc}", file=sys.stderr)
        return 2
    return _print_result(args, result)


def _detect_columns(args, reference_columns, current_columns) -> list[str]:
    columns = args.columns or [c for c in DEFAULT_DRIFT_FEATURES if c in reference_columns]
    if not columns:
        columns = [c for c in reference_columns if c in current_columns]
    for name, present, path in (("reference", reference_columns, args.reference),
                                ("current", current_columns, args.current)):
        absent = [c for c in columns if c not in present]
        if absent:
            raise SourceError(path, f"{name} lacks column(s) {', '.join(absent)}")
    return columns


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
        print("drift-assets detect: --html needs the data in one process; drop the scheduler",
              file=sys.stderr)
        return 2
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
        print(f"drift-assets detect: {exc}", file=sys.stderr)
        return 2
    return _print_result(args, result)


def _print_result(args, result) -> int:
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        table = pd.DataFrame([
            {"column": c.column, "type": c.column_type, "method": c.method,
             "score": f"{c.score:.6g}", "threshold": c.threshold,
             "drifted": "DRIFT" if c.drifted else "no"}
            for c in result.columns
        ])
        print(table.to_string(index=False))
        verdict = "DRIFT" if result.dataset_drift else "no drift"
        print(f"\n{verdict}: {result.drifted_count} of {len(result.columns)} columns drifted "
              f"(share {result.share:.2f}, threshold {result.drift_share_threshold:.2f})")
    return 1 if result.dataset_drift else 0
