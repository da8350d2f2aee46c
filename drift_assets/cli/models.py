"""``drift-assets models``: list the registry, roll back by hand."""

from __future__ import annotations

import sys


def run_models(args) -> int:
    """``models list`` and ``models rollback [VERSION]`` on the configured registry and store."""
    from dagster import build_resources as open_resources

    from drift_assets.assets.model import load_model
    from drift_assets.lib.messages import Alert
    from drift_assets.lib.registry import ModelRegistry
    from drift_assets.resources import build_resources

    with open_resources(build_resources()) as resources:
        registry = ModelRegistry(resources.warehouse.engine)
        if args.action == "list":
            table = registry.table()
            print(table.to_string(index=False) if len(table) else "no model registered yet")
            return 0
        current = registry.production()
        target = registry.get(args.version) if args.version else registry.previous_production()
        if target is None:
            print("drift-assets models rollback: no earlier production version", file=sys.stderr)
            return 2
        try:
            load_model(target, resources.model_store)  # refuses a file whose checksum differs
        except (ValueError, OSError) as exc:
            print(f"drift-assets models rollback: v{target.version} refused: {exc}",
                  file=sys.stderr)
            return 2
        detail = f"by hand from v{current.version if current else '-'}"
        if current is not None:
            registry.record_event(current.version, "rolled_back", detail)
        registry.promote(target.version, event="rolled_back_to", detail=detail)
        resources.notifier.notify_safely(Alert(
            title=f"Model rolled back to v{target.version} by hand", kind="rollback",
            action=f"v{target.version} is production; "
                   f"v{current.version if current else '-'} retired"))
        print(f"v{target.version} is production (checksum {target.sha256[:12]} verified)")
        return 0
