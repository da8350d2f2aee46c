"""The whole Definitions object loads, and its wiring is what the design card says."""

from dagster import AssetKey

import drift_assets
from drift_assets.definitions import defs
from drift_assets_tests.graph import BIKE, TICKETS, job, key

DATASETS = (BIKE.name, TICKETS.name)  # the declaration's, in its order


def test_definitions_load_and_are_importable_from_the_package():
    assert drift_assets.defs is defs
    repository = defs.get_repository_def()
    assert {j for j in repository.job_names if not j.startswith("__")} == {
        f"{d}__{j}" for d in DATASETS
        for j in ("monthly_drift_job", "reference_job", "training_job")}
    assert [s.name for s in repository.schedule_defs] == [
        f"{d}__weekly_drift_schedule" for d in DATASETS]
    # the S3 arrival sensor exists only where a bucket is configured
    assert [s.name for s in repository.sensor_defs] == [f"{d}__drift_sensor" for d in DATASETS]


def test_a_bucket_adds_each_datasets_s3_arrival_sensor():
    from drift_assets.definitions import build_defs

    repository = build_defs({"DRIFT_S3_BUCKET": "b"}).get_repository_def()
    assert sorted(s.name for s in repository.sensor_defs) == sorted(
        f"{d}__{s}" for d in DATASETS for s in ("drift_sensor", "s3_arrival_sensor"))


def test_lineage_links_the_four_design_card_assets():
    graph = defs.resolve_asset_graph()
    parents = {k.to_user_string(): {p.to_user_string() for p in graph.get(k).parent_keys}
               for k in graph.get_all_asset_keys()}
    # each dataset's graph is its own: no edge from one dataset's assets to another's
    for child, linked in parents.items():
        assert {p.split("/")[0] for p in linked} <= {child.split("/")[0]}, child
    b = {name: key(name).to_user_string() for name in (
        "reference_table", "current_data", "data_quality_report", "reference_profile",
        "drift_report", "trained_model", "model_performance")}
    assert parents[b["reference_table"]] == set()
    # a month is read with the schema its dataset's reference_table saved
    assert parents[b["current_data"]] == {b["reference_table"]}
    assert parents[b["data_quality_report"]] == {b["reference_table"], b["current_data"]}
    # the default fixed reference
    assert parents[b["reference_profile"]] == {b["reference_table"]}
    assert parents[b["drift_report"]] == {b["reference_table"], b["current_data"],
                                          b["data_quality_report"], b["reference_profile"]}
    assert parents[b["trained_model"]] == {b["reference_table"], b["current_data"]}
    assert parents[b["model_performance"]] == {b["current_data"], b["data_quality_report"],
                                               b["trained_model"]}


def test_rolling_and_seasonal_references_map_to_earlier_months():
    from drift_assets.definitions import build_defs

    for spec, expected in [("rolling:3", ["2011-04-01", "2011-05-01", "2011-06-01"]),
                           ("seasonal", ["2010-07-01"]), ("seasonal", ["2011-07-01"])]:
        month = "2012-07-01" if expected == ["2011-07-01"] else "2011-07-01"
        graph = build_defs({"DRIFT_REFERENCE": spec}).resolve_asset_graph()
        node = graph.get(key("reference_profile"))
        assert key("current_data") in node.parent_keys
        mapping = node.partition_mappings[key("current_data")]
        upstream = mapping.get_upstream_mapped_partitions_result_for_partitions(
            node.partitions_def.subset_with_partition_keys([month]), node.partitions_def,
            node.partitions_def,
        )
        keys = sorted(upstream.partitions_subset.get_partition_keys())
        assert keys == [k for k in expected if k >= "2011-01-01"], spec


def test_a_changed_reference_or_threshold_changes_the_code_versions():
    from drift_assets.definitions import build_defs

    def versions(env):
        graph = build_defs(env).resolve_asset_graph()
        return {k: graph.get(key(k)).code_version
                for k in ("reference_profile", "drift_report", "current_data")}

    base = versions({})
    seasonal = versions({"DRIFT_REFERENCE": "seasonal"})
    calibrated = versions({"DRIFT_THRESHOLDS": "calibrated"})
    share = versions({"DRIFT_SHARE": "0.3"})
    assert seasonal["reference_profile"] != base["reference_profile"]
    assert seasonal["drift_report"] != base["drift_report"]
    assert calibrated["drift_report"] != base["drift_report"]
    assert share["drift_report"] != base["drift_report"]
    assert share["reference_profile"] == base["reference_profile"]
    assert base["current_data"] == seasonal["current_data"]


def test_every_asset_has_a_docstring_group_and_kinds():
    graph = defs.resolve_asset_graph()
    for asset_key in graph.get_all_asset_keys():
        node = graph.get(asset_key)
        assert node.description, asset_key
        assert node.group_name != "default", asset_key
        assert any(tag.startswith("dagster/kind/") for tag in node.tags), asset_key


def test_monthly_partitions_start_in_2011():
    node = defs.resolve_asset_graph().get(key("current_data"))
    keys = node.partitions_def.get_partition_keys()
    assert keys[0] == "2011-01-01" and "2012-12-01" in keys
    # each dataset's months start at its declared start
    tickets = defs.resolve_asset_graph().get(AssetKey([TICKETS.name, "current_data"]))
    assert tickets.partitions_def.get_partition_keys()[0] == "2023-01-01"


def _production_home(tmp_path):
    import shutil
    from pathlib import Path

    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(Path(__file__).resolve().parents[1] / "dagster.yaml", home / "dagster.yaml")
    return {"DAGSTER_HOME": str(home), "DAGSTER_PG_HOST": "db", "DAGSTER_PG_PORT": "5432",
            "DAGSTER_PG_USER": "dagster", "DAGSTER_PG_PASSWORD": "", "DAGSTER_PG_DB": "dagster"}


def test_the_default_executor_needs_no_celery(monkeypatch):
    import sys

    from drift_assets.definitions import build_defs

    monkeypatch.delitem(sys.modules, "dagster_celery", raising=False)
    monkeypatch.delitem(sys.modules, "celery", raising=False)
    for env, name in (({}, "multi_or_in_process_executor"),
                      ({"DRIFT_EXECUTOR": "in_process"}, "in_process")):
        monthly = build_defs(env).resolve_job_def(job("monthly_drift_job"))
        assert monthly.executor_def.name == name
    assert "dagster_celery" not in sys.modules and "celery" not in sys.modules


def test_celery_keeps_the_broker_url_out_of_the_config(tmp_path):
    from drift_assets.definitions import build_defs

    env = {**_production_home(tmp_path), "DRIFT_EXECUTOR": "celery",
           "DRIFT_WAREHOUSE_URL": "postgresql://drift:pw@db/warehouse", "DRIFT_S3_BUCKET": "b",
           "DRIFT_CELERY_BROKER": "amqp://drift:SECRET@rabbitmq:5672/drift",
           "DRIFT_CELERY_BACKEND": "redis://redis:6379/0"}
    executor = build_defs(env).resolve_job_def(job("monthly_drift_job")).executor_def
    assert executor.name == "celery"
    # The executor is configured with the variables' names; the URLs are read when a run starts.
    configured = executor.config_schema._config_fn({})
    assert configured["broker"] == {"env": "DRIFT_CELERY_BROKER"}
    assert configured["backend"] == {"env": "DRIFT_CELERY_BACKEND"}
    assert configured["config_source"]["task_acks_late"] is True
    assert "SECRET" not in repr(configured)


def test_celery_refuses_to_load_naming_every_problem(tmp_path):
    import pytest

    from drift_assets.definitions import build_defs

    with pytest.raises(ValueError) as raised:
        build_defs({"DRIFT_EXECUTOR": "celery",
                    "DRIFT_WAREHOUSE_URL": "sqlite:////secret-path/warehouse.db"})
    message = str(raised.value)
    for name in ("DAGSTER_HOME", "DRIFT_WAREHOUSE_URL is a sqlite URL", "DRIFT_S3_BUCKET",
                 "DRIFT_CELERY_BROKER"):
        assert name in message
    assert "secret-path" not in message  # a URL is named, never printed

    sqlite_home = tmp_path / "sqlite_home"
    sqlite_home.mkdir()
    (sqlite_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    pg = _production_home(tmp_path)
    cases = [
        ({"DAGSTER_HOME": str(sqlite_home)}, "keeps runs and events in SQLite"),
        ({"DAGSTER_HOME": str(tmp_path / "nowhere")}, "has no dagster.yaml"),
        ({k: v for k, v in pg.items() if k != "DAGSTER_PG_HOST"}, "reads DAGSTER_PG_HOST"),
    ]
    base = {"DRIFT_EXECUTOR": "celery", "DRIFT_WAREHOUSE_URL": "postgresql://db/w",
            "DRIFT_S3_BUCKET": "b", "DRIFT_CELERY_BROKER": "amqp://rabbitmq//"}
    for env, expected in cases:
        with pytest.raises(ValueError, match=expected):
            build_defs({**base, **env})
    with pytest.raises(ValueError, match="DRIFT_EXECUTOR='dask-ish' is not known"):
        build_defs({"DRIFT_EXECUTOR": "dask-ish"})


def test_the_package_is_a_code_location_named_drift_assets_with_owners_and_tags():
    """`dagster dev -m drift_assets` finds the Definitions (Dagster lists the package's members),
    workspace.yaml names the location drift_assets, and every asset carries its dataset's
    declared owners and tags naming the dataset and the stage."""
    import inspect

    import yaml
    from dagster import Definitions

    import drift_assets
    from drift_assets.settings import PROJECT_ROOT

    found = [v for _, v in inspect.getmembers(drift_assets) if isinstance(v, Definitions)]
    assert len(found) == 1
    workspace = yaml.safe_load((PROJECT_ROOT / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["python_module"]["location_name"] == "drift_assets"
    stages = {"reference_table": "ingest", "current_data": "ingest",
              "data_quality_report": "quality", "reference_profile": "drift",
              "drift_report": "drift", "trained_model": "model", "model_performance": "model",
              "alert_backtest": "drift"}
    owners = {"bike_sharing": ["team:demand-forecasting"],
              "support_tickets": ["team:support-analytics"]}
    specs = [s for a in found[0].assets for s in a.specs]
    assert len(specs) == 16
    for spec in specs:
        dataset, name = spec.key.path
        assert spec.owners == owners[dataset], spec.key
        assert spec.tags["dataset"] == dataset and spec.tags["stage"] == stages[name]
