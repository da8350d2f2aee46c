"""Benchmark: ``drift-assets detect`` on two Parquet files against Evidently, in one run.

    python benchmarks/detect_command.py                   # 1,000,000 rows x 25 columns
    python benchmarks/detect_command.py --rows 100000 --repeat 1

The frames are those of ``benchmarks/drift_engine.py`` (20 numeric columns, 5 categorical of
which 3 are text, five numeric and one categorical moved in the current frame), written to two
Parquet files. Then, each in a fresh process and ``--repeat`` times:

* the command, ``drift-assets detect reference.parquet current.parquet --json``: wall time from
  start to exit (imports, reading the files and the check included) and its peak memory (the
  child's ``ru_maxrss``);
* Evidently's ``Report([DataDriftPreset()]).run`` on the frames already in memory (reading the
  files not included), timed inside the process, and that process's peak memory.

It prints the medians, the ratio Evidently / command, and whether the command's verdicts are
Evidently's (method and verdict of every column, score within 1e-6 relative) and exactly the
engine's on the whole frames in memory (every figure of the JSON equal). Not run by CI.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

COMMAND = [str(Path(sys.executable).with_name("drift-assets")), "detect"]


def _run(argv: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, stdout) of a child process."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 1):
        raise RuntimeError(f"{argv} exited {child.returncode}")
    return seconds, usage.ru_maxrss / 1024, out


def child_evidently(reference: str, current: str) -> None:
    """Evidently on the frames in memory; prints seconds, peak MB and its column results."""
    import pandas as pd
    from drift_engine import run_evidently_preset

    from drift_assets.engine import evidently_column_results

    frames = pd.read_parquet(reference), pd.read_parquet(current)
    start = time.perf_counter()
    snapshot = run_evidently_preset(*frames)
    seconds = time.perf_counter() - start
    results = evidently_column_results(snapshot)
    peak = next(int(line.split()[1]) / 1024 for line in
                Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM"))
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "columns": results["columns"],
                      "drifted_count": results["drifted_count"]}))


def engine_in_memory(reference: str, current: str) -> dict:
    """The engine on the whole frames, as the command computed it before reading by column."""
    import pandas as pd

    from drift_assets.engine import build_profile, detect_drift

    frames = pd.read_parquet(reference), pd.read_parquet(current)
    return detect_drift(build_profile(frames[0]), frames[1]).to_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--write", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_evidently(*args.child)
        return
    if args.write:
        from drift_engine import frames

        for frame, path in zip(frames(args.rows), args.write, strict=True):
            frame.to_parquet(path, index=False)
        return

    with tempfile.TemporaryDirectory(prefix="detect_command_") as tmp:
        reference, current = (str(Path(tmp) / f"{n}.parquet") for n in ("reference", "current"))
        # written by a child: a child forked from a process holding the frames would count
        # their pages in its own peak (ru_maxrss covers the fork before the exec)
        subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--write",
                        reference, current], check=True)
        print(f"two Parquet files of {args.rows:,} rows x 25 columns; {args.repeat} "
              f"repetition(s); {os.cpu_count()} CPUs", flush=True)
        command, evidently, output = [], [], None
        for i in range(args.repeat):
            seconds, peak, out = _run([*COMMAND, reference, current, "--json"])
            command.append((seconds, peak))
            output = json.loads(out)
            seconds, peak, out = _run([sys.executable, __file__, "--child", reference, current])
            theirs = json.loads(out.splitlines()[-1])
            evidently.append((theirs["seconds"], theirs["peak_mb"]))
            print(f"  run {i + 1}: command {command[-1][0]:.2f} s {command[-1][1]:.0f} MB, "
                  f"Evidently {evidently[-1][0]:.1f} s {evidently[-1][1]:.0f} MB", flush=True)
        # last: the frames it loads must not sit in this process while children are forked
        same_as_engine = output == json.loads(json.dumps(engine_in_memory(reference, current),
                                                         default=str))
    differences = []
    for column in output["columns"]:
        other = theirs["columns"].get(column["column"])
        if other is None or (other["method"], other["drifted"]) != (column["method"],
                                                                    column["drifted"]):
            differences.append(f"{column['column']}: {column} vs {other}")
        elif abs(other["score"] - column["score"]) > 1e-6 * max(abs(other["score"]), 1e-6):
            differences.append(f"{column['column']}: score {column['score']} vs {other['score']}")
    if theirs["drifted_count"] != output["drifted_count"]:
        differences.append(f"count {output['drifted_count']} vs {theirs['drifted_count']}")
    median = {name: [statistics.median(v[k] for v in runs) for k in (0, 1)]
              for name, runs in (("command", command), ("evidently", evidently))}
    print(f"median `drift-assets detect` (files read, whole command): "
          f"{median['command'][0]:.2f} s, peak {median['command'][1]:.0f} MB")
    print(f"median Evidently Report.run (frames in memory):            "
          f"{median['evidently'][0]:.2f} s, peak {median['evidently'][1]:.0f} MB")
    ratios = [e[0] / c[0] for e, c in zip(evidently, command, strict=True)]
    print(f"median ratio Evidently / command: {statistics.median(ratios):.1f}x; memory "
          f"{median['command'][1] / median['evidently'][1]:.2f} of Evidently's")
    print(f"verdicts equal to Evidently's: {not differences}; every figure equal to the "
          f"engine's on the whole frames: {same_as_engine}")
    for line in differences:
        print("  ", line)


if __name__ == "__main__":
    main()
