"""The weekly schedule: every Monday at 11:00, check the month in progress."""

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from drift_assets.jobs import monthly_drift_job
from drift_assets.partitions import monthly_partitions

CRON = "0 11 * * MON"


@schedule(
    cron_schedule=CRON,
    job=monthly_drift_job,
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Every Monday 11:00 UTC: load, check and compare the current month.",
)
def weekly_drift_schedule(context: ScheduleEvaluationContext):
    """Request the partition of the month that holds the scheduled time, once per tick."""
    scheduled = context.scheduled_execution_time
    month = scheduled.strftime("%Y-%m-01")
    keys = monthly_partitions.get_partition_keys(current_time=scheduled)
    if month not in keys:
        first = monthly_partitions.start.strftime("%Y-%m-%d")
        return SkipReason(f"month {month} is not a partition (partitions start {first})")
    return RunRequest(partition_key=month, run_key=f"{month}@{scheduled:%Y-%m-%dT%H:%M}")
