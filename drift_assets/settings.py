"""The one place that reads the environment: every ``DRIFT_*`` variable (and ``DAGSTER_HOME``)
becomes a field of :class:`Settings`, checked once, with the variable named in every error.

Resources, the executor and the commands take their values from a :class:`Settings`; nothing
else reads ``os.environ``. Secrets are not held here: only whether they are set, since the
resources read them at run time through Dagster's ``EnvVar`` (or boto3 its own variables).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from drift_assets.lib.reference import ReferenceChoice

PROJECT_ROOT = Path(__file__).resolve().parents[1]


# `drift-assets reports` serves the reports folder here; `make dev` starts it beside the UI.
DEFAULT_REPORTS_URL = "http://127.0.0.1:3001"


class SettingsError(ValueError):
    """A variable with a value the project cannot use; the message names it."""


# Setting of DriftSettings -> the environment variable that overrides it.
DRIFT_VARIABLES = {
    "reference_months": "DRIFT_REFERENCE_MONTHS",
    "features": "DRIFT_FEATURES",
    "reference": "DRIFT_REFERENCE",
    "thresholds": "DRIFT_THRESHOLDS",
    "fdr": "DRIFT_FDR",
    "persistence": "DRIFT_PERSISTENCE",
    "drift_share": "DRIFT_SHARE",
    "promotion_tolerance": "DRIFT_PROMOTION_TOLERANCE",
    "max_rmsle": "DRIFT_MAX_RMSLE",
    "error_n_std": "DRIFT_ERROR_N_STD",
    "retrain_cooldown_hours": "DRIFT_RETRAIN_COOLDOWN_HOURS",
}
# name -> (lowest, highest, whether the lowest itself is allowed)
RANGES = {
    "fdr": (0.0, 1.0, False),
    "drift_share": (0.0, 1.0, False),
    "promotion_tolerance": (0.0, 10.0, True),
    "max_rmsle": (0.0, math.inf, False),
    "error_n_std": (0.0, 100.0, False),
    "retrain_cooldown_hours": (0.0, 24 * 366, True),
}
LISTS = ("reference_months", "features")
TEXTS = ("reference", "thresholds", "persistence")


def _number(variable: str, raw: str, low: float, high: float, low_allowed: bool) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{variable}={raw!r} is not a number") from None
    inside = (low <= value if low_allowed else low < value) and value <= high
    if not math.isfinite(value) or not inside:
        bound = "[" if low_allowed else "("
        raise SettingsError(f"{variable}={raw!r} is out of range: expected a number in "
                            f"{bound}{low:g}, {high:g}]")
    return value


def _whole(env: Mapping[str, str], variable: str, default: int, low: int = 0) -> int:
    raw = (env.get(variable) or "").strip()
    if not raw:
        return default
    if not raw.lstrip("-").isdigit() or int(raw) < low:
        raise SettingsError(f"{variable}={raw!r}: expected a whole number of at least {low}")
    return int(raw)


def drift_values(env: Mapping[str, str]) -> dict:
    """The ``DriftSettings`` fields the environment sets, parsed and range-checked."""
    values: dict = {}
    for name, variable in DRIFT_VARIABLES.items():
        raw = (env.get(variable) or "").strip()
        if not raw:
            continue
        if name in LISTS:
            values[name] = [v.strip() for v in raw.split(",") if v.strip()]
            if not values[name]:
                raise SettingsError(f"{variable}={raw!r} names nothing")
        elif name in TEXTS:
            values[name] = raw
        else:
            values[name] = _number(variable, raw, *RANGES[name])
    return values


@dataclass(frozen=True)
class Settings:
    """Everything the environment chooses, read once."""

    data_dir: Path
    dagster_home: Path
    source: str | None  # DRIFT_SOURCE; None: generated data
    seed: int
    rows_per_day: int
    warehouse_url_set: bool  # DRIFT_WAREHOUSE_URL is set (read at run time, as an EnvVar)
    warehouse_scheme: str  # its scheme only: the rest may hold a password
    s3_bucket: str
    s3_prefix: str
    s3_incoming_prefix: str
    slack_token_set: bool
    slack_channel: str
    slack_base_url: str | None
    dask_scheduler: str
    executor: str  # "" (Dagster's default), "in_process" or "celery"
    celery_broker_set: bool
    celery_backend_set: bool
    # DRIFT_REPORTS_URL: where ``reports_dir`` is served, for the links in the UI and alerts
    reports_url: str = DEFAULT_REPORTS_URL
    config_path: Path = PROJECT_ROOT / "drift_assets.yaml"  # DRIFT_CONFIG: the declarations
    drift: dict = field(default_factory=dict)  # DriftSettings fields the environment sets
    variables: frozenset[str] = frozenset()  # every name set, for dagster.yaml's {env: …}

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def warehouse_default(self) -> str:
        return f"sqlite:///{self.data_dir / 'warehouse.db'}"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """The settings of this environment (``os.environ`` unless given); raises
    :class:`SettingsError` naming the variable of the first value that cannot be used."""
    env = os.environ if env is None else env
    data = Path(env.get("DRIFT_DATA_DIR") or PROJECT_ROOT / "data")
    executor = (env.get("DRIFT_EXECUTOR") or "").strip().lower().replace("-", "_")
    if executor == "default":
        executor = ""
    if executor not in ("", "in_process", "celery"):
        raise SettingsError(f"DRIFT_EXECUTOR={env['DRIFT_EXECUTOR']!r} is not known: use "
                            "in_process or celery, or leave it unset")
    slack_channel = (env.get("DRIFT_SLACK_CHANNEL") or "").strip()
    if env.get("SLACK_BOT_TOKEN") and not slack_channel:
        # fail at load time rather than post nowhere
        raise SettingsError("SLACK_BOT_TOKEN is set but DRIFT_SLACK_CHANNEL is not: name the "
                            "channel to post to, e.g. #model-alerts")
    url = (env.get("DRIFT_WAREHOUSE_URL") or "").strip()
    incoming = env.get("DRIFT_S3_INCOMING_PREFIX") or "incoming/"
    reports_url = (env.get("DRIFT_REPORTS_URL") or DEFAULT_REPORTS_URL).strip().rstrip("/")
    try:
        address = urlsplit(reports_url)
        usable = bool(address.hostname) and (address.port or 1) > 0
    except ValueError:  # a port that is no port
        usable = False
    if not reports_url.startswith(("http://", "https://")) or "@" in reports_url or not usable:
        # no credentials in a link that is shown in the UI and posted to Slack; the value is
        # not repeated, in case it holds one
        raise SettingsError("DRIFT_REPORTS_URL must be an http:// or https:// address with a "
                            "host, a port of 1-65535 if any, and no credentials: where the "
                            "reports folder is served")
    settings = Settings(
        data_dir=data,
        dagster_home=Path(env.get("DAGSTER_HOME") or data / "dagster_home"),
        source=env.get("DRIFT_SOURCE") or None,
        seed=_whole(env, "DRIFT_SEED", 0),
        rows_per_day=_whole(env, "DRIFT_ROWS_PER_DAY", 1, low=1),
        warehouse_url_set=bool(url),
        warehouse_scheme=url.split(":", 1)[0].lower() if url else "sqlite",
        s3_bucket=env.get("DRIFT_S3_BUCKET", ""),
        s3_prefix=env.get("DRIFT_S3_PREFIX") or "models",
        # A folder, so that incoming/ does not also match incoming-old/.
        s3_incoming_prefix=incoming.rstrip("/") + "/",
        slack_token_set=bool(env.get("SLACK_BOT_TOKEN")),
        slack_channel=slack_channel,
        slack_base_url=env.get("DRIFT_SLACK_BASE_URL") or None,
        dask_scheduler=env.get("DRIFT_DASK_SCHEDULER", ""),
        executor=executor,
        celery_broker_set=bool(env.get("DRIFT_CELERY_BROKER")),
        celery_backend_set=bool(env.get("DRIFT_CELERY_BACKEND")),
        reports_url=reports_url,
        config_path=Path(env.get("DRIFT_CONFIG") or PROJECT_ROOT / "drift_assets.yaml"),
        drift=drift_values(env),
        variables=frozenset(env),
    )
    try:
        ReferenceChoice.parse(settings.drift.get("reference"),
                              settings.drift.get("reference_months"))
    except ValueError as exc:
        raise SettingsError(f"DRIFT_REFERENCE or DRIFT_REFERENCE_MONTHS: {exc}") from None
    thresholds = settings.drift.get("thresholds", "evidently")
    if thresholds not in ("evidently", "calibrated"):
        raise SettingsError(f"DRIFT_THRESHOLDS={thresholds!r}: expected evidently or calibrated")
    k, _, n = settings.drift.get("persistence", "1/1").partition("/")
    if not (k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise SettingsError(f"DRIFT_PERSISTENCE={settings.drift['persistence']!r}: expected k/n "
                            "with 1 <= k <= n, e.g. 2/3")
    return settings
