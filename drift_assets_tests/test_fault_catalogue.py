"""The fault catalogue: each fault does what it says, on the bike table and on the tickets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from drift_assets.lib import tickets
from drift_assets.lib.faults import (
    CATEGORICAL,
    KINDS,
    NUMERIC,
    Baseline,
    Fault,
    column_roles,
)
from drift_assets.lib.generator import generate_month
from drift_assets.lib.schema import BIKE, DEFAULT_DRIFT_FEATURES
from drift_assets.lib.source import conform

TICKET_FEATURES = list(tickets.CATEGORICAL_FEATURES + tickets.NUMERIC_FEATURES)


def _bike():
    months = [conform(generate_month(m, seed=3), "generated", BIKE)
              for m in ("2011-01", "2011-04", "2011-07", "2011-10", "2012-03")]
    roles = column_roles(BIKE.kinds, list(DEFAULT_DRIFT_FEATURES), ("weathersit",))
    return Baseline.of(pd.concat(months[:4]), BIKE.kinds, roles), months[4]


def _tickets():
    months = [conform(tickets.generate_month(m, seed=3), "generated", tickets.SCHEMA,
                      unique_days=False) for m in ("2023-01", "2023-05", "2023-09")]
    roles = column_roles(tickets.SCHEMA.kinds, TICKET_FEATURES, tickets.CATEGORICAL_FEATURES)
    return Baseline.of(pd.concat(months[:2]), tickets.SCHEMA.kinds, roles), months[2]


TABLES = {"bike": _bike, "tickets": _tickets}
MONTH = "2030-01"  # a fault's month: the label alone matters to apply


@pytest.fixture(scope="module", params=list(TABLES))
def table(request):
    return TABLES[request.param]()


def _fault(kind, columns, size, months=(MONTH,), seed=7):
    return Fault(kind, tuple(columns), size, tuple(months), seed)


def _first(baseline, role, kind=None):
    return next(c for c, r in baseline.roles.items() if r == role
                and (kind is None or baseline.kinds[c] == kind))


def test_roles_come_from_the_schema_kinds_and_the_declared_categories():
    roles = column_roles({"a": "int", "b": "float", "c": "text", "d": "date", "e": "int"},
                         ["a", "b", "c", "d", "e"], categorical=("e",))
    assert roles == {"a": NUMERIC, "b": NUMERIC, "c": CATEGORICAL, "e": CATEGORICAL}


def test_every_kind_has_sizes_a_goal_among_them_and_months():
    for kind in KINDS.values():
        assert kind.goal in kind.sizes and kind.months >= 1 and kind.sizes == tuple(
            sorted(kind.sizes))


def test_a_fault_leaves_the_given_frame_and_every_other_column_alone(table):
    baseline, month = table
    column = _first(baseline, NUMERIC)
    before = month.copy()
    out = _fault("sensor offset", [column], 1.0).apply(month, MONTH, baseline)
    pd.testing.assert_frame_equal(month, before)
    others = [c for c in month.columns if c != column]
    pd.testing.assert_frame_equal(out[others], month[others])


def test_sensor_offset_adds_size_standard_deviations(table):
    baseline, month = table
    for column in [c for c, r in baseline.roles.items() if r == NUMERIC]:
        out = _fault("sensor offset", [column], 2.0).apply(month, MONTH, baseline)
        moved = out[column].astype(float).mean() - month[column].astype(float).mean()
        assert moved == pytest.approx(2.0 * baseline.std[column], rel=0.02, abs=0.5)
        assert out[column].dtype == month[column].dtype  # an integer stays an integer


def test_unit_change_multiplies(table):
    baseline, month = table
    column = _first(baseline, NUMERIC, "float")
    out = _fault("unit change", [column], 10.0).apply(month, MONTH, baseline)
    np.testing.assert_allclose(out[column], month[column] * 10.0)


def test_slow_creep_grows_to_its_size_in_its_last_month(table):
    baseline, month = table
    column = _first(baseline, NUMERIC, "float")
    months = [f"2030-0{k}" for k in range(1, 7)]
    fault = _fault("slow creep", [column], 3.0, months)
    shifts = [(fault.apply(month, m, baseline)[column] - month[column]).mean() for m in months]
    expected = [3.0 * baseline.std[column] * k / 6 for k in range(1, 7)]
    np.testing.assert_allclose(shifts, expected, rtol=1e-9)


def test_recoded_category_moves_that_share_of_the_commonest_to_another_one(table):
    baseline, month = table
    column = _first(baseline, CATEGORICAL)
    commonest = baseline.categories[column][0]
    out = _fault("recoded category", [column], 1.0).apply(month, MONTH, baseline)
    assert (out[column] == commonest).sum() == 0
    assert set(out[column].dropna()) <= set(baseline.categories[column])
    half = _fault("recoded category", [column], 0.5).apply(month, MONTH, baseline)
    share = (half[column] == commonest).sum() / (month[column] == commonest).sum()
    assert 0.3 < share < 0.7


def test_new_category_gives_that_share_a_value_never_seen(table):
    baseline, month = table
    column = _first(baseline, CATEGORICAL)
    out = _fault("new category", [column], 0.25).apply(month, MONTH, baseline)
    new = ~out[column].isin(baseline.categories[column])
    assert new.sum() == round(0.25 * len(month))
    assert out[column][new].nunique() == 1


@pytest.mark.parametrize("role", [NUMERIC, CATEGORICAL])
def test_stuck_value_holds_the_last_share_of_the_month(table, role):
    baseline, month = table
    column = _first(baseline, role)
    out = _fault("stuck value", [column], 0.5).apply(month, MONTH, baseline)
    start = int(round(len(month) * 0.5))
    assert out[column].iloc[start:].nunique() == 1
    assert out[column].iloc[start] == month[column].iloc[start]
    pd.testing.assert_series_equal(out[column].iloc[:start], month[column].iloc[:start])
    whole = _fault("stuck value", [column], 1.0).apply(month, MONTH, baseline)
    assert whole[column].nunique() == 1


@pytest.mark.parametrize("role", [NUMERIC, CATEGORICAL])
def test_values_lost_removes_that_share(table, role):
    baseline, month = table
    column = _first(baseline, role)
    out = _fault("values lost", [column], 0.2).apply(month, MONTH, baseline)
    assert out[column].isna().sum() == round(0.2 * len(month))


def test_broken_relation_keeps_each_column_and_loses_the_link():
    baseline, month = _bike()
    assert ("temp", "atemp") in baseline.related
    out = _fault("broken relation", ["temp", "atemp"], 1.0).apply(month, MONTH, baseline)
    assert sorted(out["atemp"]) == sorted(month["atemp"])
    pd.testing.assert_series_equal(out["temp"], month["temp"])
    assert month["temp"].corr(month["atemp"]) > 0.9 > out["temp"].corr(out["atemp"])


def test_swapped_columns_swap_that_share_of_rows(table):
    baseline, month = table
    a, b = baseline.candidates(KINDS["swapped columns"])[0]
    out = _fault("swapped columns", [a, b], 0.5).apply(month, MONTH, baseline)
    swapped = (out[a] != month[a]) & (out[a] == month[b])
    assert swapped.sum() >= 0.4 * len(month)
    assert (out.loc[swapped, b] == month.loc[swapped, a]).all()
    assert out[a].dtype == month[a].dtype


def test_a_fault_applies_alike_every_time_and_differs_with_its_seed(table):
    baseline, month = table
    column = _first(baseline, NUMERIC)
    one = _fault("values lost", [column], 0.2, seed=1)
    again = one.apply(month, MONTH, baseline)
    pd.testing.assert_frame_equal(one.apply(month, MONTH, baseline), again)
    other = _fault("values lost", [column], 0.2, seed=2).apply(month, MONTH, baseline)
    assert not other[column].isna().equals(again[column].isna())


def test_candidates_follow_the_schema():
    bike, _ = _bike()
    assert bike.candidates(KINDS["recoded category"]) == [("weathersit",)]
    assert ("temp", "atemp") in bike.candidates(KINDS["broken relation"])
    assert all(bike.roles[c] == NUMERIC for (c,) in bike.candidates(KINDS["sensor offset"]))
    ticket, _ = _tickets()
    assert {c for (c,) in ticket.candidates(KINDS["new category"])} == set(
        tickets.CATEGORICAL_FEATURES)
    for a, b in ticket.candidates(KINDS["swapped columns"]):  # only alike kinds are swapped
        assert ticket.kinds[a] == ticket.kinds[b]


def test_an_unknown_fault_is_named():
    baseline, month = _bike()
    with pytest.raises(ValueError, match="'melted' is not in the catalogue"):
        _fault("melted", ["temp"], 1.0).apply(month, MONTH, baseline)
