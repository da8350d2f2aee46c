"""The drift engine on a real Dask cluster (a scheduler and three worker processes) gives the
single-process engine's verdicts and scores, whatever the pieces the months come in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drift_assets.engine import detect_drift
from drift_assets.engine.distributed import detect_drift_distributed
from drift_assets_tests.graph import BIKE, node
from drift_assets_tests.test_engine import bike_frame

pytestmark = pytest.mark.scaleout

REL = 1e-9


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=3, threads_per_worker=1, processes=True,
                      dashboard_address=None, memory_limit="1GiB") as cluster, \
            Client(cluster) as client:
        yield client


def months(seed: int, n_ref: int, n_cur: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Missing values, +-inf, categories, strings, booleans, integers and floats; plus a
    column with 15 values in the reference and thousands in the current (per-value PSI bins
    against a many-valued month)."""
    reference = bike_frame(n_ref, seed, missing=0.1)
    current = bike_frame(n_cur, seed + 1, shift=0.05, missing=0.1)
    rng = np.random.default_rng(seed)
    reference["level"] = rng.integers(0, 15, n_ref).astype(float)
    current["level"] = rng.random(n_cur) * 15
    return reference, current


def write_pieces(frame: pd.DataFrame, folder, cuts: list[int]) -> None:
    folder.mkdir(parents=True)
    bounds = [0, *sorted(set(cuts)), len(frame)]
    for i, (start, stop) in enumerate(zip(bounds, bounds[1:], strict=False)):
        frame.iloc[start:stop].to_parquet(folder / f"part-{i:03d}.parquet", index=False)


def assert_same(distributed, single) -> None:
    assert distributed.skipped == single.skipped
    assert [c.column for c in distributed.columns] == [c.column for c in single.columns]
    for ours, theirs in zip(distributed.columns, single.columns, strict=True):
        where = f"{ours} vs {theirs}"
        assert (ours.method, ours.drifted, ours.threshold) == \
            (theirs.method, theirs.drifted, theirs.threshold), where
        assert ours.score == pytest.approx(theirs.score, rel=REL, abs=1e-300), where
        for name in ("psi", "ks_statistic", "reference_missing_share", "current_missing_share"):
            a, b = getattr(ours, name), getattr(theirs, name)
            assert (a is None) == (b is None), where
            if a is not None:
                assert a == pytest.approx(b, rel=REL), f"{name}: {where}"
    assert distributed.dataset_drift == single.dataset_drift


@pytest.mark.parametrize("n_ref, n_cur", [(30_000, 25_000), (900, 25_000), (3_000, 2_000)])
def test_cluster_equals_single_process(client, tmp_path, n_ref, n_cur):
    """Large (Dask's sort), small reference with a large month (K-S, asymptotic) and small
    months (SciPy's exact K-S on the gathered values); at least two workers did the work."""
    from distributed import get_task_stream

    reference, current = months(1, n_ref, n_cur)
    write_pieces(reference, tmp_path / "ref", [n_ref // 3, n_ref // 2])
    write_pieces(current, tmp_path / "cur", [n_cur // 5])
    with get_task_stream(client) as stream:
        distributed = detect_drift_distributed(
            str(tmp_path / "ref"), str(tmp_path / "cur" / "*.parquet"), client=client)
    assert len({task["worker"] for task in stream.data}) >= 2
    single = detect_drift(pd.read_parquet(tmp_path / "ref"), pd.read_parquet(tmp_path / "cur"))
    assert len(single.columns) == len(reference.columns)  # every column tested, none skipped
    assert_same(distributed, single)


REFERENCE, CURRENT = months(7, 12_000, 11_000)
SINGLE = detect_drift(REFERENCE, CURRENT)


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ref_cuts=st.lists(st.integers(1, len(REFERENCE) - 1), max_size=6),
       cur_cuts=st.lists(st.integers(1, len(CURRENT) - 1), max_size=6))
def test_any_chunking_gives_the_same_result(client, tmp_path_factory, ref_cuts, cur_cuts):
    folder = tmp_path_factory.mktemp("chunks")
    write_pieces(REFERENCE, folder / "ref", ref_cuts)
    write_pieces(CURRENT, folder / "cur", cur_cuts)
    assert_same(detect_drift_distributed(str(folder / "ref"), str(folder / "cur"),
                                         client=client), SINGLE)


def test_detect_command_on_folders_and_globs_with_and_without_the_cluster(
        client, tmp_path, capsys, monkeypatch):
    import json

    from drift_assets.cli import main

    reference, current = months(3, 20_000, 15_000)
    write_pieces(reference, tmp_path / "ref", [5_000, 12_000])
    write_pieces(current, tmp_path / "cur", [7_000])
    args = ["detect", str(tmp_path / "ref"), str(tmp_path / "cur" / "part-*.parquet"), "--json",
            "--columns", "temp", "hum", "cnt", "season", "city"]
    monkeypatch.delenv("DRIFT_DASK_SCHEDULER", raising=False)
    local_status = main(args)
    local = json.loads(capsys.readouterr().out)
    monkeypatch.setenv("DRIFT_DASK_SCHEDULER", client.scheduler.address)
    cluster_status = main(args)
    on_cluster = json.loads(capsys.readouterr().out)
    assert local_status == cluster_status == (1 if local["dataset_drift"] else 0)
    assert [c["column"] for c in local["columns"]] == ["temp", "hum", "cnt", "season", "city"]
    for ours, theirs in zip(on_cluster["columns"], local["columns"], strict=True):
        assert ours["score"] == pytest.approx(theirs["score"], rel=REL)
        assert ours["drifted"] == theirs["drifted"]
    assert main(["detect", str(tmp_path / "ref"), str(tmp_path / "none-*.parquet")]) == 2
    assert "no file matches" in capsys.readouterr().err


@pytest.mark.parametrize("thresholds", ["evidently", "calibrated"])
def test_drift_report_on_the_cluster_reads_the_warehouse_on_the_workers_and_agrees(
        client, pg_database, tmp_path, monkeypatch, thresholds):
    """The quality and drift assets with DRIFT_DASK_SCHEDULER, against PostgreSQL: the checks
    and scores equal the in-process run's, while this process never reads a month of the
    warehouse."""
    from dagster import instance_for_test, materialize

    from drift_assets.assets import build_assets
    from drift_assets.resources import build_resources
    from drift_assets.resources.warehouse import DatasetWarehouse

    url, _ = pg_database("dask")
    # 400 rows a day: 12,400 rows in a month, past the exact K-S path, so the columns go
    # through Dask's sort; partitions of ~3,000 rows are spread over the three workers.
    env = {"DRIFT_DATA_DIR": str(tmp_path / "data"), "DRIFT_WAREHOUSE_URL": url,
           "DRIFT_ROWS_PER_DAY": "400", "DRIFT_REFERENCE": "seasonal",
           "DRIFT_THRESHOLDS": thresholds}
    monkeypatch.setenv("DRIFT_WAREHOUSE_URL", url)
    runs = {}
    for where, scheduler in (("process", ""), ("cluster", client.scheduler.address)):
        resources = build_resources({**env, "DRIFT_DASK_SCHEDULER": scheduler})
        resources["cluster"] = resources["cluster"].model_copy(
            update={"partition_rows": 3_000, "sample_rows": 50_000})
        assets = build_assets(BIKE, resources["settings"])
        by_name = {a.key.path[-1]: a for a in assets}
        (tmp_path / where).mkdir()
        with instance_for_test(temp_dir=str(tmp_path / where)) as instance:
            materialize([by_name["reference_table"]], resources=resources, instance=instance)
            monthly = [by_name[n] for n in ("reference_table", "current_data",
                                            "data_quality_report", "reference_profile",
                                            "drift_report")]
            for month in ("2011-07", "2012-07"):
                if where == "cluster":
                    # every read of a month from here on is a worker's
                    monkeypatch.setattr(DatasetWarehouse, "read_month", _refuse)
                    monkeypatch.setattr(DatasetWarehouse, "read_reference", _refuse)
                    monkeypatch.setattr(DatasetWarehouse, "read_window", _refuse)
                # the cluster run checks the months the in-process run loaded
                result = materialize(monthly, selection=monthly[1 + (where == "cluster"):],
                                     resources=resources, instance=instance,
                                     partition_key=f"{month}-01")
                for name in ("drift_report", "data_quality_report"):
                    event = result.asset_materializations_for_node(node(name))[-1]
                    runs[where, month, name] = {k: v.value for k, v in event.metadata.items()}
                monkeypatch.undo()
                monkeypatch.setenv("DRIFT_WAREHOUSE_URL", url)
        resources["warehouse"].dispose()
        if where == "process":
            # the cluster run starts from this warehouse: months loaded, checks to redo
            _forget_profiles(url)
    for month in ("2011-07", "2012-07"):
        here = runs["process", month, "data_quality_report"]
        there = runs["cluster", month, "data_quality_report"]
        assert (there["passed"], there["summary"]) == (here["passed"], here["summary"])
        assert there["profile"] == here["profile"]  # the table, rounded to 4 digits
        assert there["max_missing_share"] == pytest.approx(here["max_missing_share"], rel=REL)
        here, there = runs["process", month, "drift_report"], runs["cluster", month, "drift_report"]
        assert there["current_rows"] == here["current_rows"] > 10_000
        assert there["reference_window"] == here["reference_window"]
        assert there["drift_detected"] == here["drift_detected"]
        assert there["drifted_columns"] == here["drifted_columns"]
        rows = {r.data["column"]: r.data for r in here["columns"].records}
        for record in there["columns"].records:
            mine = rows[record.data["column"]]
            assert (record.data["method"], record.data["drifted"]) == \
                (mine["method"], mine["drifted"])
            assert record.data["score"] == pytest.approx(mine["score"], rel=1e-6, abs=1e-6)
            assert record.data["threshold"] == pytest.approx(mine["threshold"], rel=REL)
        for key, value in here.items():
            if key.startswith(("effect/", "psi/", "ks_statistic/", "relations/error")):
                assert there[key] == pytest.approx(value, rel=REL), key
    assert runs["cluster", "2012-07", "drift_report"]["reference_window"] == "seasonal: 2011-07"
    assert runs["process", "2011-07", "drift_report"]["drift_detected"]  # July against January
    assert "outside the reference range" in runs["cluster", "2011-07", "data_quality_report"][
        "summary"]


def _refuse(*args, **kwargs):
    raise AssertionError("a month was read into the asset's process")


def _forget_profiles(url: str) -> None:
    """The bike dataset's stored profiles and window assignments dropped (its own schema)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM drift_bike_sharing.reference_windows"))
        conn.execute(sa.text("DELETE FROM drift_bike_sharing.reference_profiles"))
    engine.dispose()
