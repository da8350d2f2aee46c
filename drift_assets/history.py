"""Reading an asset's materialization history from the instance, page by page."""

from collections.abc import Iterator

from dagster import AssetKey, AssetRecordsFilter, DagsterInstance, EventLogRecord

PAGE = 1000


def materializations(instance: DagsterInstance, key: AssetKey, after: int | None = None
                     ) -> Iterator[EventLogRecord]:
    """Every materialization record of ``key`` after storage id ``after``, oldest first."""
    while True:
        page = instance.fetch_materializations(
            AssetRecordsFilter(asset_key=key, after_storage_id=after), limit=PAGE, ascending=True
        )
        yield from page.records
        if len(page.records) < PAGE:
            return
        after = page.records[-1].storage_id
