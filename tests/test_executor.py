"""Tests for executor selection (inferctl.flow.executor, `inferctl executor`)."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from fractions import Fraction
from typing import Any

import pytest

from inferctl.bech32 import decode, encode
from inferctl.bech32 import test_address as make_address
from inferctl.cli.executor import format_probability
from inferctl.errors import NoExecutor, NotFound
from inferctl.flow import epochs
from inferctl.flow.executor import build_routing, candidates, pick, pick_many
from inferctl.txs import TxContext

MODEL = "model1"
OTHER = "model2"
CHI_SQUARE_CRITICAL_2_DOF = 13.816  # p = 0.001 with 2 degrees of freedom


def make_state(members: dict[str, dict[str, list[str]]], weights: dict[str, int],
               *, capping: bool = False) -> dict[str, Any]:
    """Return a state at genesis with participants, their nodes and PoC weights.

    `members` maps a name to {node id: [model ids]}; addresses are test addresses.
    """
    state: dict[str, Any] = {
        "prefix": "gonka",
        "params": {
            "epoch_params": {"epoch_length": 100, "poc_stage_duration": 10,
                             "poc_exchange_duration": 2, "poc_validation_delay": 2,
                             "poc_validation_duration": 6,
                             "set_new_validators_delay": 1,
                             "default_unit_of_compute_price": 100,
                             "epoch_multiplier": 1,
                             "inference_pruning_epoch_threshold": 2},
            "collateral_params": {"grace_period_end_epoch": 180},
            "validation_params": {},
        },
        "genesis_only_params": {"max_individual_power_percentage":
                                {"value": 30, "exponent": -2} if capping else None},
        "models": {MODEL: {"id": MODEL}, OTHER: {"id": OTHER}},
        "participants": {}, "hardware": {}, "block_height": 0,
    }
    epochs.init_genesis_epochs(state, {})
    results = {}
    for name, nodes in members.items():
        address = make_address(name, "gonka")
        state["participants"][address] = {
            "index": address, "address": address, "weight": 1,
            "validator_key": "a2V5", "inference_url": f"http://{name}.example:8000"}
        state["hardware"][address] = {
            node_id: {"chain": {"local_id": node_id, "models": models}}
            for node_id, models in nodes.items()}
        results[address] = weights[name]
    state["poc_results"] = {"1": results}
    return state


def form_and_activate(state: dict[str, Any]) -> None:
    index = state["effective_epoch"] + 1
    epochs.apply_form_epoch(state, {"epoch_index": index}, TxContext(1, 0, "."))
    epochs.apply_set_new_validators(state, {"epoch_index": index}, TxContext(2, 0, "."))


def addr(name: str) -> str:
    return make_address(name, "gonka")


# ----- gonka's epoch_group_test.go ---------------------------------------------------


def test_random_member_single() -> None:
    state = make_state({"member1": {"n1": [MODEL]}}, {"member1": 12})
    form_and_activate(state)
    found = candidates(state, MODEL)
    chosen = pick(found, random.Random(0))
    assert chosen.address == addr("member1")
    assert chosen.weight == 12


# ----- weighted draw -------------------------------------------------------------------


def three_members() -> dict[str, Any]:
    state = make_state(
        {"a": {"n": [MODEL]}, "b": {"n": [MODEL]}, "c": {"n": [MODEL]}},
        {"a": 1, "b": 2, "c": 7},
    )
    form_and_activate(state)
    return state


def test_picks_follow_weights() -> None:
    found = candidates(three_members(), MODEL)
    picks = Counter(member.weight for member in pick_many(found, 2024, 100_000))
    expected = {1: 10_000, 2: 20_000, 7: 70_000}
    chi_square = sum((picks[w] - e) ** 2 / e for w, e in expected.items())
    assert sum(picks.values()) == 100_000
    assert chi_square < CHI_SQUARE_CRITICAL_2_DOF


def test_fixed_seed_repeats() -> None:
    found = candidates(three_members(), MODEL)
    first = [m.address for m in pick_many(found, 7, 50)]
    second = [m.address for m in pick_many(found, 7, 50)]
    assert first == second
    assert len(set(first)) > 1


def test_draw_is_randrange() -> None:
    # The draw is random.Random(seed).randrange(total) over cumulative weights in
    # address-byte order, so the pick can be recomputed here independently.
    found = candidates(three_members(), MODEL)
    ordered = sorted(found.members, key=lambda m: decode(m.address)[1])
    rng = random.Random(99)
    expected = []
    for _ in range(20):
        r = rng.randrange(10)
        running = 0
        for member in ordered:
            running += member.weight
            if running > r:
                expected.append(member.address)
                break
    assert [m.address for m in pick_many(found, 99, 20)] == expected


def test_probabilities_exact() -> None:
    found = candidates(three_members(), MODEL)
    chances = {m.weight: found.probability(m) for m in found.members}
    assert chances == {1: Fraction(1, 10), 2: Fraction(1, 5), 7: Fraction(7, 10)}


def test_members_in_address_byte_order() -> None:
    found = candidates(three_members(), MODEL)
    addresses = [m.address for m in found.members]
    assert addresses == sorted(addresses, key=lambda a: decode(a)[1])


def test_first_hundred_members_only() -> None:
    names = {f"p{i}": {"n": [MODEL]} for i in range(130)}
    state = make_state(names, dict.fromkeys(names, 5))
    form_and_activate(state)
    found = candidates(state, MODEL)
    everyone = sorted((addr(name) for name in names), key=lambda a: decode(a)[1])
    assert found.member_count == 130
    assert [m.address for m in found.members] == everyone[:100]
    assert found.total == 500


def test_address_sort_key_matches_bytes() -> None:
    rng = random.Random(3)
    addresses = [encode("gonka", rng.randbytes(rng.choice([20, 32])))
                 for _ in range(500)]
    by_key = sorted(addresses, key=epochs.address_sort_key)
    by_bytes = sorted(addresses, key=lambda a: decode(a)[1])
    assert by_key == by_bytes


# ----- filters and errors ---------------------------------------------------------------


def slot_state() -> dict[str, Any]:
    """Two members: one with 2 nodes for MODEL (one gets POC_SLOT), one with 1."""
    state = make_state({"two": {"n1": [MODEL], "n2": [MODEL]}, "one": {"n1": [MODEL]}},
                       {"two": 4, "one": 4})
    form_and_activate(state)
    return state


def test_poc_phase_keeps_slot_members() -> None:
    found = candidates(slot_state(), MODEL, "poc")
    assert [m.address for m in found.members] == [addr("two")]


def test_parent_group_in_poc_phase() -> None:
    with pytest.raises(NoExecutor, match="POC_SLOT"):
        candidates(slot_state(), "", "poc")


def test_parent_group_inference() -> None:
    found = candidates(slot_state(), "")
    assert sorted(m.address for m in found.members) == sorted([addr("two"), addr("one")])


def test_only_member_weight_zero() -> None:
    state = make_state({"solo": {"n1": [MODEL]}}, {"solo": 3})
    form_and_activate(state)
    routing = state["routing"]["models"][MODEL]
    routing["members"][0][1] = 0  # as if x/group held the member with weight 0
    routing["members"][0][2] = 0
    with pytest.raises(NoExecutor, match="weight 0"):
        candidates(state, MODEL)


def test_unknown_model() -> None:
    with pytest.raises(NotFound, match="not registered"):
        candidates(slot_state(), "Model1")


def test_model_without_sub_group() -> None:
    with pytest.raises(NoExecutor, match="no member serves model 'model2'"):
        candidates(slot_state(), OTHER)


def test_epoch_zero_has_no_sub_groups() -> None:
    state = make_state({"a": {"n": [MODEL]}}, {"a": 1})
    with pytest.raises(NoExecutor, match="no model sub-groups"):
        candidates(state, MODEL)


def test_epoch_zero_poc_phase() -> None:
    # The chain reports its PoC filter's error first; inferctl names the real cause,
    # that epoch 0 has no sub-groups in any phase.
    state = make_state({"a": {"n": [MODEL]}}, {"a": 1})
    with pytest.raises(NoExecutor, match="no model sub-groups"):
        candidates(state, MODEL, "poc")


def test_routing_rebuilt_when_missing() -> None:
    state = three_members()
    expected = state.pop("routing")
    assert candidates(state, MODEL).total == 10
    assert build_routing(state, 1) == expected


@pytest.mark.parametrize(("chance", "text"), [
    (Fraction(1, 3), "0.3333"), (Fraction(2, 3), "0.6667"), (Fraction(1, 2), "0.5000"),
    (Fraction(1, 32), "0.0313"), (Fraction(1, 1), "1.0000"), (Fraction(0, 1), "0.0000"),
])
def test_format_probability(chance: Fraction, text: str) -> None:
    assert format_probability(chance) == text


# ----- command line ------------------------------------------------------------------------

QWQ = "Qwen/QwQ-32B"
ALICE = "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le"  # a mainnet genesis participant


@pytest.fixture
def served_home(run, mainnet_home: str) -> str:
    """A mainnet ledger where epoch 1 is effective and ALICE serves QwQ on 2 nodes.

    The chain is at block 506, one block after the switch (505), where picks keep
    every member.
    """
    for node_id in ("mlnode1", "mlnode2"):
        outcome = run("node", "register", "--participant", ALICE, "--id", node_id,
                      "--host", "10.0.0.1", "--inference-port", "5000",
                      "--poc-port", "8080", "--max-concurrent", "4", "--model", QWQ,
                      "--home", mainnet_home)
        assert outcome.exit_code == 0, outcome.stderr
    for args in (("poc", "submit", ALICE, "--weight", "57"),
                 ("chain", "advance", "--to", "next-epoch"),
                 ("chain", "advance", "--blocks", "1")):
        outcome = run(*args, "--home", mainnet_home)
        assert outcome.exit_code == 0, outcome.stderr
    return mainnet_home


def test_cli_pick(run, served_home: str) -> None:
    outcome = run("executor", "pick", "--model", QWQ, "--seed", "5", "--home",
                  served_home)
    assert outcome.exit_code == 0
    assert outcome.stdout == f"{ALICE}  http://node1.gonka.ai:8000  weight 57  epoch 1\n"
    assert outcome.stderr == ""


def test_cli_pick_json(run, served_home: str) -> None:
    import json

    outcome = run("executor", "pick", "--model", QWQ, "--seed", "5", "--count", "2",
                  "--json", "--home", served_home)
    assert outcome.exit_code == 0
    document = json.loads(outcome.stdout)
    assert document["epoch_index"] == 1
    assert document["seed"] == 5
    assert [p["address"] for p in document["picks"]] == [ALICE, ALICE]
    assert document["picks"][0]["inference_url"] == "http://node1.gonka.ai:8000"


def test_cli_random_seed_logged(run, served_home: str) -> None:
    outcome = run("-v", "executor", "pick", "--model", "", "--home", served_home)
    assert outcome.exit_code == 0
    assert re.search(r"^info: seed \d+$", outcome.stderr, re.MULTILINE)


def test_cli_same_seed_same_picks(run, mainnet_home: str) -> None:
    # Epoch 0's parent group contains the 11 genesis validators with weight 1 each.
    args = ("executor", "pick", "--model", "", "--seed", "11", "--count", "8",
            "--phase", "inference", "--home", mainnet_home)
    first = run(*args)
    second = run(*args)
    assert first.exit_code == 0
    assert first.stdout == second.stdout
    assert len(first.stdout.splitlines()) == 8


def test_cli_poc_phase_filters(run, served_home: str) -> None:
    # 2 nodes for QwQ give ALICE exactly one POC_SLOT node.
    outcome = run("executor", "list", "--model", QWQ, "--phase", "poc", "--home",
                  served_home)
    assert outcome.exit_code == 0
    assert outcome.stdout == f"{ALICE}  weight 57  1.0000\n"


def test_cli_list_json(run, served_home: str) -> None:
    import json

    outcome = run("executor", "list", "--model", QWQ, "--json", "--home", served_home)
    assert outcome.exit_code == 0
    document = json.loads(outcome.stdout)
    assert document["members"] == [{"address": ALICE, "weight": 57,
                                    "probability": {"numerator": 1, "denominator": 1}}]


def test_cli_epoch_zero_no_executor(run, mainnet_home: str) -> None:
    outcome = run("executor", "pick", "--model", QWQ, "--phase", "inference",
                  "--home", mainnet_home)
    assert outcome.exit_code == 9
    assert outcome.stdout == ""
    assert "no model sub-groups" in outcome.stderr


def test_cli_unknown_model(run, served_home: str) -> None:
    outcome = run("executor", "pick", "--model", "qwen/qwq-32b", "--home", served_home)
    assert outcome.exit_code == 4
    assert outcome.stdout == ""
    assert "model 'qwen/qwq-32b' is not registered" in outcome.stderr


def test_cli_model_without_members(run, served_home: str) -> None:
    outcome = run("executor", "pick", "--model", "Qwen/Qwen2.5-7B-Instruct", "--home",
                  served_home)
    assert outcome.exit_code == 9
    assert outcome.stderr.count("\n") == 1
    assert "no member serves model" in outcome.stderr


def test_cli_parent_poc_phase_no_executor(run, served_home: str) -> None:
    outcome = run("executor", "pick", "--model", "", "--phase", "poc", "--home",
                  served_home)
    assert outcome.exit_code == 9
    assert "POC_SLOT" in outcome.stderr


# ----- phase at the block height ---------------------------------------------------------


def test_cli_pick_json_phase_and_height(run, served_home: str) -> None:
    outcome = run("executor", "pick", "--model", QWQ, "--seed", "5", "--json",
                  "--home", served_home)
    document = json.loads(outcome.stdout)
    assert outcome.exit_code == 0
    assert document["phase"] == "inference"
    assert document["block_height"] == 506


def test_cli_parent_pick_all_members_after_switch(run, served_home: str) -> None:
    # At block 506 every member can be picked, so the parent group works.
    outcome = run("executor", "pick", "--model", "", "--seed", "1", "--home",
                  served_home)
    assert outcome.exit_code == 0
    assert outcome.stdout.startswith(ALICE)


def test_cli_switch_block_is_poc_time(run, mainnet_home: str) -> None:
    # At the switch block 505 the context is already epoch 2, whose switch is ahead,
    # so only POC_SLOT members count and the parent group (no model) has none.
    for node_id in ("mlnode1", "mlnode2"):
        assert run("node", "register", "--participant", ALICE, "--id", node_id,
                   "--host", "10.0.0.1", "--inference-port", "5000", "--poc-port",
                   "8080", "--max-concurrent", "4", "--model", QWQ, "--home",
                   mainnet_home).exit_code == 0
    for args in (("poc", "submit", ALICE, "--weight", "57"),
                 ("chain", "advance", "--to", "next-epoch")):
        assert run(*args, "--home", mainnet_home).exit_code == 0
    outcome = run("executor", "pick", "--model", "", "--home", mainnet_home)
    assert outcome.exit_code == 9
    assert outcome.stdout == ""
    assert "at block 505 (epoch 2, phase Inference)" in outcome.stderr
    assert "--phase inference" in outcome.stderr


def test_cli_genesis_block_is_poc_time(run, mainnet_home: str) -> None:
    # Block 0 is neither after epoch 0's switch (0) nor in epoch 1's Inference time
    # after its switch, so the chain's filter needs the ActiveParticipants record
    # that epoch 0 lacks.
    outcome = run("executor", "pick", "--model", "", "--home", mainnet_home)
    assert outcome.exit_code == 4
    assert "no ActiveParticipants record" in outcome.stderr
    assert "at block 0" in outcome.stderr


def test_cli_epoch_zero_inference_after_block_one(run, mainnet_home: str) -> None:
    advanced = run("chain", "advance", "--blocks", "1", "--home", mainnet_home)
    outcome = run("executor", "list", "--model", "", "--json", "--home", mainnet_home)
    assert advanced.exit_code == 0
    assert outcome.exit_code == 0
    document = json.loads(outcome.stdout)
    assert document["phase"] == "inference"
    assert document["member_count"] == 11


def test_cli_verbose_logs_phase(run, served_home: str) -> None:
    outcome = run("-v", "executor", "list", "--model", QWQ, "--home", served_home)
    assert outcome.exit_code == 0
    assert "info: phase inference at block 506" in outcome.stderr
