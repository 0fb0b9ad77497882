"""Tests for power capping (inferctl.flow.power).

The cases re-create gonka's `power_capping_test.go` inputs. Where that test only
checks a bound, the exact values here are worked out by hand in the comments.
"""

from __future__ import annotations

from inferctl.flow.power import cap_weights, decimal_to_float

PERCENT_30 = {"value": 30, "exponent": -2}
PERCENT_25 = {"value": 25, "exponent": -2}


def test_basic_caps_largest() -> None:
    # 3 participants raise the limit to 0.40. Sorted [1000, 2000, 7000]:
    # k=0: 1000 > 0.4 * 3000 = 1200? no.  k=1: 2000 > 0.4 * (1000 + 4000)? no.
    # k=2: 7000 > 0.4 * (3000 + 7000) = 4000, so cap = 0.4 * 3000 / (1 - 0.4) = 2000.
    result = cap_weights([1000, 2000, 7000], PERCENT_30)
    assert result.was_capped
    assert result.weights == [1000, 2000, 2000]
    assert result.total == 5000
    assert result.cap == 2000


def test_no_capping_needed() -> None:
    # Each 2500 is 25 % of 10000, below 30 %: 2500 > 0.3 * 10000 never holds.
    result = cap_weights([2500, 2500, 2500, 2500], PERCENT_30)
    assert not result.was_capped
    assert result.weights == [2500, 2500, 2500, 2500]
    assert result.total == 10000


def test_single_participant() -> None:
    result = cap_weights([1000], PERCENT_30)
    assert not result.was_capped
    assert result.total == 1000
    assert result.weights == [1000]


def test_empty_input() -> None:
    result = cap_weights([], PERCENT_30)
    assert not result.was_capped
    assert result.total == 0
    assert result.weights == []


def test_sorting_algorithm_example() -> None:
    # [1000, 2000, 4000, 8000] at 30 %: k=2 is the first with
    # 4000 > 0.3 * (3000 + 4000 * 2) = 3300; cap = 0.3 * 3000 / (1 - 0.6) = 2250.
    result = cap_weights([1000, 2000, 4000, 8000], PERCENT_30)
    assert result.was_capped
    assert result.weights == [1000, 2000, 2250, 2250]
    assert result.total == 7500


def test_parameter_not_set() -> None:
    result = cap_weights([1000, 2000, 7000], None)
    assert not result.was_capped
    assert result.total == 10000
    assert result.weights == [1000, 2000, 7000]


def test_power_conservation() -> None:
    original = [1000, 2000, 7000]
    result = cap_weights(original, PERCENT_30)
    assert len(result.weights) == len(original)
    assert all(weight >= 0 for weight in result.weights)
    assert all(new <= old for new, old in zip(result.weights, original, strict=True))
    assert sum(result.weights) == result.total
    assert result.total <= sum(original)


def test_zero_percentage_no_limit() -> None:
    result = cap_weights([1000, 2000, 9000], {"value": 0, "exponent": 0})
    assert not result.was_capped
    assert result.total == 12000
    assert result.weights == [1000, 2000, 9000]


def test_two_participants_raise_to_half() -> None:
    # 2 participants raise 0.25 to 0.50. Sorted [10, 57]: k=0: 10 > 0.5 * 20? no.
    # k=1: 57 > 0.5 * (10 + 57) = 33.5, cap = 0.5 * 10 / (1 - 0.5) = 10.
    result = cap_weights([57, 10], PERCENT_25)
    assert result.weights == [10, 10]
    assert result.total == 20


def test_order_is_kept() -> None:
    result = cap_weights([8000, 1000, 4000, 2000], PERCENT_30)
    assert result.weights == [2250, 1000, 2250, 2000]


def test_higher_limit_not_lowered() -> None:
    # A configured 0.60 stays 0.60 for 3 participants (the raise only goes up).
    # Sorted [1000, 2000, 7000]: k=2: 7000 > 0.6 * 10000 = 6000, but
    # 1 - 0.6 * 1 = 0.4 > 0, so cap = 0.6 * 3000 / 0.4 = 4500.
    result = cap_weights([1000, 2000, 7000], {"value": 60, "exponent": -2})
    assert result.weights == [1000, 2000, 4500]


def test_decimal_to_float() -> None:
    assert decimal_to_float(PERCENT_25) == 0.25
    assert decimal_to_float({"value": 3, "exponent": 1}) == 30.0
    assert decimal_to_float(None) is None
