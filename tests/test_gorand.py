"""Tests for the port of Go's math/rand in inferctl.epochs.gorand.

The golden vectors in tests/data/gorand_vectors.json come from real Go
(tools/gen-gorand-vectors.sh), so CI needs no Go toolchain.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from inferctl.epochs import gorand
from inferctl.epochs.gorand import GoRand, poc_slot_flags, poc_slot_seed
from inferctl.errors import InvalidInput

VECTORS_PATH = Path(__file__).parent / "data" / "gorand_vectors.json"
MASK63 = (1 << 63) - 1
MASK64 = (1 << 64) - 1


@pytest.fixture(scope="module")
def vectors() -> dict:
    return json.loads(VECTORS_PATH.read_text(encoding="utf-8"))


def shuffled_range(rng: GoRand, n: int) -> list[int]:
    items = list(range(n))

    def swap(i: int, j: int) -> None:
        items[i], items[j] = items[j], items[i]

    rng.shuffle(n, swap)
    return items


def test_vectors_from_go(vectors: dict) -> None:
    assert vectors["generator"].startswith("go version go1.")


def test_vectors_case_count(vectors: dict) -> None:
    groups = ("streams", "bounded", "shuffles", "poc_seeds", "poc_slots")
    total = sum(len(vectors[group]) for group in groups)
    assert total == vectors["case_count"]
    assert total >= 2000


def test_streams_match_go(vectors: dict) -> None:
    for case in vectors["streams"]:
        rng = GoRand(case["seed"])
        method = getattr(rng, case["method"])
        values = [method() for _ in case["values"]]
        assert values == case["values"], (case["seed"], case["method"])


def test_bounded_match_go(vectors: dict) -> None:
    for case in vectors["bounded"]:
        rng = GoRand(case["seed"])
        method = getattr(rng, case["method"])
        values = [method(bound) for bound in case["bounds"]]
        assert values == case["values"], (case["seed"], case["method"])


def test_shuffles_match_go(vectors: dict) -> None:
    for case in vectors["shuffles"]:
        perm = shuffled_range(GoRand(case["seed"]), case["n"])
        assert perm == case["perm"], (case["seed"], case["n"])


def test_poc_seeds_match_go(vectors: dict) -> None:
    for case in vectors["poc_seeds"]:
        epoch, address, model_id = case["text"].split("_", 2)
        assert poc_slot_seed(int(epoch), address, model_id) == case["seed"], case


def test_poc_slots_match_go(vectors: dict) -> None:
    for case in vectors["poc_slots"]:
        key = (case["epoch_index"], case["address"], case["model_id"])
        assert poc_slot_seed(*key) == case["seed"], case
        assert poc_slot_flags(*key, case["n"]) == case["flags"], case


def test_vectors_cover_extreme_seeds(vectors: dict) -> None:
    seeds = {case["seed"] for case in vectors["shuffles"]}
    assert -(1 << 63) in seeds
    assert (1 << 63) - 1 in seeds
    assert 0 in seeds
    assert -1 in seeds


def test_seed_one_first_values() -> None:
    # Go 1.19.8 prints these as the first two rand.New(rand.NewSource(1)).Int63().
    rng = GoRand(1)
    assert rng.int63() == 5577006791947779410
    assert rng.int63() == 8674665223082153551


def test_zero_seed_equals_substitute() -> None:
    # Go replaces a seed that is 0 mod 2**31 - 1 with 89482311.
    expected = GoRand(89482311).uint64()
    for seed in (0, 2**31 - 1, -(2**31 - 1), 2 * (2**31 - 1)):
        assert GoRand(seed).uint64() == expected, seed


def test_negative_seed_reduces_mod() -> None:
    # -1 mod (2**31 - 1) is 2**31 - 2 after Go's fix-up of its truncated remainder.
    assert GoRand(-1).uint64() == GoRand(2**31 - 2).uint64()


def test_reseed_restarts_stream() -> None:
    rng = GoRand(7)
    first = [rng.uint64() for _ in range(5)]
    rng.seed(7)
    assert [rng.uint64() for _ in range(5)] == first


def test_derived_methods_agree() -> None:
    low63 = GoRand(99).uint64() & MASK63
    assert GoRand(99).int63() == low63
    assert GoRand(99).uint32() == low63 >> 31
    assert GoRand(99).int31() == low63 >> 32


def test_shuffle_is_permutation() -> None:
    for n in (0, 1, 2, 10, 200):
        perm = shuffled_range(GoRand(n), n)
        assert sorted(perm) == list(range(n)), n


def test_shuffle_swaps_every_index() -> None:
    calls: list[tuple[int, int]] = []
    GoRand(3).shuffle(6, lambda i, j: calls.append((i, j)))
    assert [i for i, _ in calls] == [5, 4, 3, 2, 1]
    assert all(0 <= j <= i for i, j in calls)


def test_shuffle_one_draws_nothing() -> None:
    rng = GoRand(5)
    rng.shuffle(1, lambda i, j: pytest.fail("swap called for n=1"))
    assert rng.uint64() == GoRand(5).uint64()


def test_poc_slot_one_node() -> None:
    assert poc_slot_flags(1, "gonka1x", "Qwen/QwQ-32B", 1) == [False]


def test_poc_slot_two_nodes() -> None:
    for epoch in range(20):
        flags = poc_slot_flags(epoch, "gonka1x", "Qwen/QwQ-32B", 2)
        assert flags.count(True) == 1, epoch


def test_poc_slot_five_nodes() -> None:
    for epoch in range(20):
        flags = poc_slot_flags(epoch, "gonka1x", "Qwen/QwQ-32B", 5)
        assert len(flags) == 5, epoch
        assert flags.count(True) == 2, epoch


def test_poc_slot_zero_nodes() -> None:
    assert poc_slot_flags(3, "gonka1x", "Qwen/QwQ-32B", 0) == []


def test_poc_slot_seed_by_hand() -> None:
    digest = hashlib.sha256(b"7_gonka1abc_Qwen/QwQ-32B").digest()
    unsigned = int.from_bytes(digest[:8], "big")
    expected = unsigned - (1 << 64) if unsigned >= 1 << 63 else unsigned
    assert poc_slot_seed(7, "gonka1abc", "Qwen/QwQ-32B") == expected


@pytest.mark.parametrize("seed", [1 << 63, -(1 << 63) - 1, True, 1.5, "1"])
def test_seed_rejects_bad(seed: object) -> None:
    with pytest.raises(InvalidInput):
        GoRand(seed)  # type: ignore[arg-type]


@pytest.mark.parametrize("bound", [0, -1, 1 << 31])
def test_int31n_rejects_bad(bound: int) -> None:
    with pytest.raises(InvalidInput):
        GoRand(1).int31n(bound)


@pytest.mark.parametrize("bound", [0, -5, 1 << 63])
def test_int63n_rejects_bad(bound: int) -> None:
    with pytest.raises(InvalidInput):
        GoRand(1).int63n(bound)


def test_shuffle_rejects_negative() -> None:
    with pytest.raises(InvalidInput):
        GoRand(1).shuffle(-1, lambda i, j: None)


def test_poc_flags_reject_negative() -> None:
    with pytest.raises(InvalidInput):
        poc_slot_flags(1, "gonka1x", "m", -1)


def test_poc_seed_rejects_negative() -> None:
    with pytest.raises(InvalidInput):
        poc_slot_seed(-1, "gonka1x", "m")


def naive_advance(initial: list[int], steps: int) -> list[int]:
    """Run the lagged Fibonacci recurrence step by step, as Go's Uint64 does."""
    vec = list(initial)
    tap, feed = 0, 607 - 273
    for _ in range(steps):
        tap = (tap - 1) % 607
        feed = (feed - 1) % 607
        vec[feed] = (vec[feed] + vec[tap]) & MASK64
    return vec


@pytest.mark.parametrize("steps", [0, 1, 272, 606, 607, 608, 1500, 4099])
def test_jump_matches_naive(steps: int) -> None:
    initial = [(i * 0x9E3779B97F4A7C15 + 12345) & MASK64 for i in range(607)]
    assert gorand._advance_state(initial, steps) == naive_advance(initial, steps)
