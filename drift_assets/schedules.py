"""The weekly schedule of one dataset: every Monday at 11:00, check the month in progress."""

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from drift_assets.monitored import Monitored

CRON = "0 11 * * MON"


def build_schedule(monitored: Monitored, monthly_job):
    """Every Monday 11:00 UTC, ``monthly_job`` on the month that holds the scheduled time."""
    partitions = monitored.partitions

    @schedule(
        name=f"{monitored.name}__weekly_drift_schedule",
        cron_schedule=CRON,
        job=monthly_job,
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.RUNNING,
        description=f"{monitored.name}: every Monday 11:00 UTC, load, check and compare the "
        "current month.",
    )
    def weekly_drift_schedule(context: ScheduleEvaluationContext):
        """Request the partition of the month that holds the scheduled time, once per tick."""
        scheduled = context.scheduled_execution_time
        month = scheduled.strftime("%Y-%m-01")
        keys = partitions.get_partition_keys(current_time=scheduled)
        if month not in keys:
            first = partitions.start.strftime("%Y-%m-%d")
            span = f"{first} .. {keys[-1]}" if keys else f"start {first}"
            return SkipReason(f"month {month} is not a partition of {monitored.name} "
                              f"(partitions {span})")
        return RunRequest(partition_key=month, run_key=f"{month}@{scheduled:%Y-%m-%dT%H:%M}")

    return weekly_drift_schedule
