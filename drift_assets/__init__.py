"""drift_assets: a Dagster project that keeps models healthy as their production data drifts."""


def __getattr__(name: str):
    # Lazy, so that `drift_assets.engine` and `drift_assets.lib` import without Dagster's startup.
    if name == "defs":
        from drift_assets.definitions import defs

        return defs
    raise AttributeError(name)


def __dir__() -> list[str]:
    # `dagster dev -m drift_assets` finds the Definitions among the names the package lists
    return sorted({*globals(), "defs"})
