"""Evidently's own DataDriftPreset, run with the engine's column types, for parity and HTML reports.

Evidently is imported inside the functions: it takes seconds to import and the engine itself
does not need it.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from drift_assets.engine.drift import DEFAULT_THRESHOLDS, is_drifted
from drift_assets.engine.profile import TESTABLE_TYPES, _require_columns, infer_column_types

__all__ = ["evidently_column_results", "run_evidently", "save_evidently_html"]


def _resolve_types(
    reference_df: pd.DataFrame, columns: Sequence[str], column_types: dict[str, str] | None
) -> dict[str, str]:
    given = dict(column_types or {})
    inferred = infer_column_types(reference_df, [c for c in columns if c not in given])
    return {c: given.get(c) or inferred[c] for c in columns}


def _has_values(series: pd.Series) -> bool:
    # Evidently drops NaN and +-inf before testing and raises on a column left empty
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return bool(np.isfinite(values).any())
    return bool(series.notna().any())


def run_evidently(
    reference_df: pd.DataFrame,
    current_df: pd.DataFrame,
    columns: Sequence[str] | None = None,
    drift_share: float = 0.5,
    column_types: dict[str, str] | None = None,
):
    """Run Evidently's real ``Report([DataDriftPreset(...)])`` and return the snapshot.

    Column types come from ``column_types`` or :func:`infer_column_types` on the *reference*
    (what the engine uses) and are declared to Evidently in a ``DataDefinition``; left to
    itself Evidently would infer them on the current frame, and an integer column with 10
    distinct values in one month and 11 in the next would switch between chi-square/JS and
    K-S/Wasserstein.

    Columns the engine skips are left out, with a warning, so the run does not crash and the
    dataset count matches ``detect_drift``: columns with no non-missing value on either side
    (Evidently raises "An empty column ... was provided") and columns that are not
    numerical/categorical (text, datetime, unknown).

    The report runs with ``include_tests=True`` so the snapshot carries each column's
    pass/fail status, which :func:`evidently_column_results` reads.
    """
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    columns = list(reference_df.columns) if columns is None else list(columns)
    _require_columns(reference_df, columns, "reference")
    _require_columns(current_df, columns, "current")
    types = _resolve_types(reference_df, columns, column_types)
    excluded = {c: f"type {types[c]!r}" for c in columns if types[c] not in TESTABLE_TYPES}
    for column in columns:
        if column in excluded:
            continue
        if not _has_values(reference_df[column]):
            excluded[column] = "no values in reference"
        elif not _has_values(current_df[column]):
            excluded[column] = "no values in current"
    if excluded:
        warnings.warn(f"run_evidently leaves out {excluded}", stacklevel=2)
    tested = [c for c in columns if c not in excluded]
    if not tested:
        raise ValueError(f"no column left for Evidently to test: {excluded}")

    definition = DataDefinition(
        numerical_columns=[c for c in tested if types[c] == "num"],
        categorical_columns=[c for c in tested if types[c] == "cat"],
        text_columns=[],
        datetime_columns=[],
        unknown_columns=[],
        list_columns=[],
    )
    numeric = definition.numerical_columns
    reference = Dataset.from_pandas(_plain(reference_df[tested], numeric),
                                    data_definition=definition)
    current = Dataset.from_pandas(_plain(current_df[tested], numeric),
                                  data_definition=definition)
    report = Report([DataDriftPreset(columns=tested, drift_share=drift_share)], include_tests=True)
    return report.run(current_data=current, reference_data=reference)


def _plain(frame: pd.DataFrame, numeric: list[str]) -> pd.DataFrame:
    """Numeric columns of pandas' nullable types (Int64) as float64, missing as NaN: Evidently
    correlates the numeric columns with NumPy, which cannot read pd.NA."""
    nullable = [c for c in numeric if isinstance(frame[c].dtype, pd.api.extensions.ExtensionDtype)]
    if not nullable:
        return frame
    return frame.assign(**{c: pd.to_numeric(frame[c]).astype("float64") for c in nullable})


def _method_ids() -> dict[str, str]:
    # snapshots name the method by display name ("K-S p_value"); map it back to the test id
    from evidently.legacy.calculations import stattests
    from evidently.legacy.calculations.stattests.registry import StatTest

    return {
        test.display_name: test.name
        for test in vars(stattests).values()
        if isinstance(test, StatTest) and test.name
    }


def evidently_column_results(snapshot) -> dict[str, Any]:
    """Parse a DataDriftPreset snapshot into plain per-column and dataset results.

    Returns::

        {"columns": {column: {"method", "score", "threshold", "drifted"}},
         "drifted_count": int, "share": float, "drift_share": float, "dataset_drift": bool}

    Reads ``snapshot.dict()``: each ``ValueDrift`` metric (config ``column``/``method``/
    ``threshold``, value = score) and the ``DriftedColumnsCount`` metric (value
    ``{count, share}``, config ``drift_share``). ``drifted`` is the status of the column's
    "drift" test when the report ran with tests (FAIL = drifted), else the test's own rule.
    """
    data = snapshot.dict()
    ids = _method_ids()
    columns: dict[str, dict[str, Any]] = {}
    column_by_metric: dict[str, str] = {}
    count = share = None
    drift_share = 0.5
    for metric in data.get("metrics", []):
        config = metric.get("config", {})
        kind = str(config.get("type", ""))
        if kind.endswith(":ValueDrift"):
            column = config["column"]
            method = ids.get(config.get("method"), config.get("method"))
            threshold = config.get("threshold")
            if threshold is None:
                threshold = DEFAULT_THRESHOLDS.get(method)
            columns[column] = {
                "method": method,
                "score": float(metric["value"]),
                "threshold": float(threshold),
                "drifted": None,
            }
            column_by_metric[metric["id"]] = column
        elif kind.endswith(":DriftedColumnsCount"):
            count = int(metric["value"]["count"])
            share = float(metric["value"]["share"])
            drift_share = float(config.get("drift_share", drift_share))
    for test in data.get("tests", []):
        column = column_by_metric.get(test.get("metric_config", {}).get("metric_id"))
        if column is not None and test.get("id") == "drift":
            columns[column]["drifted"] = str(test.get("status")).upper().endswith("FAIL")
    for result in columns.values():
        if result["drifted"] is None:
            result["drifted"] = is_drifted(result["method"], result["score"], result["threshold"])
    if count is None:
        count = sum(r["drifted"] for r in columns.values())
        share = count / len(columns) if columns else 0.0
    return {
        "columns": columns,
        "drifted_count": count,
        "share": share,
        "drift_share": drift_share,
        "dataset_drift": bool(columns) and share >= drift_share,
    }


def _sample_rows(frame: pd.DataFrame, max_rows: int, rng: np.random.Generator) -> pd.DataFrame:
    if len(frame) <= max_rows:
        return frame
    # sorted positions keep the row (time) order that Evidently's index-binned plots show
    positions = np.sort(rng.choice(len(frame), size=max_rows, replace=False))
    return frame.iloc[positions]


def _static(name: str) -> Path:
    import evidently

    return Path(evidently.__path__[0]) / "nbextension" / "static" / name


def _save_sharing_library(snapshot, target: Path) -> None:
    """Write the report with Evidently's 3.5 MB script and 0.1 MB font as files beside it
    (``js/``), shared by every report of the folder, instead of inside each page: a month's
    report is then its data, tens of kilobytes rather than 3.8 MB. Evidently's own
    ``save_html`` inlines both; if its page stops containing them as this expects, the page is
    written whole, as Evidently makes it."""
    import base64

    import evidently

    page = snapshot.get_html_str(as_iframe=False)
    script = _static("index.js").read_text(encoding="utf-8")
    font = base64.b64encode(_static("material-ui-icons.woff2").read_bytes()).decode()
    library = f"js/evidently.{evidently.__version__}.js"
    shared = page.replace(f"<script>{script}</script>", f'<script src="{library}"></script>', 1)
    shared = shared.replace(f"url(data:font/ttf;base64,{font})", "url(js/material-icons.woff2)",
                            1)
    if shared.count(library) == 1 and "js/material-icons.woff2" in shared:
        folder = target.parent / "js"
        folder.mkdir(exist_ok=True)
        for source, name in ((_static("index.js"), library), (
                _static("material-ui-icons.woff2"), "js/material-icons.woff2")):
            destination = target.parent / name
            if not destination.exists() or destination.stat().st_size != source.stat().st_size:
                _replace(destination, source.read_bytes())  # never half a library
        page = shared
    _replace(target, page.encode("utf-8"))


def _replace(path: Path, content: bytes) -> None:
    # a name of its own per writer: two months written at once each replace the file whole
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    partial.write_bytes(content)
    partial.replace(path)


def save_evidently_html(
    reference_df: pd.DataFrame,
    current_df: pd.DataFrame,
    columns: Sequence[str] | None,
    path: str | Path,
    max_rows: int = 100_000,
    seed: int = 0,
    **kw: Any,
) -> dict[str, Any]:
    """Write Evidently's DataDriftPreset HTML report to ``path``, its script and font shared
    in ``js/`` beside it.

    A side with more than ``max_rows`` rows is replaced by a uniform random sample of
    ``max_rows`` rows (seeded, row order kept): rendering is what makes Evidently slow and
    heavy at millions of rows, and the report is for looking at. Column types are resolved on
    the *full* reference first, so sampling cannot change a column's type. ``kw`` goes to
    :func:`run_evidently` (``drift_share``, ``column_types``).

    Returns ``{"path", "sampled", "reference_rows_used", "current_rows_used"}``.
    """
    columns = list(reference_df.columns) if columns is None else list(columns)
    _require_columns(reference_df, columns, "reference")
    kw["column_types"] = _resolve_types(reference_df, columns, kw.get("column_types"))
    rng = np.random.default_rng(seed)
    reference_used = _sample_rows(reference_df, max_rows, rng)
    current_used = _sample_rows(current_df, max_rows, rng)
    # Evidently's own chi-square divides by zero for a value the reference never had (its
    # verdict is right: drift); the warning says nothing to the person reading the report.
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        snapshot = run_evidently(reference_used, current_used, columns, **kw)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _save_sharing_library(snapshot, target)
    return {
        "path": str(target),
        "sampled": len(reference_used) < len(reference_df) or len(current_used) < len(current_df),
        "reference_rows_used": int(len(reference_used)),
        "current_rows_used": int(len(current_used)),
    }
