"""``drift-assets detect`` on Parquet files, one column at a time: the verdicts, scores and
messages are those of the engine on the whole frames, text comes as categories only where
Evidently would call it categorical, and only the columns compared are read."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pandas as pd
import pytest

from drift_assets.cli import main
from drift_assets.engine import build_profile, detect_drift
from drift_assets.engine.profile import CategoricalSummary
from drift_assets.lib import source


def _frame(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    colours = np.array(["red", "green", "blue", "amber"], dtype=object)
    frame = pd.DataFrame({
        "level": rng.normal(10 + shift, 2, rows),
        "count": rng.poisson(200, rows),
        "code": rng.integers(0, 4, rows),  # few values: categorical
        "colour": colours[rng.choice(4, rows, p=[0.4, 0.3, 0.2, 0.1] if not shift
                                     else [0.1, 0.2, 0.3, 0.4])],
        "note": [f"n{i}-{seed}" for i in range(rows)],  # every value its own: text
        "sparse": np.where(rng.random(rows) < 0.3, None, colours[rng.choice(4, rows)]),
    })
    frame.loc[::17, "level"] = np.nan
    frame.loc[::13, "colour"] = None
    return frame


def _detect(*argv: str) -> tuple[int, dict | None, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["detect", *argv, "--json"])
    return code, json.loads(out.getvalue()) if out.getvalue() else None, err.getvalue()


def _whole(reference: pd.DataFrame, current: pd.DataFrame, columns: list[str]) -> dict:
    """The engine on the whole frames, as the command computed it when it read them whole."""
    result = detect_drift(build_profile(reference, columns), current, columns)
    return json.loads(json.dumps(result.to_dict(), default=str))


def test_the_verdict_is_the_engines_on_the_whole_frames(tmp_path):
    reference, current = _frame(3000, 1), _frame(2500, 2, shift=0.8)
    reference.to_parquet(tmp_path / "ref.parquet", index=False)
    current.to_parquet(tmp_path / "cur.parquet", index=False)
    columns = ["level", "count", "code", "colour", "sparse"]
    code, result, _ = _detect(str(tmp_path / "ref.parquet"), str(tmp_path / "cur.parquet"),
                              "--columns", ",".join(columns))
    assert result == _whole(reference, current, columns)  # every score, to the last bit
    assert code == (1 if result["dataset_drift"] else 0) and "level" in result["drifted_columns"]
    assert {c["column"]: c["column_type"] for c in result["columns"]}["colour"] == "cat"


def test_a_folder_of_files_with_different_dictionaries_is_one_table(tmp_path):
    reference, current = _frame(3000, 1), _frame(3000, 3, shift=0.8)
    for name, frame in (("ref", reference), ("cur", current)):
        (tmp_path / name).mkdir()
        # a piece without amber, another with it: each file's dictionary is its own
        frame.iloc[:1000].assign(colour=frame["colour"].iloc[:1000].replace("amber", "red")) \
            .to_parquet(tmp_path / name / "a.parquet", index=False)
        frame.iloc[1000:].to_parquet(tmp_path / name / "b.parquet", index=False)
    columns = ["level", "colour", "code"]
    code, result, _ = _detect(str(tmp_path / "ref"), str(tmp_path / "cur"),
                              "--columns", ",".join(columns))
    whole = [pd.concat([pd.read_parquet(tmp_path / n / f) for f in ("a.parquet", "b.parquet")],
                       ignore_index=True) for n in ("ref", "cur")]
    assert result == _whole(*whole, columns) and code == (1 if result["dataset_drift"] else 0)


def test_text_and_empty_columns_are_refused_as_before(tmp_path):
    reference, current = _frame(500, 1), _frame(500, 2)
    reference["blank"] = current["blank"] = pd.Series([None] * 500, dtype=object)
    reference.to_parquet(tmp_path / "ref.parquet", index=False)
    current.to_parquet(tmp_path / "cur.parquet", index=False)
    code, _, err = _detect(str(tmp_path / "ref.parquet"), str(tmp_path / "cur.parquet"),
                           "--columns", "level,note,blank")
    assert code == 2
    assert "column 'note': column type 'text' is not tested" in err
    assert "column 'blank': column type 'unknown' is not tested" in err


def test_text_is_read_as_categories_only_where_evidently_would_call_it_categorical(tmp_path):
    frame = _frame(400, 1)
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    columns = source.ParquetColumns(str(tmp_path / "t.parquet"), [str(tmp_path / "t.parquet")])
    assert isinstance(columns.column("colour").dtype, pd.CategoricalDtype)
    assert columns.column("note").dtype == object  # more than half distinct: text
    assert columns.column("colour", categories=False).tolist() == frame["colour"].tolist()
    assert columns.column("level").equals(frame["level"])
    with pytest.raises(source.SourceError, match="t.parquet"):
        columns.column("absent")


def test_only_the_columns_compared_are_read(tmp_path, monkeypatch):
    _frame(300, 1).to_parquet(tmp_path / "ref.parquet", index=False)
    _frame(300, 2).to_parquet(tmp_path / "cur.parquet", index=False)
    read = []
    real = source.ParquetColumns.column

    def spy(self, name, categories=None):
        read.append(name)
        return real(self, name, categories)

    monkeypatch.setattr(source.ParquetColumns, "column", spy)
    code, _, _ = _detect(str(tmp_path / "ref.parquet"), str(tmp_path / "cur.parquet"),
                         "--columns", "level,colour")
    assert code in (0, 1) and sorted(read) == ["colour", "colour", "level", "level"]


def test_a_damaged_file_names_itself(tmp_path):
    _frame(300, 1).to_parquet(tmp_path / "ref.parquet", index=False)
    damaged = tmp_path / "cur.parquet"
    damaged.write_bytes(b"PAR1" + b"\0" * 100)
    code, _, err = _detect(str(tmp_path / "ref.parquet"), str(damaged))
    assert code == 2 and "cur.parquet: not a readable Parquet file" in err


def test_categories_count_in_the_order_strings_would():
    values = pd.Series(np.array(["b", None, "a", "c", "a", "b", None], dtype=object))
    strings, codes = (CategoricalSummary.from_series(values),
                      CategoricalSummary.from_series(values.astype("category")))
    assert strings.keys == codes.keys == ("b", "a", "c")
    assert strings.counts.tolist() == codes.counts.tolist() == [2, 2, 1]
    assert strings.n_missing == codes.n_missing == 2
