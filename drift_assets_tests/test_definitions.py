"""The whole Definitions object loads, and its wiring is what the design card says."""

from dagster import AssetKey

import drift_assets
from drift_assets.definitions import defs


def test_definitions_load_and_are_importable_from_the_package():
    assert drift_assets.defs is defs
    repository = defs.get_repository_def()
    assert {j for j in repository.job_names if not j.startswith("__")} == {
        "monthly_drift_job", "reference_job", "training_job"}
    assert [s.name for s in repository.schedule_defs] == ["weekly_drift_schedule"]
    assert [s.name for s in repository.sensor_defs] == ["drift_sensor"]


def test_lineage_links_the_four_design_card_assets():
    graph = defs.resolve_asset_graph()
    parents = {key.to_user_string(): {p.to_user_string() for p in graph.get(key).parent_keys}
               for key in graph.get_all_asset_keys()}
    assert parents["reference_table"] == set()
    assert parents["current_data"] == set()
    assert parents["data_quality_report"] == {"reference_table", "current_data"}
    assert parents["drift_report"] == {"reference_table", "current_data", "data_quality_report"}
    assert parents["trained_model"] == {"reference_table", "current_data"}


def test_every_asset_has_a_docstring_group_and_kinds():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description, key
        assert node.group_name != "default", key
        assert any(tag.startswith("dagster/kind/") for tag in node.tags), key


def test_monthly_partitions_start_in_2011():
    node = defs.resolve_asset_graph().get(AssetKey("current_data"))
    keys = node.partitions_def.get_partition_keys()
    assert keys[0] == "2011-01-01" and "2012-12-01" in keys
