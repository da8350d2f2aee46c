"""Jobs of one dataset: the monthly checks (partitioned), the reference, and retraining."""

from dagster import AssetSelection, define_asset_job

from drift_assets.monitored import Monitored

MONTHLY = ["current_data", "data_quality_report", "reference_profile", "drift_report",
           "model_performance"]


def build_jobs(monitored: Monitored, modelled: bool) -> dict:
    """``monthly_drift_job``, ``reference_job`` and (with a model) ``training_job`` of one
    dataset, named ``<dataset>__<job>``."""
    monthly = [a for a in MONTHLY if modelled or a != "model_performance"]
    jobs = {
        "monthly_drift_job": define_asset_job(
            monitored.job_name("monthly_drift_job"),
            selection=AssetSelection.assets(*(monitored.key(k) for k in monthly)),
            description=f"{monitored.name}: load one month, check its quality, its drift"
            + (" and the production model's error." if modelled else "."),
        ),
        "reference_job": define_asset_job(
            monitored.job_name("reference_job"),
            selection=AssetSelection.assets(monitored.key("reference_table")),
            description=f"{monitored.name}: rebuild the reference table from the configured "
            "reference months.",
        ),
    }
    if modelled:
        jobs["training_job"] = define_asset_job(
            monitored.job_name("training_job"),
            selection=AssetSelection.assets(monitored.key("trained_model")),
            description=f"{monitored.name}: retrain the model and store it as a new version.",
        )
    return jobs
