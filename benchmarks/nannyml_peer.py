"""NannyML's defaults on the data of ``alert_quality.py``: the third peer, in its own environment.

NannyML pins its own pandas, so it cannot share the project's environment. ``alert_quality.py
--export DIR`` writes the faulted table and the fault cells; this script runs NannyML's
``UnivariateDriftCalculator`` with its defaults (Jensen-Shannon distance for every column, an
alert above the mean + 3 standard deviations of the reference chunks) on monthly chunks, the first
year as the reference, and scores the same months and cells. Run::

    python -m venv /tmp/nannyml
    /tmp/nannyml/bin/pip install nannyml==0.13.1 statsmodels "pandas<3"
    python benchmarks/alert_quality.py --data day.csv --export /tmp/aq
    /tmp/nannyml/bin/python benchmarks/nannyml_peer.py /tmp/aq
"""

from __future__ import annotations

import sys
from pathlib import Path

import nannyml
import pandas as pd

FEATURES = ["weathersit", "temp", "atemp", "hum", "windspeed"]  # DEFAULT_DRIFT_FEATURES
CATEGORICAL = {"weathersit"}


def main(folder: str) -> None:
    data = pd.read_csv(Path(folder) / "data.csv", parse_dates=["dteday"])
    faults = pd.read_csv(Path(folder) / "faults.csv")
    features = FEATURES
    data["weathersit"] = data["weathersit"].astype("Int64").astype(str).astype("category")
    first = data["dteday"].min()
    split = pd.Timestamp(year=first.year + 1, month=first.month, day=1)
    reference, analysis = data[data["dteday"] < split], data[data["dteday"] >= split]
    calculator = nannyml.UnivariateDriftCalculator(
        column_names=features, timestamp_column_name="dteday", chunk_period="M",
        treat_as_categorical=sorted(CATEGORICAL))
    calculator.fit(reference)
    results = calculator.calculate(analysis).filter(period="analysis").to_df()
    faulty = set(zip(faults["month"], faults["column"], strict=True))
    found_faults = set()
    false = clean = 0
    for _, row in results.iterrows():
        month = pd.Timestamp(row[("chunk", "chunk", "start_date")]).strftime("%Y-%m")
        for column in features:
            alert = bool(row[(column, "jensen_shannon", "alert")])
            if (month, column) in faulty:
                if alert:
                    found_faults.update(faults.loc[(faults["month"] == month)
                                                   & (faults["column"] == column), "fault"])
            else:
                clean += 1
                false += alert
    print(f"NannyML {nannyml.__version__} defaults (JS, 3 std of monthly reference chunks): "
          f"{len(found_faults)}/{faults['fault'].nunique()} faults found, {false} false alarms "
          f"in {clean} clean cells")


if __name__ == "__main__":
    main(sys.argv[1])
