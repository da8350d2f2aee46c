"""drift_assets: a Dagster project that keeps a demand model healthy as production data drifts."""


def __getattr__(name: str):
    # Lazy, so that `drift_assets.engine` and `drift_assets.lib` import without Dagster's startup.
    if name == "defs":
        from drift_assets.definitions import defs

        return defs
    raise AttributeError(name)
