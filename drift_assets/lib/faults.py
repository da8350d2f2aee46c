"""A catalogue of faults a feed can suffer, for a table of any schema: each takes a month's rows
and returns them as a broken feed would have delivered them.

Columns are told apart by :func:`column_roles`, from the table's kinds (:mod:`schema`): a number
("int", "float") is numeric unless declared categorical, text is categorical. Each fault has a
size on a scale of its own (:class:`FaultKind`) and a list of sizes the backtest tries; the
``goal`` size is the README's fault of that kind, at which the issue's goal is judged.

====================  ==========  ============================================================
fault                 columns     what it does, and what its size is
====================  ==========  ============================================================
sensor offset         numeric     adds size x the column's standard deviation (first year)
unit change           numeric     multiplies by size (1.3: a rescaled sensor; 10: a unit)
recoded category      category    recodes that share of the commonest category's rows as
                                  another category the column has
new category          category    gives that share of the rows a value the column never had
stuck value           any         the last share of the month holds the value before it
values lost           any         that share of the values goes missing
broken relation       2 numeric   of two related columns, the second's values are shuffled
                                  among that share of the rows: each column keeps its values,
                                  the pair loses its link
swapped columns       2 same      that share of the rows has the two columns' values swapped
slow creep            numeric     an offset growing month by month to size x the standard
                                  deviation in the fault's last month
====================  ==========  ============================================================

A fault lasts ``months`` months (a broken feed stays broken until someone notices); the rows a
share-sized fault touches are drawn from a generator seeded by the fault and the month, so a
fault applies the same way every time. An integer column stays integer (offsets and factors
are rounded), so that a fault is a change of values, not of the column's type.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NUMERIC, CATEGORICAL = "numeric", "categorical"


@dataclass(frozen=True)
class FaultKind:
    """One kind of fault: the roles of the columns it breaks (one or two), its sizes and the
    unit they are in, the README's size of it (``goal``) and how many months it lasts."""

    name: str
    roles: tuple[str, ...]  # NUMERIC, CATEGORICAL, or both: the roles a column may have
    pair: bool  # two columns
    sizes: tuple[float, ...]
    goal: float
    unit: str
    months: int = 3


KINDS: dict[str, FaultKind] = {k.name: k for k in (
    FaultKind("sensor offset", (NUMERIC,), False, (0.25, 0.5, 1.0, 2.0), 2.0,
              "standard deviations added"),
    FaultKind("unit change", (NUMERIC,), False, (1.1, 1.3, 2.0, 10.0), 1.3, "factor"),
    FaultKind("recoded category", (CATEGORICAL,), False, (0.1, 0.25, 0.5, 1.0), 1.0,
              "share of the commonest category recoded"),
    FaultKind("new category", (CATEGORICAL,), False, (0.02, 0.05, 0.1, 0.25), 0.1,
              "share of rows with a new value"),
    FaultKind("stuck value", (NUMERIC, CATEGORICAL), False, (0.1, 0.25, 0.5, 1.0), 1.0,
              "share of the month stuck"),
    FaultKind("values lost", (NUMERIC, CATEGORICAL), False, (0.02, 0.05, 0.2, 0.5), 0.5,
              "share of values missing"),
    FaultKind("broken relation", (NUMERIC,), True, (0.1, 0.25, 0.5, 1.0), 1.0,
              "share of rows shuffled"),
    FaultKind("swapped columns", (NUMERIC, CATEGORICAL), True, (0.1, 0.25, 0.5, 1.0), 1.0,
              "share of rows swapped"),
    FaultKind("slow creep", (NUMERIC,), False, (0.5, 1.0, 2.0, 4.0), 2.0,
              "standard deviations reached in the last month", months=6),
)}
RELATED = 0.7  # |correlation| from which two numeric columns count as related


def column_roles(kinds: dict[str, str], columns: list[str],
                 categorical: tuple[str, ...] | list[str] = ()) -> dict[str, str]:
    """Each of ``columns`` as NUMERIC or CATEGORICAL from its schema kind (``kinds``: column ->
    "int", "float", "text", ...): a declared categorical column or text is categorical, a
    number numeric; dates and times take no fault."""
    roles = {}
    for column in columns:
        kind = kinds.get(column)
        if column in categorical or kind == "text":
            roles[column] = CATEGORICAL
        elif kind in ("int", "float"):
            roles[column] = NUMERIC
    return roles


@dataclass(frozen=True)
class Baseline:
    """What the faults need to know of the clean table (its first year): each numeric column's
    standard deviation, each categorical column's values by frequency, the related pairs."""

    kinds: dict[str, str]  # column -> schema kind
    roles: dict[str, str]
    std: dict[str, float]
    categories: dict[str, list]  # commonest first
    related: list[tuple[str, str]]  # pairs of numeric columns with |r| >= RELATED

    @classmethod
    def of(cls, frame: pd.DataFrame, kinds: dict[str, str], roles: dict[str, str]
           ) -> Baseline:
        """The baseline of ``frame`` (the clean rows the faults are scaled on)."""
        numeric = [c for c, r in roles.items() if r == NUMERIC]
        std = {c: float(frame[c].astype(float).std()) for c in numeric}
        categories = {c: list(frame[c].dropna().value_counts().index)
                      for c, r in roles.items() if r == CATEGORICAL}
        related = []
        if len(numeric) >= 2:
            corr = frame[numeric].astype(float).corr().to_numpy()
            related = [(a, b) for i, a in enumerate(numeric) for j, b in enumerate(numeric)
                       if i < j and abs(corr[i, j]) >= RELATED]
        return cls(dict(kinds), dict(roles), std, categories, related)

    def candidates(self, kind: FaultKind) -> list[tuple[str, ...]]:
        """The columns (or pairs) a fault of ``kind`` can break in this table."""
        if kind.name == "broken relation":
            return [pair for pair in self.related]
        if kind.name == "swapped columns":  # a column keeps its type: same schema kind
            same = [c for c in self.roles]
            return [(a, b) for i, a in enumerate(same) for b in same[i + 1:]
                    if self.roles[a] == self.roles[b] and self.kinds[a] == self.kinds[b]]
        if kind.name == "recoded category":
            return [(c,) for c in self.categories if len(self.categories[c]) >= 2]
        return [(c,) for c, role in self.roles.items() if role in kind.roles
                and (role != NUMERIC or self.std.get(c, 0) > 0)]


@dataclass(frozen=True)
class Fault:
    """One fault: its kind, the column(s) it breaks, its size, its months in order, and the
    seed that chooses which rows it touches and, where a fault must choose, what (the category
    a recoded one becomes)."""

    kind: str
    columns: tuple[str, ...]
    size: float
    months: tuple[str, ...]
    seed: int = 0

    def apply(self, frame: pd.DataFrame, month: str, baseline: Baseline) -> pd.DataFrame:
        """``frame`` (the clean rows of ``month``, one of the fault's months) as the fault
        delivers it; the frame given is not changed."""
        step = self.months.index(month) + 1
        rng = np.random.default_rng([self.seed, step])
        out = frame.copy()
        first = self.columns[0]
        n = len(out)
        if self.kind in ("sensor offset", "slow creep"):
            share = step / len(self.months) if self.kind == "slow creep" else 1.0
            out[first] = _same_kind(out[first] + share * self.size * baseline.std[first],
                                    frame[first])
        elif self.kind == "unit change":
            out[first] = _same_kind(out[first] * self.size, frame[first])
        elif self.kind == "recoded category":
            commonest, *others = baseline.categories[first]
            becomes = others[self.seed % len(others)]
            rows = np.flatnonzero((out[first] == commonest).to_numpy())
            picked = rows[rng.random(len(rows)) < self.size]
            out.loc[out.index[picked], first] = becomes
        elif self.kind == "new category":
            picked = _rows(rng, n, self.size)
            out[first] = _as_object_if_text(out[first])
            out.loc[out.index[picked], first] = new_value(baseline.categories.get(first, []),
                                                          baseline.kinds[first], first)
        elif self.kind == "stuck value":
            start = min(int(round(n * (1 - self.size))), n - 1)
            out.loc[out.index[start:], first] = out[first].iloc[start]
        elif self.kind == "values lost":
            picked = _rows(rng, n, self.size)
            out.loc[out.index[picked], first] = np.nan if baseline.kinds[first] != "text" \
                else None
            if baseline.kinds[first] == "int":  # an integer column with gaps, as a feed has
                out[first] = out[first].astype("Int64")
        elif self.kind == "broken relation":
            second = self.columns[1]
            picked = _rows(rng, n, self.size)
            values = out[second].to_numpy(copy=True)
            values[picked] = values[rng.permutation(picked)]
            out[second] = values
        elif self.kind == "swapped columns":
            second = self.columns[1]
            picked = out.index[_rows(rng, n, self.size)]
            a, b = out.loc[picked, first].to_numpy(), out.loc[picked, second].to_numpy()
            out.loc[picked, first], out.loc[picked, second] = b, a
        else:
            raise ValueError(f"fault {self.kind!r} is not in the catalogue; it has "
                             f"{', '.join(KINDS)}")
        return out


def new_value(categories: list, kind: str, column: str):
    """A value ``column`` never had: one past its largest code, or a new word."""
    if kind in ("int", "float"):
        return int(max(categories)) + 1 if categories else 1
    return f"new_{column}"


def _rows(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    """``share`` of ``n`` row positions (at least one), in order."""
    count = min(max(int(round(share * n)), 1), n)
    return np.sort(rng.choice(n, size=count, replace=False))


def _same_kind(values: pd.Series, like: pd.Series) -> pd.Series:
    """``values`` in the dtype of ``like``: an integer column's rounded."""
    if pd.api.types.is_integer_dtype(like.dtype):
        return values.round().astype(like.dtype)
    return values


def _as_object_if_text(values: pd.Series) -> pd.Series:
    """A text column as plain objects, so that a new word fits in it."""
    return values.astype(object) if not pd.api.types.is_numeric_dtype(values) else values
