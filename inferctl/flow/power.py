"""Power capping: limit any one participant's share of the epoch weight.

gonka applies this to the active participants after their PoC weights are known
(`x/inference/module/power_capping.go`). The limit p is the genesis-only param
`max_individual_power_percentage`, a Decimal such as 0.25. The algorithm:

1. With fewer than 2 participants, or p unset or 0, nothing changes.
2. With 2 or 3 participants, p is raised to 0.50 or 0.40 when it is lower.
3. Sort the weights ascending. Find the first position k (from 0) where
   w[k] > p * (sum(w[:k]) + w[k] * (N - k)). If there is none, nothing changes.
4. cap = trunc(p * sum(w[:k]) / (1 - p * (N - k))), or w[k] when that denominator
   is <= 0. Every weight above cap becomes cap, in the original order.

gonka computes the comparisons and the cap in float64. This module does the same
operations in the same order with Python floats, which are IEEE 754 doubles too, so
the results match gonka even where rounding decides. Only the integer results are
kept, so no float reaches the state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Limits for small networks, by participant count. The configured limit is raised
# to these values, never lowered.
SMALL_NETWORK_LIMITS = {1: 1.0, 2: 0.50, 3: 0.40}


@dataclass(frozen=True)
class CappingResult:
    """Weights after capping, in input order, with their total."""

    weights: list[int]
    total: int
    was_capped: bool
    cap: int | None = None


def decimal_to_float(decimal: Any) -> float | None:
    """Convert a {"value", "exponent"} Decimal to the nearest float; None stays None.

    gonka converts with shopspring's `InexactFloat64`, which rounds the exact decimal
    to the nearest double. Parsing the decimal text does the same rounding.
    """
    if decimal is None:
        return None
    return float(f"{int(decimal['value'])}e{int(decimal['exponent'])}")


def cap_weights(weights: Sequence[int], max_share: Any) -> CappingResult:
    """Apply gonka's power capping to `weights` with the Decimal limit `max_share`."""
    values = [int(weight) for weight in weights]
    total = sum(values)
    limit = decimal_to_float(max_share)
    if len(values) < 2 or limit is None or limit == 0.0:
        return CappingResult(values, total, False)

    limit = max(limit, SMALL_NETWORK_LIMITS.get(len(values), 0.0))
    cap = find_cap(sorted(values), limit)
    if cap is None:
        return CappingResult(values, total, False)

    capped = [min(weight, cap) for weight in values]
    return CappingResult(capped, sum(capped), True, cap)


def find_cap(ascending: list[int], limit: float) -> int | None:
    """Return the cap for weights sorted ascending, or None when none is needed."""
    count = len(ascending)
    sum_before = 0
    for k, weight in enumerate(ascending):
        remaining = count - k
        weighted_total = sum_before + weight * remaining
        if float(weight) > limit * float(weighted_total):
            denominator = 1.0 - limit * float(remaining)
            if denominator <= 0:
                return weight
            # int() truncates toward zero, as Go's int64(float64) conversion does.
            return int(limit * float(sum_before) / denominator)
        sum_before += weight
    return None
