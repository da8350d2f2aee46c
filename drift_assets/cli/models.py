"""``drift-assets models``: list each dataset's registry, roll back by hand."""

from __future__ import annotations

import sys

ROLLBACK = "drift-assets models rollback"


def run_models(args) -> int:
    """``models list`` and ``models rollback [VERSION]`` on the configured registries and
    store: every dataset with a model, or the one ``--dataset`` names."""
    from dagster import build_resources as open_resources

    from drift_assets.cli.datasets import UnknownDataset, chosen
    from drift_assets.lib.registry import ModelRegistry

    try:
        defs, monitored = chosen(args.dataset)
    except UnknownDataset as exc:
        print(f"drift-assets models {args.action}: {exc}", file=sys.stderr)
        return 2
    modelled = [m for m in monitored if m.dataset.model is not None]
    if not modelled:
        print(f"drift-assets models {args.action}: no dataset here declares a model",
              file=sys.stderr)
        return 2
    with open_resources(defs.resources) as resources:
        if args.action == "list":
            for m in modelled:
                table = ModelRegistry(m.store(resources.warehouse).engine).table()
                body = table.to_string(index=False) if len(table) else \
                    "no model registered yet"
                print(f"{m.name}\n{body}" if len(modelled) > 1 else body)
            return 0
        if len(modelled) > 1:
            print(f"{ROLLBACK}: name the dataset with --dataset "
                  f"({', '.join(m.name for m in modelled)})", file=sys.stderr)
            return 2
        return _roll_back(args.version, modelled[0], resources)


def _roll_back(version: int | None, monitored, resources) -> int:
    from drift_assets.lib.lifecycle import roll_back
    from drift_assets.lib.messages import Alert
    from drift_assets.lib.registry import ModelRegistry

    registry = ModelRegistry(monitored.store(resources.warehouse).engine)
    try:
        target = registry.get(version) if version is not None else \
            registry.previous_production()
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
    monitored.notifier(resources.notifier).notify_safely(Alert(
        title=f"{monitored.name}: model rolled back to v{target.version} by hand",
        kind="rollback", action=f"v{target.version} is production; {was} retired"))
    print(f"{monitored.name}: v{target.version} is production "
          f"(checksum {target.sha256[:12]} verified)")
    return 0
