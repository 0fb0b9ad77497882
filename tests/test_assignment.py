"""Tests for model assignment at epoch formation (inferctl.flow.assignment).

The first cases re-create gonka's `model_assignment_test.go`. The POC_SLOT choice is
checked against the Go golden vectors in tests/data/gorand_vectors.json and against
`inferctl.epochs.gorand`, which those vectors pin.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from inferctl.epochs.gorand import (
    GoRand,
    poc_slot_flags,
    poc_slot_seed,
    shuffle_positions,
)
from inferctl.errors import InvalidInput
from inferctl.flow.assignment import (
    choose_poc_slots,
    ml_node,
    set_models_for_participants,
    split_legacy_weight,
)

VECTORS = Path(__file__).parent / "data" / "gorand_vectors.json"
ADDRESS = "gonka1xmwh48ugfvd2ktmy0t90ueuzqxdk4g0anwe3v6"
QWQ = "Qwen/QwQ-32B"
QWEN_7B = "Qwen/Qwen2.5-7B-Instruct"
REGISTRY = {QWQ: {"id": QWQ}, QWEN_7B: {"id": QWEN_7B}}


def hardware(**nodes: list[str]) -> dict[str, Any]:
    """Return one participant's hardware record: {local_id: {"chain": ...}}."""
    return {local_id: {"chain": {"local_id": local_id, "models": sorted(models)}}
            for local_id, models in nodes.items()}


def participant(*nodes: dict[str, Any], address: str = ADDRESS) -> dict[str, Any]:
    return {"index": address, "weight": 1, "models": [],
            "ml_nodes": [{"ml_nodes": list(nodes)}]}


def assign(p: dict[str, Any], nodes: dict[str, Any] | None, epoch: int = 1,
           previous: dict[str, Any] | None = None,
           registry: dict[str, Any] | None = None) -> None:
    set_models_for_participants(
        [p], epoch_index=epoch, registry=registry or REGISTRY,
        hardware={} if nodes is None else {p["index"]: nodes},
        previous_slots={p["index"]: previous} if previous else {},
    )


def allocations(p: dict[str, Any], array: int = 0) -> list[list[bool]]:
    return [node["timeslot_allocation"] for node in p["ml_nodes"][array]["ml_nodes"]]


# ----- gonka's model_assignment_test.go --------------------------------------------


def test_one_model_two_nodes() -> None:
    p = participant(ml_node("mlnode1", 29), ml_node("mlnode2", 28))
    assign(p, hardware(mlnode1=[QWQ], mlnode2=[QWQ]))
    assert p["models"] == [QWQ]
    assert len(p["ml_nodes"]) == 1
    ids = [node["node_id"] for node in p["ml_nodes"][0]["ml_nodes"]]
    assert ids == ["mlnode1", "mlnode2"]
    assert sorted(allocations(p)) == [[True, False], [True, True]]


def test_one_model_two_nodes_matches_go_shuffle() -> None:
    p = participant(ml_node("mlnode1", 29), ml_node("mlnode2", 28))
    assign(p, hardware(mlnode1=[QWQ], mlnode2=[QWQ]))
    expected = poc_slot_flags(1, ADDRESS, QWQ, 2)
    assert [allocation[1] for allocation in allocations(p)] == expected


def test_one_node_one_model() -> None:
    registry = {QWEN_7B: {"id": QWEN_7B}}
    p = participant(ml_node("mlnode1", 29))
    assign(p, hardware(mlnode1=[QWEN_7B]), registry=registry)
    assert p["models"] == [QWEN_7B]
    assert len(p["ml_nodes"]) == 1
    assert allocations(p) == [[True, False]]


# ----- legacy split ------------------------------------------------------------------


def weights(nodes: list[dict[str, Any]]) -> dict[str, int]:
    return {node["node_id"]: node["poc_weight"] for node in nodes}


def test_legacy_split_remainder_counted_twice() -> None:
    # W = 10 over 3 nodes: per 3, rem 1, so the first node gets 3 + 2 = 5.
    nodes = split_legacy_weight([ml_node("", 10)], ["a", "b", "c"], {}, ADDRESS)
    assert weights(nodes) == {"a": 5, "b": 3, "c": 3}


def test_legacy_split_even() -> None:
    nodes = split_legacy_weight([ml_node("", 9)], ["a", "b", "c"], {}, ADDRESS)
    assert weights(nodes) == {"a": 3, "b": 3, "c": 3}


def test_legacy_split_omits_zero_share() -> None:
    # W = 2 over 3 nodes: per 0, rem 2; a and b get 0 + 2, c's share is 0.
    nodes = split_legacy_weight([ml_node("", 2)], ["a", "b", "c"], {}, ADDRESS)
    assert weights(nodes) == {"a": 2, "b": 2}


def test_legacy_split_keeps_preserved_weight() -> None:
    # a kept serving last PoC, so D = 2: per 5, rem 0. a keeps its weight 7.
    carried = dict(ml_node("a", 7), timeslot_allocation=[True, True])
    nodes = split_legacy_weight([ml_node("a", 7), ml_node("", 10)], ["a", "b", "c"],
                                {"a": carried}, ADDRESS)
    assert weights(nodes) == {"a": 7, "b": 5, "c": 5}


def test_legacy_split_appends_preserved_node() -> None:
    carried = dict(ml_node("a", 7), timeslot_allocation=[True, True])
    nodes = split_legacy_weight([ml_node("", 10)], ["a", "b", "c"], {"a": carried},
                                ADDRESS)
    assert weights(nodes) == {"a": 7, "b": 5, "c": 5}
    assert nodes[0]["timeslot_allocation"] == [True, False]


def test_legacy_split_remainder_skips_preserved() -> None:
    # a is preserved, so D = 2 with W = 11: per 5, rem 1. a takes no remainder
    # unit; b gets 5 + 2 and c gets 5.
    carried = ml_node("a", 4)
    nodes = split_legacy_weight([ml_node("a", 4), ml_node("", 11)], ["a", "b", "c"],
                                {"a": carried}, ADDRESS)
    assert weights(nodes) == {"a": 4, "b": 7, "c": 5}


def test_legacy_split_all_preserved_rejected() -> None:
    carried = {"a": ml_node("a", 4)}
    with pytest.raises(InvalidInput, match="divides by zero"):
        split_legacy_weight([ml_node("a", 4), ml_node("", 11)], ["a"], carried,
                            ADDRESS)


def test_legacy_split_without_hardware() -> None:
    original = [ml_node("", 10)]
    assert split_legacy_weight(original, [], {}, ADDRESS) == original


def test_assign_splits_legacy_entry() -> None:
    p = participant(ml_node("", 10))
    assign(p, hardware(n1=[QWQ], n2=[QWQ], n3=[QWQ]))
    assert weights(p["ml_nodes"][0]["ml_nodes"]) == {"n1": 5, "n2": 3, "n3": 3}


# ----- model grouping ------------------------------------------------------------------


def test_no_hardware_record() -> None:
    p = participant(ml_node("", 10))
    assign(p, None)
    assert p["models"] == []
    assert p["ml_nodes"] == []


def test_empty_hardware_record_keeps_entry() -> None:
    p = participant(ml_node("", 10))
    assign(p, {})
    assert p["models"] == []
    assert len(p["ml_nodes"]) == 1
    assert p["ml_nodes"][0]["ml_nodes"][0]["node_id"] == ""
    assert allocations(p) == [[True, False]]


def test_node_goes_to_lowest_model() -> None:
    # "Qwen/QwQ-32B" < "Qwen/Qwen2.5-7B-Instruct" because "Q" < "e".
    p = participant(ml_node("", 9))
    assign(p, hardware(n1=[QWQ, QWEN_7B], n2=[QWEN_7B], n3=[QWQ, QWEN_7B]))
    assert p["models"] == [QWQ, QWEN_7B]
    first = [node["node_id"] for node in p["ml_nodes"][0]["ml_nodes"]]
    second = [node["node_id"] for node in p["ml_nodes"][1]["ml_nodes"]]
    assert first == ["n1", "n3"]
    assert second == ["n2"]


def test_unregistered_model_node_trails() -> None:
    p = participant(ml_node("", 4))
    assign(p, hardware(n1=[QWQ], n2=["gone/model"]))
    assert p["models"] == [QWQ]
    assert len(p["ml_nodes"]) == 2
    assert [n["node_id"] for n in p["ml_nodes"][1]["ml_nodes"]] == ["n2"]
    assert allocations(p, 1) == [[True, False]]


def test_removed_preserved_node_trails() -> None:
    # A node carried over from the last PoC that is no longer registered keeps its
    # entry, but it matches no hardware node, so it ends in the trailing array.
    p = participant(ml_node("old", 6))
    assign(p, hardware(n1=[QWQ]))
    assert p["models"] == []
    assert [n["node_id"] for n in p["ml_nodes"][0]["ml_nodes"]] == ["old"]


def test_half_of_five_nodes_get_slot() -> None:
    p = participant(ml_node("", 50))
    assign(p, hardware(**{f"n{i}": [QWQ] for i in range(5)}))
    flags = [allocation[1] for allocation in allocations(p)]
    assert flags.count(True) == 2
    assert flags == poc_slot_flags(1, ADDRESS, QWQ, 5)


# ----- POC_SLOT choice -------------------------------------------------------------------


def test_choose_slots_go_vectors() -> None:
    cases = json.loads(VECTORS.read_text(encoding="utf-8"))["poc_slots"]
    assert len(cases) > 100
    for case in cases:
        flags = choose_poc_slots(case["epoch_index"], case["address"],
                                 case["model_id"], case["n"])
        assert flags == case["flags"], case


def reference_shuffle(seed: int, n: int) -> list[int]:
    """Shuffle range(n) with the full GoRand state, the port the Go vectors pin."""
    positions = list(range(n))

    def swap(i: int, j: int) -> None:
        positions[i], positions[j] = positions[j], positions[i]

    GoRand(seed).shuffle(n, swap)
    return positions


def test_fast_shuffle_go_vectors() -> None:
    cases = json.loads(VECTORS.read_text(encoding="utf-8"))["shuffles"]
    assert len(cases) > 1000
    for case in cases:
        assert shuffle_positions(case["seed"], case["n"]) == case["perm"], case


# 274 is the largest n the fast path can serve (273 draws); 275 and up use GoRand.
@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 7, 16, 100, 273, 274, 275, 300, 700])
def test_fast_shuffle_matches_full_state(n: int) -> None:
    rng = random.Random(n)
    for trial in range(10):
        seed = rng.randrange(-(2**63), 2**63)
        assert shuffle_positions(seed, n) == reference_shuffle(seed, n), (trial, seed)


def test_fast_shuffle_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    # A fast attempt that runs out of words part-way must not leave its swaps in
    # the result of the full-state retry.
    from inferctl.epochs import gorand

    def give_up(start: int, positions: list[int]) -> list[int]:
        positions.reverse()
        raise gorand._OutOfFreshWords

    monkeypatch.setattr(gorand, "_shuffle_fresh", give_up)
    assert shuffle_positions(42, 13) == reference_shuffle(42, 13)


@pytest.mark.parametrize("n", [2, 5, 100])
def test_choose_slots_half_of_shuffle(n: int) -> None:
    # POC_SLOT goes to the first n // 2 positions of the shuffle seeded with
    # sha256("<epoch>_<address>_<model>"), computed here from the full state.
    seed = poc_slot_seed(3, ADDRESS, QWQ)
    expected = [False] * n
    for position in reference_shuffle(seed, n)[: n // 2]:
        expected[position] = True
    assert choose_poc_slots(3, ADDRESS, QWQ, n) == expected
