"""S3 on the wire: moto's S3 server on loopback, reached by boto3 over HTTP.

The model store's versions and checksums, an ``s3://`` source, and the arrival sensor that checks
an uploaded month at once.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from dagster import build_sensor_context

from drift_assets.definitions import build_defs
from drift_assets.lib.generator import generate_month
from drift_assets.lib.schema import BIKE as BIKE_SCHEMA
from drift_assets.lib.source import SourceError, load_month
from drift_assets.resources import LocalModelStore, S3ModelStore, build_resources
from drift_assets.sensors import build_arrival_sensor
from drift_assets_tests.graph import BIKE, job, key, node


@pytest.fixture
def store(s3):
    _, bucket = s3
    return S3ModelStore(bucket=bucket, prefix="ml/models")


def test_each_version_is_its_own_key_with_its_checksum_and_metadata(s3, store):
    client, bucket = s3
    first = store.save("demand", b"model one", {"alpha": 1.0, "holdout_rmsle": 0.31})
    second = store.save("demand", b"model two", {"alpha": 10.0, "holdout_rmsle": 0.29})
    assert (first.version, second.version) == (1, 2)
    assert second.uri == f"s3://{bucket}/ml/models/demand/v0002/model.joblib"
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == [f"ml/models/demand/v000{v}/{f}" for v in (1, 2)
                    for f in ("metadata.json", "model.joblib")]
    assert store.versions("demand") == [1, 2]
    metadata = json.loads(client.get_object(
        Bucket=bucket, Key="ml/models/demand/v0001/metadata.json")["Body"].read())
    assert metadata["sha256"] == hashlib.sha256(b"model one").hexdigest()
    assert metadata["alpha"] == 1.0 and metadata["holdout_rmsle"] == 0.31
    head = client.head_object(Bucket=bucket, Key="ml/models/demand/v0001/model.joblib")
    assert head["Metadata"]["sha256"] == metadata["sha256"]
    assert store.load("demand", 1) == b"model one"
    assert store.load("demand", 2, sha256=second.sha256) == b"model two"
    assert store.metadata("demand", 2)["version"] == 2


def test_an_existing_version_is_never_overwritten(s3, store):
    client, bucket = s3
    store.save("demand", b"original", {})
    key = "ml/models/demand/v0001/model.joblib"
    with pytest.raises(FileExistsError, match="never overwritten"):
        store._write(key, b"replacement")
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == b"original"


def test_a_writer_that_lost_the_race_is_refused_by_the_conditional_put(s3, store, monkeypatch):
    client, bucket = s3
    store.save("demand", b"winner", {})
    monkeypatch.setattr(S3ModelStore, "_exists", lambda self, key: False)  # head said: free
    with pytest.raises(FileExistsError, match="written meanwhile"):
        store._write("ml/models/demand/v0001/model.joblib", b"loser")
    body = client.get_object(Bucket=bucket, Key="ml/models/demand/v0001/model.joblib")["Body"]
    assert body.read() == b"winner"


def test_a_changed_model_file_is_refused_on_load(s3, store):
    client, bucket = s3
    saved = store.save("demand", b"good bytes", {})
    client.put_object(Bucket=bucket, Key=saved.key, Body=b"tampered")  # behind the store's back
    with pytest.raises(ValueError, match="checksum"):
        store.load("demand", 1)
    with pytest.raises(FileNotFoundError, match="no such object"):
        store.load("demand", 7, sha256="0" * 64)


def test_the_bucket_variable_chooses_the_s3_store(s3, tmp_path):
    _, bucket = s3
    base = {"DRIFT_DATA_DIR": str(tmp_path)}
    assert isinstance(build_resources(base)["model_store"], LocalModelStore)
    chosen = build_resources({**base, "DRIFT_S3_BUCKET": bucket, "DRIFT_S3_PREFIX": "team/m"})
    store = chosen["model_store"]
    assert isinstance(store, S3ModelStore)
    assert (store.bucket, store.prefix) == (bucket, "team/m")
    assert store.save("x", b"1", {}).uri == f"s3://{bucket}/team/m/x/v0001/model.joblib"


def _upload(client, bucket: str, key: str, month: str, seed: int = 0) -> str:
    body = generate_month(month, seed=seed).to_csv(index=False).encode()
    return client.put_object(Bucket=bucket, Key=key, Body=body)["ETag"].strip('"')


def test_a_month_is_read_from_an_s3_location(s3):
    client, bucket = s3
    _upload(client, bucket, "incoming/2011-07.csv", "2011-07")
    frame = load_month(f"s3://{bucket}/incoming/{{month}}.csv", "2011-07", BIKE_SCHEMA)
    assert len(frame) == 31 and str(frame["dteday"].min()) == "2011-07-01"
    with pytest.raises(SourceError, match=rf"s3://{bucket}/incoming/2011-08.csv: no such object"):
        load_month(f"s3://{bucket}/incoming/{{month}}.csv", "2011-08", BIKE_SCHEMA)
    with pytest.raises(SourceError, match="cannot be read from S3: NoSuchBucket"):
        load_month("s3://no-such-bucket-here/incoming/{month}.csv", "2011-07", BIKE_SCHEMA)


def _env(tmp_path, bucket: str, **more) -> dict[str, str]:
    return {"DRIFT_DATA_DIR": str(tmp_path / "data"), "DRIFT_S3_BUCKET": bucket,
            "DRIFT_SOURCE": f"s3://{bucket}/incoming/{{month}}.csv", **more}


def _sensor(defs):
    """The bike dataset's arrival sensor, as the definitions list it (with a bucket only)."""
    return defs.resolve_sensor_def(job("s3_arrival_sensor"))


def _tick(defs, instance, cursor=None, sensor=None):
    return (sensor or _sensor(defs)).evaluate_tick(build_sensor_context(
        instance=instance, cursor=cursor, resources=defs.resources, definitions=defs))


def test_without_a_bucket_the_arrival_sensor_skips_saying_so(env, instance):
    defs = build_defs(env)
    # not listed without a bucket; the sensor itself, given resources without one, says why
    assert job("s3_arrival_sensor") not in {s.name for s in defs.sensors}
    sensor = build_arrival_sensor(BIKE, defs.resolve_job_def(job("monthly_drift_job")))
    tick = _tick(defs, instance, sensor=sensor)
    assert tick.run_requests == []
    assert tick.skip_message == "DRIFT_S3_BUCKET is not set: no S3 prefix is watched for new files"


def test_an_upload_requests_its_month_once_and_a_re_upload_again(s3, tmp_path, instance):
    client, bucket = s3
    defs = build_defs(_env(tmp_path, bucket))
    empty = _tick(defs, instance)
    assert empty.run_requests == []
    assert f"under s3://{bucket}/incoming/ at all (0 object(s) listed)" in empty.skip_message

    etag = _upload(client, bucket, "incoming/2011-07.csv", "2011-07")
    _upload(client, bucket, "archive/2011-08.csv", "2011-08")  # outside the prefix
    tick = _tick(defs, instance, empty.cursor)
    [request] = tick.run_requests
    assert request.partition_key == "2011-07-01"
    assert request.run_key == f"incoming/2011-07.csv@{etag}"
    assert request.tags["drift_assets/s3_object"] == f"s3://{bucket}/incoming/2011-07.csv"
    assert _sensor(defs).job_name == job("monthly_drift_job")

    quiet = _tick(defs, instance, tick.cursor)
    assert quiet.run_requests == [] and "1 object(s) listed" in quiet.skip_message

    new_etag = _upload(client, bucket, "incoming/2011-07.csv", "2011-07", seed=3)
    again = _tick(defs, instance, quiet.cursor)
    assert [r.run_key for r in again.run_requests] == [f"incoming/2011-07.csv@{new_etag}"]
    assert new_etag != etag


def test_objects_that_name_no_checkable_month_are_skipped_with_the_reason(s3, tmp_path,
                                                                          instance):
    client, bucket = s3
    defs = build_defs(_env(tmp_path, bucket))
    client.put_object(Bucket=bucket, Key="incoming/readme.txt", Body=b"hello")
    _upload(client, bucket, "incoming/2010-05.csv", "2011-05")
    _upload(client, bucket, "incoming/2011-09.parquet", "2011-09")
    tick = _tick(defs, instance)
    assert tick.run_requests == []
    assert "incoming/readme.txt (no YYYY-MM in its name)" in tick.skip_message
    assert "incoming/2010-05.csv (2010-05 is not a partition)" in tick.skip_message
    assert (f"incoming/2011-09.parquet (the run would read s3://{bucket}/incoming/2011-09.csv"
            in tick.skip_message)


@pytest.mark.slow
def test_the_requested_run_checks_the_uploaded_month_from_s3(s3, tmp_path, instance):
    client, bucket = s3
    defs = build_defs(_env(tmp_path, bucket))
    _upload(client, bucket, "incoming/2011-01.csv", "2011-01")
    assert defs.resolve_job_def(job("reference_job")).execute_in_process(instance=instance).success
    cursor = _tick(defs, instance).cursor  # the reference month, already known
    _upload(client, bucket, "incoming/2011-07.csv", "2011-07")
    [request] = _tick(defs, instance, cursor).run_requests
    result = defs.resolve_job_def(job("monthly_drift_job")).execute_in_process(
        partition_key=request.partition_key, tags=request.tags, instance=instance)
    assert result.success
    for asset in ("current_data", "data_quality_report", "drift_report"):
        event = instance.get_latest_materialization_event(key(asset))
        assert event.asset_materialization.partition == "2011-07-01", asset
    ingest = result.asset_materializations_for_node(node("current_data"))[-1].metadata
    assert ingest["source"].value == f"s3://{bucket}/incoming/{{month}}.csv"
    assert ingest["dagster/row_count"].value == 31
    drift = result.asset_materializations_for_node(node("drift_report"))[-1].metadata
    assert drift["drift_detected"].value is True  # July against the January reference
