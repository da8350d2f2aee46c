"""Datasets declared in a file: which table to watch, how to read it, what to check and what model
to keep, per dataset, with the keys a team's tooling can write.

``load_declarations`` reads a YAML file, or every ``*.yaml``/``*.yml`` file of a folder, and
checks every key before anything runs: an unknown key, a bad value, a target that is also a
feature, each is a :class:`DeclarationError` naming the file, the dataset and the key. Reading
the file is the only I/O: whether the source has the declared columns is checked by
:func:`check_columns` against a sample, which ``drift-assets config check`` reads.

The keys, with what they mean::

    datasets:
      NAME:                       # [a-z][a-z0-9_]*: the asset key prefix and the group
        source: PATH_OR_URL       # or "generated" (the dataset's own generator)
        timestamp: COLUMN         # dates or datetimes: what places a row in a month
        timestamp_format: "%Y/%m/%d"   # optional
        start: YYYY-MM            # the first month
        end: YYYY-MM              # optional: a file's last month (the partitions end there)
        id: COLUMN                # optional
        labels: [COLUMN, ...]     # optional: columns that may arrive late
        features: [COLUMN, ...]   # optional: default every other column
        categorical: [COLUMN, ...]  # optional: default inferred as Evidently infers it
        reference: fixed:YYYY-MM[,...] | rolling:N | seasonal
        thresholds: calibrated | evidently
        drift_share: 0.5
        persistence: 1/1
        quality:
          missing_share: 0.1
          columns:
            COLUMN: {missing_share: 0.3, min: 0, max: 500, allowed: [a, b]}
        model:                    # optional: without it the table is monitored, not modelled
          target: COLUMN
          task: regression | classification
          estimator: sklearn.linear_model.Ridge
          params: {alpha: [0.1, 1, 10]}
          target_transform: log1p # optional, regression only
          metric: rmsle | rmse | mae | log_loss | roc_auc | accuracy | f1
          features: [COLUMN, ...] # optional: the model's inputs; default the dataset's features
          degree: 2               # optional: numeric inputs also as squares and products
          scale: false            # optional: numeric inputs standardised first (default true)
        notify:
          slack_channel: "#channel"
        owners: [team:ml, someone@example.com]   # optional: the assets' owners in Dagster
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drift_assets.lib.months import month_label
from drift_assets.lib.reference import ReferenceChoice

# At most 48 characters: the name is also a PostgreSQL schema (drift_<name>), whose identifiers
# PostgreSQL cuts at 63 bytes, so two long names could otherwise meet in one schema.
NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
OWNER = re.compile(r"^(team:[A-Za-z0-9_.-]+|[^@\s]+@[^@\s]+\.[^@\s]+)$")  # Dagster's forms
IMPORT_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
TASKS = ("regression", "classification")
METRICS = {
    "regression": ("rmsle", "rmse", "mae"),
    "classification": ("log_loss", "roc_auc", "accuracy", "f1"),
}
THRESHOLDS = ("calibrated", "evidently")
GENERATED = "generated"


class DeclarationError(ValueError):
    """A declaration the project cannot use: the file, the dataset, the key and the problem."""

    def __init__(self, file: str, problem: str, dataset: str | None = None,
                 key: str | None = None):
        self.file, self.dataset, self.key, self.problem = file, dataset, key, problem
        where = "".join([f", dataset {dataset!r}" if dataset else "",
                         f", key {key!r}" if key else ""])
        super().__init__(f"{file}{where}: {problem}")


@dataclass(frozen=True)
class ColumnRule:
    missing_share: float | None = None
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ModelSpec:
    target: str
    task: str
    estimator: str
    params: dict[str, tuple] = field(default_factory=dict)
    metric: str = ""
    target_transform: str | None = None
    features: tuple[str, ...] | None = None
    degree: int = 1  # numeric features also enter as their products up to this degree
    scale: bool = True  # numeric features standardised before the estimator


@dataclass(frozen=True)
class Dataset:
    """One declared dataset. ``None`` in a setting means "not declared": the environment's
    default (``DRIFT_*``) applies."""

    name: str
    file: str  # the file that declared it, for messages
    timestamp: str
    start: str  # YYYY-MM
    end: str | None = None  # YYYY-MM: the last month of a finite source
    source: str | None = None  # None: DRIFT_SOURCE, or the generator
    timestamp_format: str | None = None
    id: str | None = None
    labels: tuple[str, ...] = ()
    features: tuple[str, ...] | None = None
    categorical: tuple[str, ...] | None = None
    reference: str | None = None
    thresholds: str | None = None
    drift_share: float | None = None
    persistence: str | None = None
    missing_share: float | None = None
    columns: dict[str, ColumnRule] = field(default_factory=dict)
    model: ModelSpec | None = None
    slack_channel: str | None = None
    owners: tuple[str, ...] = ()

    @property
    def generated(self) -> bool:
        return self.source == GENERATED

    def local_source(self) -> Path | None:
        """The source as a local file, a relative path read from the declaring file's folder;
        None for generated, remote (``scheme://``) and per-month (``{month}``) sources."""
        if not self.source or self.generated or "://" in self.source or \
                "{month}" in self.source:
            return None
        path = Path(self.source).expanduser()
        return path if path.is_absolute() else Path(self.file).parent / path


# --- reading ---

DATASET_KEYS = {"source", "timestamp", "timestamp_format", "start", "end", "id", "labels",
                "features", "categorical", "reference", "thresholds", "drift_share", "persistence",
                "quality", "model", "notify", "owners"}
QUALITY_KEYS = {"missing_share", "columns"}
RULE_KEYS = {"missing_share", "min", "max", "allowed"}
MODEL_KEYS = {"target", "task", "estimator", "params", "target_transform", "metric", "features",
              "degree", "scale"}
NOTIFY_KEYS = {"slack_channel"}


def declaration_files(path: str | Path) -> list[Path]:
    """The file itself, or the ``*.yaml``/``*.yml`` files of a folder in name order."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        if not files:
            raise DeclarationError(str(path), "the folder holds no .yaml or .yml file")
        return files
    if not path.is_file():
        raise DeclarationError(str(path), "no such file or folder")
    return [path]


def load_declarations(path: str | Path) -> dict[str, Dataset]:
    """Every dataset declared in ``path`` (a file or a folder of files), checked."""
    import yaml

    datasets: dict[str, Dataset] = {}
    for file in declaration_files(path):
        name = str(file)
        try:
            document = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            problem = str(exc).replace("\n", " ")
            raise DeclarationError(name, f"not readable YAML: {problem}") from None
        if not isinstance(document, dict) or set(document) != {"datasets"}:
            raise DeclarationError(name, "expected one top-level key, 'datasets', holding a "
                                   "mapping of dataset names to their declarations")
        declared = document["datasets"]
        if not isinstance(declared, dict) or not declared:
            raise DeclarationError(name, "'datasets' must map at least one name to its "
                                   "declaration", key="datasets")
        for dataset, body in declared.items():
            if dataset in datasets:
                raise DeclarationError(name, f"declared twice (also in {datasets[dataset].file})",
                                       str(dataset))
            datasets[str(dataset)] = parse_dataset(name, dataset, body)
    return datasets


class _Reader:
    """Reads one dataset's keys, every problem named by file, dataset and key."""

    def __init__(self, file: str, dataset: str):
        self.file, self.dataset = file, dataset

    def fail(self, key: str | None, problem: str):
        raise DeclarationError(self.file, problem, self.dataset, key)

    def mapping(self, key: str, value: Any, allowed: set[str]) -> dict:
        if not isinstance(value, dict):
            self.fail(key, f"expected a mapping with keys among {', '.join(sorted(allowed))}")
        unknown = sorted(str(k) for k in value if k not in allowed)
        if unknown:
            self.fail(f"{key}.{unknown[0]}" if key else unknown[0],
                      f"unknown key {unknown[0]!r}; expected one of "
                      f"{', '.join(sorted(allowed))}")
        return value

    def text(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"expected a non-empty string, got {value!r}")
        return value.strip()

    def columns(self, key: str, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or \
                not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(key, f"expected a list of column names, got {value!r}")
        names = [v.strip() for v in value]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            self.fail(key, f"column {repeated[0]!r} is named twice")
        return tuple(names)

    def number(self, key: str, value: Any, low: float = -math.inf, high: float = math.inf,
               low_allowed: bool = True) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                not math.isfinite(value):
            self.fail(key, f"expected a number, got {value!r}")
        if not ((low <= value if low_allowed else low < value) and value <= high):
            bound = "[" if low_allowed else "("
            self.fail(key, f"{value!r} is out of range: expected a number in "
                           f"{bound}{low:g}, {high:g}]")
        return float(value)

    def month(self, key: str, value: Any) -> str:
        text = str(value) if not isinstance(value, str) else value
        if not re.fullmatch(r"\d{4}-\d{2}", text.strip()):
            self.fail(key, f"expected a month YYYY-MM, got {value!r}")
        try:
            return month_label(text)
        except ValueError:
            self.fail(key, f"expected a month YYYY-MM, got {value!r}")


def parse_dataset(file: str, dataset: Any, body: Any) -> Dataset:
    """One dataset's declaration, checked key by key."""
    if not isinstance(dataset, str) or not NAME.match(dataset):
        raise DeclarationError(file, f"dataset name {dataset!r} must match [a-z][a-z0-9_]*, "
                               "at most 48 characters (it becomes the asset key prefix, the "
                               "group and the warehouse schema)", str(dataset))
    r = _Reader(file, dataset)
    body = r.mapping("", body, DATASET_KEYS)
    for required in ("timestamp", "start"):
        if required not in body:
            r.fail(required, f"required key {required!r} is missing")
    values: dict[str, Any] = {
        "name": dataset, "file": file,
        "timestamp": r.text("timestamp", body["timestamp"]),
        "start": r.month("start", body["start"]),
    }
    for key in ("source", "timestamp_format", "id"):
        if key in body:
            values[key] = r.text(key, body[key])
    if "end" in body:
        values["end"] = r.month("end", body["end"])
        if values["end"] < values["start"]:
            r.fail("end", f"{values['end']} is before start {values['start']}")
    if values.get("source") == GENERATED:
        from drift_assets.lib.examples import EXAMPLES

        if dataset not in EXAMPLES:
            r.fail("source", f"no generator makes {dataset!r}: generated data exists for "
                   f"{', '.join(EXAMPLES)}; name a file or URL")
    for key in ("labels", "features", "categorical"):
        if key in body:
            values[key] = r.columns(key, body[key])
    if "reference" in body:
        values["reference"] = r.text("reference", body["reference"])
        try:
            ReferenceChoice.parse(values["reference"])
        except ValueError as exc:
            r.fail("reference", str(exc).replace("DRIFT_REFERENCE ", ""))
    if "thresholds" in body:
        values["thresholds"] = r.text("thresholds", body["thresholds"])
        if values["thresholds"] not in THRESHOLDS:
            r.fail("thresholds", f"{values['thresholds']!r}: expected calibrated or evidently")
    if "drift_share" in body:
        values["drift_share"] = r.number("drift_share", body["drift_share"], 0, 1, False)
    if "persistence" in body:
        text = r.text("persistence", body["persistence"])
        k, _, n = text.partition("/")
        if not (k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
            r.fail("persistence", f"{text!r}: expected k/n with 1 <= k <= n, e.g. 2/3")
        values["persistence"] = text
    if "quality" in body:
        values.update(_quality(r, body["quality"]))
    if body.get("model") is not None:
        values["model"] = _model(r, body["model"])
    if "owners" in body:
        owners = r.columns("owners", body["owners"])
        odd = [o for o in owners if not OWNER.match(o)]
        if odd:
            r.fail("owners", f"{odd[0]!r} is neither an email address nor team:NAME")
        values["owners"] = owners
    if "notify" in body:
        notify = r.mapping("notify", body["notify"], NOTIFY_KEYS)
        if "slack_channel" in notify:
            values["slack_channel"] = r.text("notify.slack_channel", notify["slack_channel"])
    declared = Dataset(**values)
    _check_roles(r, declared)
    return declared


def _quality(r: _Reader, body: Any) -> dict:
    body = r.mapping("quality", body, QUALITY_KEYS)
    out: dict[str, Any] = {}
    if "missing_share" in body:
        out["missing_share"] = r.number("quality.missing_share", body["missing_share"], 0, 1)
    rules = {}
    for column, rule in (body.get("columns") or {}).items():
        key = f"quality.columns.{column}"
        rule = r.mapping(key, rule, RULE_KEYS)
        missing = r.number(f"{key}.missing_share", rule["missing_share"], 0, 1) \
            if "missing_share" in rule else None
        low = r.number(f"{key}.min", rule["min"]) if "min" in rule else None
        high = r.number(f"{key}.max", rule["max"]) if "max" in rule else None
        if low is not None and high is not None and low > high:
            r.fail(f"{key}.min", f"min {low:g} is above max {high:g}")
        allowed = None
        if "allowed" in rule:
            values = rule["allowed"]
            if not isinstance(values, list) or not values:
                r.fail(f"{key}.allowed", f"expected a non-empty list of values, got {values!r}")
            allowed = tuple(str(v) for v in values)
        rules[str(column)] = ColumnRule(missing, low, high, allowed)
    out["columns"] = rules
    return out


def _model(r: _Reader, body: Any) -> ModelSpec:
    body = r.mapping("model", body, MODEL_KEYS)
    for required in ("target", "task", "estimator", "metric"):
        if required not in body:
            r.fail(f"model.{required}", f"required key {required!r} is missing")
    task = r.text("model.task", body["task"])
    if task not in TASKS:
        r.fail("model.task", f"{task!r}: expected regression or classification")
    estimator = r.text("model.estimator", body["estimator"])
    if not IMPORT_PATH.match(estimator):
        r.fail("model.estimator", f"{estimator!r} is not an import path such as "
               "sklearn.linear_model.Ridge")
    metric = r.text("model.metric", body["metric"])
    if metric not in METRICS[task]:
        r.fail("model.metric", f"{metric!r} is not a {task} metric: expected one of "
               f"{', '.join(METRICS[task])}")
    transform = None
    if body.get("target_transform") is not None:
        transform = r.text("model.target_transform", body["target_transform"])
        if task != "regression":
            r.fail("model.target_transform", "a target transform is for regression only")
        if transform != "log1p":
            r.fail("model.target_transform", f"{transform!r}: expected log1p")
    params = body.get("params") or {}
    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        r.fail("model.params", f"expected a mapping of parameter names to lists of values, "
               f"got {params!r}")
    grid = {}
    for name, values in params.items():
        values = values if isinstance(values, list) else [values]
        if not values:
            r.fail(f"model.params.{name}", "expected at least one value")
        grid[name] = tuple(values)
    features = r.columns("model.features", body["features"]) if "features" in body else None
    degree = int(r.number("model.degree", body["degree"], 1, 3)) if "degree" in body else 1
    if degree != body.get("degree", 1):
        r.fail("model.degree", f"{body['degree']!r}: expected 1, 2 or 3")
    scale = body.get("scale", True)
    if not isinstance(scale, bool):
        r.fail("model.scale", f"{scale!r}: expected true or false")
    return ModelSpec(target=r.text("model.target", body["target"]), task=task,
                     estimator=estimator, params=grid, metric=metric,
                     target_transform=transform, features=features, degree=degree,
                     scale=scale)


def _check_roles(r: _Reader, d: Dataset) -> None:
    """A column plays one role: the timestamp, the id and the target are not features."""
    features = set(d.features or ())
    model_features = set(d.model.features or ()) if d.model is not None else set()
    for role, column in (("timestamp", d.timestamp), ("id", d.id)):
        if column and column in features:
            r.fail("features", f"{column!r} is the {role}, not a feature")
        if column and column in model_features:
            r.fail("model.features", f"{column!r} is the {role}, not a feature")
    if d.id and d.id == d.timestamp:
        r.fail("id", f"{d.id!r} is also the timestamp")
    if d.categorical and d.features is not None and \
            (d.model is None or d.model.features is not None):
        stray = [c for c in d.categorical if c not in features | model_features]
        if stray:
            r.fail("categorical", f"{stray[0]!r} is not one of the features")
    if d.model is not None:
        target = d.model.target
        if target in features or target in model_features:
            r.fail("model.target", f"{target!r} is the target and also a feature")
        for role, column in (("timestamp", d.timestamp), ("id", d.id)):
            if target == column:
                r.fail("model.target", f"{target!r} is the {role}, not a target")


def check_columns(dataset: Dataset, columns: list[str]) -> None:
    """Fail, naming the key, if the declaration names a column the source does not have."""
    present = set(columns)
    r = _Reader(dataset.file, dataset.name)
    checks = [("timestamp", [dataset.timestamp]), ("id", [dataset.id] if dataset.id else []),
              ("labels", dataset.labels), ("features", dataset.features or ()),
              ("categorical", dataset.categorical or ()),
              ("quality.columns", tuple(dataset.columns))]
    if dataset.model is not None:
        checks += [("model.target", [dataset.model.target]),
                   ("model.features", dataset.model.features or ())]
    for key, named in checks:
        absent = [c for c in named if c not in present and c not in dataset.labels]
        if absent:
            r.fail(key, f"the source has no column {absent[0]!r} (it has "
                        f"{', '.join(sorted(present))})")
