"""Peak memory of loading one large CSV month through ``lib.source.iter_month``.

    .venv/bin/python benchmarks/source_memory.py                # 52,000 rows a day: 1.6 M rows
    .venv/bin/python benchmarks/source_memory.py --before 0bc393f~1 --rows-per-day 5000

Writes a generated month (``generate_month(month, rows_per_day=...)``, repeated days, so read
with ``unique_days=False``) as one CSV file, then loads it in a fresh child process for each
loader, consuming the chunks one at a time as ``Warehouse.replace_month_chunks`` does, and prints
each child's peak resident memory while loading (``VmHWM``, reset after the imports), its memory
before loading, the difference (what loading took), the time taken, the rows and chunks, and the
ratio of what loading took. The loader "before" is ``lib/source.py`` as
committed at ``--before`` (read with ``git show``, loaded as a separate module; ``0bc393f~1`` is
the loader from before CSV months streamed in chunks, which knew the bike table only); "after"
is the working tree's, given the bike table's schema. Not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import gc, importlib.util, inspect, json, resource, sys, time
from pathlib import Path
from drift_assets.lib.schema import BIKE
location, month, module_path = sys.argv[1], sys.argv[2], sys.argv[3]
if module_path == "-":
    from drift_assets.lib import source
else:
    spec = importlib.util.spec_from_file_location("source_before", module_path)
    source = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(source)
# a loader of any schema takes the bike table's; one from before schemas knew only that table
schema = (BIKE,) if "schema" in inspect.signature(source.iter_month).parameters else ()
def status_mib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
gc.collect()
baseline = status_mib("VmRSS")
try:
    Path("/proc/self/clear_refs").write_text("5")  # the high-water mark from here on
    reset = True
except OSError:
    reset = False
started, cpu = time.perf_counter(), time.process_time()
rows = chunks = largest = 0
for frame in source.iter_month(location, month, *schema, unique_days=False):
    rows += len(frame)
    chunks += 1
    largest = max(largest, len(frame))
    del frame
peak = status_mib("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"peak_mib": peak, "baseline_mib": baseline, "reset": reset, "rows": rows,
                  "chunks": chunks, "largest_chunk": largest,
                  "seconds": time.perf_counter() - started,
                  "cpu_seconds": time.process_time() - cpu}))
"""


def load_in_child(location: str, month: str, module_path: str) -> dict:
    """Load the month in a fresh process, so the peak memory is the loader's own."""
    done = subprocess.run([sys.executable, "-c", CHILD, location, month, module_path],
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"the child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--month", default="2011-01")
    parser.add_argument("--rows-per-day", type=int, default=52_000)
    parser.add_argument("--before", default="HEAD",
                        help="git revision of lib/source.py to compare with; '' for none")
    parser.add_argument("--folder", help="keep the CSV file here (default: a temporary folder)")
    args = parser.parse_args()

    from drift_assets.lib.generator import generate_month

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.folder or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        csv = folder / f"{args.month}.csv"
        started = time.perf_counter()
        frame = generate_month(args.month, rows_per_day=args.rows_per_day)
        frame.to_csv(csv, index=False)
        print(f"{csv}: {len(frame):,} rows, {csv.stat().st_size / 2**20:,.0f} MiB "
              f"(written in {time.perf_counter() - started:.0f} s)")
        del frame

        runs = {}
        if args.before:
            old = Path(scratch) / "source_before.py"
            old.write_text(subprocess.run(
                ["git", "show", f"{args.before}:drift_assets/lib/source.py"], cwd=ROOT,
                check=True, capture_output=True, text=True).stdout)
            runs[f"before ({args.before})"] = load_in_child(str(csv), args.month, str(old))
        runs["after (working tree)"] = load_in_child(str(csv), args.month, "-")

    print(f"{'loader':<24} {'peak RSS MiB':>13} {'before loading':>15} {'loading':>8} "
          f"{'seconds':>8} {'CPU s':>6} {'rows':>11} {'chunks':>7} {'largest chunk':>14}")
    for name, run in runs.items():
        print(f"{name:<24} {run['peak_mib']:>13,.0f} {run['baseline_mib']:>15,.0f} "
              f"{run['peak_mib'] - run['baseline_mib']:>8,.0f} {run['seconds']:>8.1f} "
              f"{run['cpu_seconds']:>6.1f} {run['rows']:>11,} {run['chunks']:>7} "
              f"{run['largest_chunk']:>14,}")
    if not all(run["reset"] for run in runs.values()):
        print("(no /proc/self/clear_refs: peaks are ru_maxrss, which includes the imports)")
    if len(runs) == 2:
        before, after = (run["peak_mib"] - run["baseline_mib"] for run in runs.values())
        print(f"memory taken by loading, before / after: {before:,.0f} MiB / {after:,.0f} MiB "
              f"= {before / after:.1f}x")

if __name__ == "__main__":
    main()
