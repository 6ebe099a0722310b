"""One number format (risk/numbers.py): margins and probabilities in percent with one decimal,
money with one decimal, errors to the precision that shows them."""

from __future__ import annotations

import math

import pytest

from risk import numbers


@pytest.mark.parametrize("x, se, percent, shown", [
    (0.7321, 0.00021, True, "73.2% ± 0.02%"),
    (0.7321, 0.0012, True, "73.2% ± 0.1%"),
    (0.7321, 0.0, True, "73.2% ± 0.0%"),
    (0.0141, 0.0000004, True, "1.4% ± 0.00004%"),
    (277.996, 0.359, False, "278.0 ± 0.4"),
    (277.996, 0.0359, False, "278.0 ± 0.04"),
    (1234.5, 12.3, False, "1,234.5 ± 12.3"),
    (math.nan, 0.001, True, "- ± 0.1%"),
])
def test_estimates(x, se, percent, shown):
    assert numbers.estimate(x, se, percent) == shown


def test_differences_signs_and_what_reads_as_a_percent():
    assert numbers.difference(-0.0043, 0.0009, True) == "-0.4% ± 0.09%"
    assert numbers.difference(0.018, 0.005, True) == "+1.8% ± 0.5%"
    assert numbers.is_fraction("1") and numbers.is_fraction("USD bn", "P(< 170)")
    assert not numbers.is_fraction("USD bn", "P50") and not numbers.is_fraction("bp")
