"""How numbers are shown to people: in metadata, pages and tables alike."""

from __future__ import annotations

import math


def figure(value) -> float | None:
    """Four significant digits, or None for a missing figure (None or NaN): a p-value of
    4.3e-18 stays 4.3e-18, never a bare 0, and 0.123456 reads 0.1235."""
    if value is None:
        return None
    value = float(value)
    if math.isnan(value):
        return None
    return float(f"{value:.4g}")


def text(value, p_value: bool = False) -> str:
    """A figure as text: '-' when missing, scientific notation below 1e-3; a p-value that
    underflowed to 0 is '< 1e-300', never a bare 0."""
    shown = figure(value)
    if shown is None:
        return "-"
    if p_value and shown == 0:
        return "< 1e-300"
    if shown != 0 and abs(shown) < 1e-3:
        return f"{shown:.2e}"
    return f"{shown:g}"
