"""Benchmark: drift_assets.engine against Evidently 0.7's DataDriftPreset.

    python benchmarks/drift_engine.py                 # 1,000,000 rows x 25 columns, ~15 min
    python benchmarks/drift_engine.py --rows 100000 --repeat 1 --months 3

Measures, on the same reference/current frames (20 numeric columns, 5 categorical, the first
five numeric columns shifted in the current frame and two others with missing values):

* time: median of ``--repeat`` runs of Evidently's ``Report([DataDriftPreset()]).run`` (the
  snapshot is computed, nothing is rendered to HTML or serialised), of the engine's
  ``build_profile`` + ``detect_drift``, and of ``detect_drift`` with a prebuilt profile;
* peak memory: each method runs once in its own fresh child process (multiprocessing,
  "spawn") that first builds the frames, then resets the kernel's RSS high-water mark
  (``echo 5 > /proc/self/clear_refs``) and reports ``VmHWM`` from ``/proc/self/status`` after
  the run: peak RSS including the frames, and the part above the RSS the frames took;
* verdict agreement between the engine and Evidently, column by column;
* a ``--months``-month backfill: ``detect_drift`` with one cached reference profile against
  rebuilding the profile for every month.

Not run by CI.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing as mp
import os
import platform
import resource
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drift_assets.engine import (  # noqa: E402
    build_profile,
    detect_drift,
    evidently_column_results,
)

N_NUMERIC = 20
N_CATEGORICAL = 5
SHIFTED = 5  # numeric columns moved in the current frame


def make_frame(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """20 numeric + 5 categorical columns; ``shift`` moves the first five numeric ones."""
    rng = np.random.default_rng(seed)
    data: dict[str, np.ndarray] = {}
    for i in range(N_NUMERIC):
        delta = shift if i < SHIFTED else 0.0
        kind = i % 4
        if kind == 0:
            column = rng.normal(10 + delta, 2, rows)
        elif kind == 1:
            column = rng.lognormal(1 + delta / 4, 0.5, rows)
        elif kind == 2:
            column = rng.uniform(0 + delta, 1 + delta, rows)
        else:  # integer with many values: numerical by Evidently's rule
            column = rng.poisson(200 * (1 + delta / 4), rows)
        data[f"num_{i:02d}"] = column
    for i in (5, 6):  # some missing values (float columns)
        data[f"num_{i:02d}"][rng.random(rows) < 0.02] = np.nan
    labels = np.array(["red", "green", "blue", "amber", "violet", "grey"], dtype=object)
    for i in range(N_CATEGORICAL):
        probs = np.array([0.3, 0.25, 0.2, 0.1, 0.1, 0.05])
        if i == 0:
            probs = np.array([0.2, 0.25, 0.2, 0.15, 0.1, 0.1]) if shift else probs
        if i < 3:  # strings (shared objects, as pyarrow's to_pandas dedups them)
            data[f"cat_{i}"] = labels[rng.choice(6, rows, p=probs)]
        else:  # small integers: categorical by Evidently's 10-value rule
            data[f"cat_{i}"] = rng.choice(6, rows, p=probs).astype(np.int64)
    return pd.DataFrame(data)


def frames(rows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_frame(rows, seed=1), make_frame(rows, seed=2, shift=0.3)


def run_evidently_preset(reference: pd.DataFrame, current: pd.DataFrame):
    from evidently import Report
    from evidently.presets import DataDriftPreset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)


def engine_full(reference: pd.DataFrame, current: pd.DataFrame):
    return detect_drift(build_profile(reference), current)


def timed(func, *args) -> tuple[float, object]:
    start = time.perf_counter()
    result = func(*args)
    return time.perf_counter() - start, result


# --------------------------------------------------------------------------------------------
# Peak memory, one fresh process per method
# --------------------------------------------------------------------------------------------


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _memory_child(method: str, rows: int, queue) -> None:
    reference, current = frames(rows)
    profile = build_profile(reference) if method == "engine-detect" else None
    gc.collect()
    baseline = _status_kb("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        reset = True
    except OSError:
        reset = False
    if method == "evidently":
        run_evidently_preset(reference, current)
    elif method == "engine":
        engine_full(reference, current)
    else:
        detect_drift(profile, current)
    queue.put((baseline / 1024, _status_kb("VmHWM") / 1024, reset))


def peak_memory(method: str, rows: int) -> tuple[float, float, bool, float]:
    """(frames RSS MB, peak RSS MB, high-water mark was reset, children's ru_maxrss MB)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_memory_child, args=(method, rows, queue))
    child.start()
    baseline, peak, reset = queue.get()
    child.join()
    children_max = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return baseline, peak, reset, children_max


# --------------------------------------------------------------------------------------------


def compare_verdicts(snapshot, result) -> tuple[bool, list[str]]:
    theirs = evidently_column_results(snapshot)
    differences = []
    for column in result.columns:
        other = theirs["columns"].get(column.column)
        if other is None or (other["method"], other["drifted"]) != (column.method, column.drifted):
            differences.append(
                f"{column.column}: engine {column.method}/{column.drifted} vs {other}"
            )
        elif abs(other["score"] - column.score) > 1e-6 * max(abs(other["score"]), 1e-6):
            differences.append(f"{column.column}: score {column.score} vs {other['score']}")
    if set(theirs["columns"]) != {c.column for c in result.columns}:
        differences.append("different column sets")
    if theirs["drifted_count"] != result.drifted_count:
        differences.append(f"count {result.drifted_count} vs {theirs['drifted_count']}")
    return not differences, differences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--months", type=int, default=24, help="backfill length (0 to skip)")
    parser.add_argument("--no-memory", action="store_true", help="skip the child-process runs")
    args = parser.parse_args()

    import evidently

    print(
        f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"evidently {evidently.__version__}, {os.cpu_count()} CPUs"
    )
    reference, current = frames(args.rows)
    print(
        f"frames: reference and current {args.rows:,} rows x {reference.shape[1]} columns "
        f"({N_NUMERIC} numeric, {N_CATEGORICAL} categorical), "
        f"{SHIFTED} numeric + 1 categorical shifted in current"
    )

    evidently_times, engine_times, detect_times = [], [], []
    snapshot = result = None
    engine_full(reference, current)  # warm-up: imports, thread pool, first-touch of pages
    for i in range(args.repeat):
        # the engine first, so that the ~1.5 GB Evidently has just allocated and freed
        # cannot weigh on the engine's timings (an earlier run timed it right after Evidently
        # and saw build+detect vary from 4.2 to 4.8 s against ~2.7 s on its own)
        gc.collect()
        seconds, _ = timed(engine_full, reference, current)
        engine_times.append(seconds)
        profile = build_profile(reference)
        gc.collect()
        seconds, result = timed(detect_drift, profile, current)
        detect_times.append(seconds)
        gc.collect()
        seconds, snapshot = timed(run_evidently_preset, reference, current)
        evidently_times.append(seconds)
        print(
            f"  run {i + 1}: evidently {evidently_times[-1]:.2f} s, engine build+detect "
            f"{engine_times[-1]:.3f} s, detect with profile {detect_times[-1]:.3f} s",
            flush=True,
        )
    ev, en, de = (statistics.median(t) for t in (evidently_times, engine_times, detect_times))
    ratios_full = [e / g for e, g in zip(evidently_times, engine_times, strict=True)]
    ratios_detect = [e / g for e, g in zip(evidently_times, detect_times, strict=True)]
    print(f"median Evidently Report.run(DataDriftPreset):      {ev:8.2f} s")
    print(f"median engine build_profile + detect_drift:        {en:8.3f} s")
    print(f"median engine detect_drift (prebuilt profile):     {de:8.3f} s")
    full, detect_only = statistics.median(ratios_full), statistics.median(ratios_detect)
    print(f"median ratio Evidently / engine (build + detect):  {full:8.1f}x")
    print(f"median ratio Evidently / engine (detect only):     {detect_only:8.1f}x")

    agree, differences = compare_verdicts(snapshot, result)
    print(
        f"verdicts agree: {agree} (engine drifted {result.drifted_count}/{len(result.columns)}, "
        f"dataset drift {result.dataset_drift}; columns {result.drifted_columns})"
    )
    for line in differences:
        print("  ", line)

    if not args.no_memory:
        print("peak memory, one fresh child process each (VmHWM after resetting it once the")
        print("frames exist; 'above frames' = peak minus the RSS right before the run):")
        peaks = {}
        for method in ("engine", "engine-detect", "evidently"):
            baseline, peak, reset, children_max = peak_memory(method, args.rows)
            peaks[method] = (baseline, peak)
            label = {
                "engine": "engine build_profile + detect_drift",
                "engine-detect": "engine detect_drift (profile prebuilt)",
                "evidently": "Evidently Report.run",
            }[method]
            print(
                f"  {label:40s} peak {peak:7.0f} MB, above frames {peak - baseline:7.0f} MB "
                f"(frames {baseline:.0f} MB; reset {'ok' if reset else 'FAILED'}; "
                f"getrusage(RUSAGE_CHILDREN) max so far {children_max:.0f} MB)",
                flush=True,
            )
        ev_base, ev_peak = peaks["evidently"]
        en_base, en_peak = peaks["engine"]
        print(
            f"memory ratio engine / Evidently: peak {en_peak / ev_peak:.2f}, "
            f"above frames {(en_peak - en_base) / (ev_peak - ev_base):.2f}"
        )

    if args.months:
        cached = rebuilt = 0.0
        profile = build_profile(reference)
        drifted_months = 0
        for month in range(args.months):
            # seasonal shift: far from the reference mid-year, close at the turn of the year
            shift = 0.6 * np.sin(np.pi * (month % 12) / 12)
            monthly = make_frame(args.rows, seed=100 + month, shift=shift)
            gc.collect()
            # alternate which one meets the freshly built frame first
            runs = [("cached", detect_drift, profile), ("rebuilt", engine_full, reference)]
            for name, func, ref in runs if month % 2 == 0 else runs[::-1]:
                seconds, outcome = timed(func, ref, monthly)
                if name == "cached":
                    cached += seconds
                    cached_result = outcome
                else:
                    rebuilt += seconds
                    rebuilt_result = outcome
            assert cached_result == rebuilt_result
            drifted_months += cached_result.dataset_drift
            del monthly
        print(
            f"backfill of {args.months} months x {args.rows:,} rows vs a {args.rows:,}-row "
            f"reference: cached profile {cached:.2f} s, rebuilding the profile each month "
            f"{rebuilt:.2f} s, ratio {rebuilt / cached:.2f}x ({drifted_months} months drifted)"
        )


if __name__ == "__main__":
    main()
