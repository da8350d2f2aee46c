"""``drift-assets models``: list the registry, roll back by hand."""

from __future__ import annotations

import sys

ROLLBACK = "drift-assets models rollback"


def run_models(args) -> int:
    """``models list`` and ``models rollback [VERSION]`` on the configured registry and store."""
    from dagster import build_resources as open_resources

    from drift_assets.lib.lifecycle import roll_back
    from drift_assets.lib.messages import Alert
    from drift_assets.lib.registry import ModelRegistry
    from drift_assets.resources import build_resources

    with open_resources(build_resources()) as resources:
        registry = ModelRegistry(resources.warehouse.engine)
        if args.action == "list":
            table = registry.table()
            print(table.to_string(index=False) if len(table) else "no model registered yet")
            return 0
        try:
            target = (registry.get(args.version) if args.version is not None
                      else registry.previous_production())
        except KeyError as exc:
            print(f"{ROLLBACK}: {exc.args[0]}", file=sys.stderr)
            return 2
        if target is None:
            print(f"{ROLLBACK}: no earlier production version", file=sys.stderr)
            return 2
        current = registry.production()
        was = f"v{current.version}" if current else "v-"
        try:
            roll_back(registry, resources.model_store, target, detail=f"by hand from {was}")
        except (ValueError, OSError) as exc:  # the file's checksum differs, or it is unreadable
            print(f"{ROLLBACK}: v{target.version} refused: {exc}", file=sys.stderr)
            return 2
        resources.notifier.notify_safely(Alert(
            title=f"Model rolled back to v{target.version} by hand", kind="rollback",
            action=f"v{target.version} is production; {was} retired"))
        print(f"v{target.version} is production (checksum {target.sha256[:12]} verified)")
        return 0
