"""The datasets a command works on: the one ``--dataset`` names, or every declared one."""

from __future__ import annotations


class UnknownDataset(ValueError):
    """--dataset names a dataset the declaration does not."""


def chosen(name: str | None):
    """The definitions of this environment and the datasets to work on, in declaration
    order; :class:`UnknownDataset` when ``name`` is not declared."""
    from drift_assets.datasets import monitored_datasets
    from drift_assets.definitions import build_defs
    from drift_assets.settings import load_settings

    settings = load_settings()
    # built now, from the environment of this call (the module-level defs keep the one of the
    # first import)
    defs = build_defs()
    monitored = monitored_datasets(settings)
    if name is None:
        return defs, monitored
    picked = [m for m in monitored if m.name == name]
    if not picked:
        raise UnknownDataset(f"--dataset {name!r} is not declared in {settings.config_path}; "
                             f"declared: {', '.join(m.name for m in monitored)}")
    return defs, picked
