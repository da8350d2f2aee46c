"""Numbers at the edge: drift scores do not depend on the data's units.

The same two samples, multiplied by any factor from 1e-200 to 1e200, get the same test, score,
verdict, PSI and K-S statistic; what no unit-free number can score (values wider apart than
float64 can subtract, a constant reference on the Wasserstein path) is skipped with a reason,
never reported as "no drift".
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

from drift_assets.engine import NumericSummary, build_profile, detect_drift
from drift_assets.engine.profile import NumericPartial

FACTORS = (1e-200, 1e-10, 1.0, 1e10, 1e200)
REL = 1e-9


def _samples(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A reference and a current frame: one column that moves, one that does not, one whose
    spread changes."""
    rng = np.random.default_rng(seed)
    reference = pd.DataFrame({
        "moved": rng.normal(0.0, 1.0, n),
        "still": rng.normal(3.0, 0.5, n),
        "wider": rng.normal(-2.0, 1.0, n),
    })
    current = pd.DataFrame({
        "moved": rng.normal(0.6, 1.0, n),
        "still": rng.normal(3.0, 0.5, n),
        "wider": rng.normal(-2.0, 1.6, n),
    })
    return reference, current


def _scores(result) -> dict[str, tuple]:
    return {c.column: (c.method, c.drifted, c.score, c.psi, c.ks_statistic)
            for c in result.columns}


@pytest.mark.parametrize(("n", "method"), [(600, "ks"), (4000, "wasserstein")],
                         ids=["small-ks", "large-wasserstein"])
def test_scores_do_not_depend_on_the_scale(n, method):
    reference, current = _samples(n, seed=n)
    base = detect_drift(reference, current)
    expected = _scores(base)
    assert {m for m, *_ in expected.values()} == {method}
    assert expected["moved"][1] and not expected["still"][1]  # the case is worth testing
    for factor in FACTORS:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # no overflow, no underflow
            scaled = detect_drift(reference * factor, current * factor)
            profiled = detect_drift(build_profile(reference * factor), current * factor)
        for result in (scaled, profiled):
            assert result.skipped == {}, factor
            got = _scores(result)
            assert got.keys() == expected.keys()
            for column, (want_method, want_drift, *want_numbers) in expected.items():
                got_method, got_drift, *got_numbers = got[column]
                assert (got_method, got_drift) == (want_method, want_drift), (factor, column)
                assert got_numbers == pytest.approx(want_numbers, rel=REL, abs=0), (factor, column)
            assert result.share == base.share and result.dataset_drift == base.dataset_drift


@pytest.mark.parametrize("factor", (1e-300, 1e-200, 1e-10, 1.0, 1e10, 1e200, 1e300))
def test_moments_are_finite_exact_and_mergeable_at_any_scale(factor):
    rng = np.random.default_rng(3)
    values = rng.normal(5.0, 2.0, 9000)
    expected_std = float(np.std(values))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        whole = NumericSummary.from_array(values * factor)
        merged = NumericPartial.merge(
            [NumericSummary.from_array(piece * factor).partial
             for piece in np.array_split(values, 5)])
    for partial in (whole.partial, merged):
        assert partial.std == pytest.approx(expected_std * factor, rel=1e-12, abs=0)
        assert partial.mean == pytest.approx(float(values.mean()) * factor, rel=1e-12, abs=0)
    # pieces of very different magnitudes merge into the moments of their union
    tiny, huge = values[:4000] * 1e-300, values[4000:] * factor
    union = np.concatenate((tiny, huge))
    pieces = [NumericSummary.from_array(tiny).partial, NumericSummary.from_array(huge).partial]
    assert NumericPartial.merge(pieces).std == pytest.approx(
        float(np.std(union / factor)) * factor, rel=1e-12, abs=0)


def test_profiles_pickled_before_the_scaling_still_read():
    partial = NumericSummary.from_array(np.arange(100.0)).partial
    state = pickle.loads(pickle.dumps(partial)).__dict__
    old = object.__new__(NumericPartial)
    # the old layout: no exponent, m2 unscaled
    old.__dict__.update({k: v for k, v in state.items() if k != "exponent"},
                        m2=float(np.sum((np.arange(100.0) - 49.5) ** 2)))
    assert old.std == pytest.approx(float(np.std(np.arange(100.0))), rel=1e-15, abs=0)
    assert NumericPartial.merge([old, partial]).std == pytest.approx(
        float(np.std(np.arange(100.0))), rel=1e-12, abs=0)


@pytest.mark.parametrize("n", (600, 4000))
def test_values_wider_than_float64_are_refused_with_a_reason(n):
    rng = np.random.default_rng(5)
    reference = pd.DataFrame({"x": rng.uniform(-1.5, 1.5, n) * 1e308,
                              "y": rng.normal(0, 1, n)})
    current = pd.DataFrame({"x": rng.uniform(-0.5, 1.7, n) * 1e308, "y": rng.normal(0, 1, n)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = detect_drift(reference, current)
    assert "overflows" in result.skipped["x"]
    assert [c.column for c in result.columns] == ["y"]


@pytest.mark.parametrize("factor", (1e-10, 1.0, 1e10))
def test_a_constant_reference_is_refused_on_the_wasserstein_path(factor):
    rng = np.random.default_rng(6)
    reference = pd.DataFrame({"x": np.full(3000, 2.0) * factor})
    current = pd.DataFrame({"x": rng.normal(2.0, 1.0, 3000) * factor})
    result = detect_drift(reference, current)
    assert result.columns == ()
    assert "constant" in result.skipped["x"] and "Wasserstein" in result.skipped["x"]
