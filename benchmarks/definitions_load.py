"""How long `dagster definitions validate` takes as the declaration grows: the project's two
examples against 30 declared datasets (and 100), medians of several runs side by side.

The factory reads the declaration and nothing else, so the load should grow with the number
of assets Dagster builds, not with the data: the 30 datasets' sources do not even exist.

    .venv/bin/python benchmarks/definitions_load.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DECLARATION = """\
datasets:
  table_{i:03d}:
    source: /nonexistent/table_{i}.csv
    timestamp: when
    start: 2020-01
    end: 2021-12
    id: row
    reference: rolling:3
    thresholds: calibrated
    model:
      target: label
      task: classification
      estimator: sklearn.ensemble.RandomForestClassifier
      params: {{n_estimators: [50, 100]}}
      metric: f1
"""


def declared(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"table_{i:03d}.yaml").write_text(DECLARATION.format(i=i))
    return folder


def validate(config: Path, home: Path) -> float:
    env = {**os.environ, "DRIFT_CONFIG": str(config), "DAGSTER_HOME": str(home),
           "DRIFT_DATA_DIR": str(home / "data")}
    started = time.perf_counter()
    done = subprocess.run([str(Path(sys.executable).parent / "dagster"), "definitions",
                           "validate", "-m", "drift_assets.definitions"], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"validate failed for {config}:\n{done.stdout}\n{done.stderr}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        home = tmp / "home"
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        cases = {"the 2 examples": ROOT / "drift_assets.yaml",
                 "30 datasets": declared(tmp / "thirty", 30),
                 "100 datasets": declared(tmp / "hundred", 100)}
        medians = {}
        for name, config in cases.items():
            times = [validate(config, home) for _ in range(args.runs)]
            medians[name] = statistics.median(times)
            print(f"{name:>15}: median {medians[name]:5.2f} s over {args.runs} runs "
                  f"({', '.join(f'{t:.2f}' for t in times)})", flush=True)
        base = medians["the 2 examples"]
        for name, value in medians.items():
            print(f"{name:>15}: {value / base:4.2f}x the 2 examples")


if __name__ == "__main__":
    main()
