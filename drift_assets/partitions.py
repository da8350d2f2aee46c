"""The one partitioning of the project: calendar months from the first month of the data."""

from dagster import MonthlyPartitionsDefinition

# end_offset=1 keeps the month in progress as a partition, so the weekly schedule can check it.
monthly_partitions = MonthlyPartitionsDefinition(start_date="2011-01-01", end_offset=1)
