"""Scale-out benchmark: a large month as Parquet pieces against a large reference, checked by
the drift engine on a local Dask cluster (three worker processes with a memory limit each) and,
for comparison, by the single-process engine on the same files.

    .venv/bin/python benchmarks/scaleout.py --rows 20000000 --reference-rows 2000000

Prints the wall time, each worker's peak memory and the client's, the single-process engine's
time and peak memory, and whether the verdicts and scores agree. Not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

PIECE_ROWS = 1_000_000


def make_piece(rows: int, seed: int, shift: float) -> pd.DataFrame:
    """25 columns: 17 floats (a few with missing values), 4 wide integers, 4 few-valued ones."""
    rng = np.random.default_rng(seed)
    columns = {}
    for i in range(17):
        values = rng.normal(i + shift * (i % 3 == 0), 1 + i / 10, rows)
        if i % 5 == 0:
            values[rng.random(rows) < 0.02] = np.nan
        columns[f"f{i:02d}"] = values
    for i in range(4):
        columns[f"n{i}"] = rng.poisson(1000 * (i + 1), rows)
    for i in range(4):
        columns[f"c{i}"] = rng.integers(0, 3 + 2 * i, rows)
    return pd.DataFrame(columns)


def write(folder: Path, rows: int, seed: int, shift: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, start in enumerate(range(0, rows, PIECE_ROWS)):
        make_piece(min(PIECE_ROWS, rows - start), seed * 1000 + i, shift).to_parquet(
            folder / f"part-{i:04d}.parquet", index=False)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def single_process(reference: str, current: str) -> dict:
    """The single-process engine in a fresh process, so its peak memory is its own."""
    code = f"""
import json, resource, time
import pandas as pd
from drift_assets.engine import detect_drift
started = time.perf_counter()
result = detect_drift(pd.read_parquet({reference!r}), pd.read_parquet({current!r}))
print(json.dumps({{"seconds": time.perf_counter() - started,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "result": result.to_dict()}}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--reference-rows", type=int, default=2_000_000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--memory-limit", default="1.5GB")
    parser.add_argument("--skip-single", action="store_true")
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    from drift_assets.engine.distributed import detect_drift_distributed

    with tempfile.TemporaryDirectory(prefix="scaleout-") as tmp:
        reference, current = Path(tmp) / "reference", Path(tmp) / "current"
        started = time.perf_counter()
        write(reference, args.reference_rows, 1, 0.0)
        write(current, args.rows, 2, 0.05)
        print(f"data: {args.rows:,} x 25 current, {args.reference_rows:,} x 25 reference, "
              f"pieces of {PIECE_ROWS:,} rows, written in {time.perf_counter() - started:.0f} s")
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          memory_limit=args.memory_limit, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            started = time.perf_counter()
            result = detect_drift_distributed(str(reference), str(current), client=client)
            seconds = time.perf_counter() - started
            workers = client.run(peak_mib)
        print(f"\ncluster ({args.workers} workers, {args.memory_limit} each): {seconds:.1f} s, "
              f"{seconds / (args.rows + args.reference_rows) * 1e6:.2f} s per million rows")
        for address, mib in sorted(workers.items()):
            print(f"  worker {address}: peak {mib:,.0f} MiB")
        print(f"  client: peak {peak_mib():,.0f} MiB")
        print(f"  verdict: {'DRIFT' if result.dataset_drift else 'no drift'}, "
              f"{result.drifted_count} of {len(result.columns)} columns")
        if args.skip_single:
            return
        single = single_process(str(reference), str(current))
        if "error" in single:
            print(f"\nsingle process: did not finish ({single['error']})")
            return
        print(f"\nsingle process: {single['seconds']:.1f} s, peak {single['peak_mib']:,.0f} MiB"
              f"  (cluster / single time: {seconds / single['seconds']:.2f}x)")
        theirs = {c["column"]: c for c in single["result"]["columns"]}
        worst = max(abs(c.score - theirs[c.column]["score"]) / max(abs(c.score), 1e-300)
                    for c in result.columns)
        same = all(c.drifted == theirs[c.column]["drifted"] for c in result.columns)
        print(f"  same verdicts: {same}; largest relative score difference: {worst:.1e}")


if __name__ == "__main__":
    main()
