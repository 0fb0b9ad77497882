"""Tests for epoch 0, PoC results, formation and the switch (inferctl.flow.epochs)."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest

from inferctl.bech32 import test_address as make_address
from inferctl.epochs.gorand import poc_slot_flags
from inferctl.errors import Conflict, InvalidInput, NotFound
from inferctl.flow import epochs
from inferctl.txs import TxContext, Unchanged

MAINNET_GENESIS = Path(__file__).parent / "data" / "genesis" / "mainnet-genesis.json"
MODEL = "model1"
OTHER = "model2"

# Mainnet epoch params: length 17280, shift 16980, PoC 60, exchange 5, validation
# delay 5, validation 20, switch delay 120. Epoch 1: PoC start 17280 - 16980 = 300,
# end of PoC 360, validation 365 to 385 (formation), switch 385 + 120 = 505.
MAINNET_EPOCH_PARAMS = {
    "epoch_length": 17280, "epoch_multiplier": 1, "epoch_shift": 16980,
    "default_unit_of_compute_price": 100, "poc_stage_duration": 60,
    "poc_exchange_duration": 5, "poc_validation_delay": 5,
    "poc_validation_duration": 20, "set_new_validators_delay": 120,
    "inference_validation_cutoff": 80, "inference_pruning_epoch_threshold": 2,
}


def ctx(height: int = 1) -> TxContext:
    return TxContext(height, 0, ".")


def addr(name: str) -> str:
    return make_address(name, "gonka")


def new_state(doc: dict[str, Any] | None = None, *, capping: Any = None) -> dict:
    state: dict[str, Any] = {
        "prefix": "gonka",
        "params": {"epoch_params": dict(MAINNET_EPOCH_PARAMS),
                   "collateral_params": {"grace_period_end_epoch": 180,
                                         "base_weight_ratio": {"value": 2,
                                                               "exponent": -1}},
                   "validation_params": {"expiration_blocks": 20}},
        "genesis_only_params": {"max_individual_power_percentage": capping},
        "models": {MODEL: {"id": MODEL, "v_ram": 80},
                   OTHER: {"id": OTHER, "v_ram": 24}},
        "participants": {}, "hardware": {}, "block_height": 0,
    }
    epochs.init_genesis_epochs(state, doc or {})
    return state


def join(state: dict, name: str, nodes: dict[str, list[str]] | None = None,
         *, validator_key: str = "a2V5") -> str:
    address = addr(name)
    state["participants"][address] = {
        "index": address, "address": address, "weight": -1,
        "validator_key": validator_key, "inference_url": f"http://{name}:8000"}
    if nodes is not None:
        state["hardware"][address] = {
            node_id: {"chain": {"local_id": node_id, "models": models}}
            for node_id, models in nodes.items()}
    return address


def submit(state: dict, name: str, weight: int) -> None:
    body = {"participant": addr(name), "epoch_index": state["effective_epoch"] + 1,
            "weight": weight}
    epochs.apply_poc_result(state, body, ctx())


def form(state: dict) -> dict:
    index = state["effective_epoch"] + 1
    return epochs.apply_form_epoch(state, {"epoch_index": index}, ctx())


def activate(state: dict) -> dict:
    index = state["effective_epoch"] + 1
    return epochs.apply_set_new_validators(state, {"epoch_index": index}, ctx())


def group(state: dict, index: int, model_id: str = "") -> dict:
    return state["epoch_groups"][str(index)][model_id]


def members(state: dict, index: int, model_id: str = "") -> dict[str, int]:
    return {w["member_address"]: w["weight"]
            for w in group(state, index, model_id)["validation_weights"]}


# ----- epoch 0 ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mainnet_doc() -> dict:
    return json.loads(MAINNET_GENESIS.read_text(encoding="utf-8"))


def test_genesis_epoch_zero(mainnet_doc: dict) -> None:
    state = new_state(mainnet_doc)
    parent = group(state, 0)
    assert state["epochs"] == {"0": {"index": 0, "poc_start_block_height": 0}}
    assert state["effective_epoch"] == 0
    assert parent["epoch_group_id"] == 1
    assert parent["sub_group_models"] == []
    assert list(state["epoch_groups"]["0"]) == [""]
    assert len(parent["validation_weights"]) == 11
    assert parent["total_weight"] == 11


def test_genesis_validator_members(mainnet_doc: dict) -> None:
    state = new_state(mainnet_doc)
    weights = group(state, 0)["validation_weights"]
    # Operator gonkavaloper1y2a9p56k... belongs to account gonka1y2a9p56k...
    assert "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le" in members(state, 0)
    assert all(w["weight"] == 1 for w in weights)
    assert all(w["reputation"] == 1 for w in weights)
    assert all(w["ml_nodes"] == [] for w in weights)


def test_genesis_validators_are_participants(mainnet_doc: dict) -> None:
    # On mainnet each of the 11 gentx validators is also a genesis participant.
    listed = {p["index"] for p in mainnet_doc["app_state"]["inference"]["participant_list"]}
    assert set(members(new_state(mainnet_doc), 0)) == listed


def test_policy_address_x_group_vector() -> None:
    # Cosmos SDK's x/auth v2 migration test derives this address from
    # NewModuleCredential("group", [0x20], 8-byte big-endian 0).
    expected = "cosmos1q32tjg5qm3n9fj8wjgpd7gl98prefntrckjkyvh8tntp7q33zj0s5tkjrk"
    assert epochs.policy_address(0, "cosmos") == expected


# ----- voting power --------------------------------------------------------------------------


def test_voting_power_genesis_validators(mainnet_doc: dict) -> None:
    power = epochs.voting_power(new_state(mainnet_doc))
    assert len(power) == 11
    assert set(power.values()) == {1}


def test_voting_power_without_validators() -> None:
    state = new_state()
    join(state, "a")
    state["participants"][addr("b")] = {"index": addr("b"), "weight": 1}
    assert epochs.voting_power(state) == {addr("b"): 1}


def test_voting_power_after_switch() -> None:
    state = new_state()
    join(state, "a", {"n1": [MODEL]})
    join(state, "b", {"n1": [MODEL]})
    submit(state, "a", 5)
    submit(state, "b", 8)
    form(state)
    assert epochs.voting_power(state) == {}
    activate(state)
    # Two participants raise no cap here: capping is off in new_state.
    assert epochs.voting_power(state) == {addr("a"): 5, addr("b"): 8}


# ----- groups (gonka's epoch_group_test.go) -------------------------------------------------


def test_add_members_with_models() -> None:
    state = new_state()
    join(state, "member1", {"n1": [MODEL]})
    submit(state, "member1", 10)
    form(state)
    parent = group(state, 1)
    sub_group = group(state, 1, MODEL)
    assert parent["sub_group_models"] == [MODEL]
    assert sub_group["model_id"] == MODEL
    # x/group ids: 1 = epoch 0 parent, 2 = epoch 1 parent, 3 = its first sub-group.
    assert parent["epoch_group_id"] == 2
    assert sub_group["epoch_group_id"] == 3
    assert sub_group["model_snapshot"] == {"id": MODEL, "v_ram": 80}
    assert sub_group["epoch_policy"] == epochs.policy_address(3, "gonka")


def test_add_member_without_models() -> None:
    state = new_state()
    join(state, "member1")
    submit(state, "member1", 10)
    form(state)
    assert members(state, 1) == {addr("member1"): 10}
    assert group(state, 1)["sub_group_models"] == []


def test_sub_groups_in_first_appearance_order() -> None:
    state = new_state()
    join(state, "a", {"n1": [OTHER]})
    join(state, "b", {"n1": [MODEL], "n2": [OTHER]})
    submit(state, "a", 5)
    submit(state, "b", 6)
    form(state)
    first, second = sorted([addr("a"), addr("b")])
    first_models = [OTHER] if first == addr("a") else [MODEL, OTHER]
    second_models = [MODEL, OTHER] if first == addr("a") else [OTHER]
    expected = list(dict.fromkeys(first_models + second_models))
    assert group(state, 1)["sub_group_models"] == expected
    assert [w["member_address"] for w in group(state, 1)["validation_weights"]] == [
        first, second]


def test_sub_group_weights_and_nodes() -> None:
    state = new_state()
    join(state, "a", {"mlnode1": [MODEL], "mlnode2": [MODEL]})
    submit(state, "a", 57)
    form(state)
    (weight,) = group(state, 1, MODEL)["validation_weights"]
    nodes = {n["node_id"]: n["poc_weight"] for n in weight["ml_nodes"]}
    assert weight["weight"] == 57
    assert nodes == {"mlnode1": 30, "mlnode2": 28}  # per 28, rem 1 counted twice
    assert group(state, 1, MODEL)["total_weight"] == 57
    assert group(state, 1)["validation_weights"][0]["ml_nodes"] == []


# ----- PoC results -----------------------------------------------------------------------------


def test_poc_result_recorded() -> None:
    state = new_state()
    join(state, "a")
    submit(state, "a", 7)
    assert state["poc_results"] == {"1": {addr("a"): 7}}


def test_poc_result_replaced_with_note() -> None:
    state = new_state()
    join(state, "a")
    submit(state, "a", 7)
    context = ctx()
    epochs.apply_poc_result(
        state, {"participant": addr("a"), "epoch_index": 1, "weight": 9}, context)
    assert state["poc_results"]["1"][addr("a")] == 9
    assert context.notes == [f"replaced the PoC weight 7 of {addr('a')} in epoch 1"]


def test_poc_result_same_is_unchanged() -> None:
    state = new_state()
    join(state, "a")
    submit(state, "a", 7)
    with pytest.raises(Unchanged):
        submit(state, "a", 7)


@pytest.mark.parametrize("weight", [0, -3, True, "5", 2**63])
def test_poc_result_bad_weight(weight: Any) -> None:
    state = new_state()
    join(state, "a")
    body = {"participant": addr("a"), "epoch_index": 1, "weight": weight}
    with pytest.raises(InvalidInput):
        epochs.apply_poc_result(state, body, ctx())


def test_poc_result_unknown_participant() -> None:
    body = {"participant": addr("ghost"), "epoch_index": 1, "weight": 3}
    with pytest.raises(NotFound, match="not registered"):
        epochs.apply_poc_result(new_state(), body, ctx())


def test_poc_result_wrong_epoch() -> None:
    state = new_state()
    join(state, "a")
    body = {"participant": addr("a"), "epoch_index": 2, "weight": 3}
    with pytest.raises(InvalidInput, match="upcoming one is 1"):
        epochs.apply_poc_result(state, body, ctx())


def test_poc_result_after_formation() -> None:
    state = new_state()
    join(state, "a")
    submit(state, "a", 3)
    form(state)
    with pytest.raises(Conflict, match="already formed"):
        submit(state, "a", 4)


def test_poc_result_unknown_key() -> None:
    state = new_state()
    join(state, "a")
    body = {"participant": addr("a"), "epoch_index": 1, "weight": 3, "nonces": 1}
    with pytest.raises(InvalidInput, match="unknown key 'nonces'"):
        epochs.apply_poc_result(state, body, ctx())


# ----- formation rules ---------------------------------------------------------------------------


def test_form_without_results_rejected() -> None:
    state = new_state()
    join(state, "a")
    before = copy.deepcopy(state)
    with pytest.raises(InvalidInput, match="no participant qualifies"):
        form(state)
    assert state == before


def test_form_twice_rejected() -> None:
    state = new_state()
    join(state, "a")
    submit(state, "a", 3)
    form(state)
    with pytest.raises(Conflict, match="already formed"):
        form(state)


def test_missing_validator_key_excluded() -> None:
    state = new_state()
    join(state, "a")
    join(state, "b", validator_key="")
    submit(state, "a", 3)
    submit(state, "b", 4)
    form(state)
    assert members(state, 1) == {addr("a"): 3}


def test_power_capping_applied() -> None:
    # [1000, 2000, 4000, 8000] at 30 %: cap 2250 (gonka's sorting example).
    state = new_state(capping={"value": 30, "exponent": -2})
    for name, weight in (("a", 1000), ("b", 2000), ("c", 4000), ("d", 8000)):
        join(state, name)
        submit(state, name, weight)
    form(state)
    assert members(state, 1) == {addr("a"): 1000, addr("b"): 2000, addr("c"): 2250,
                                 addr("d"): 2250}
    assert group(state, 1)["total_weight"] == 7500


def test_collateral_after_grace_period() -> None:
    # Past the grace period a participant without collateral keeps
    # trunc(57 * 0.2) = trunc(11.4) = 11.
    state = new_state()
    state["params"]["collateral_params"]["grace_period_end_epoch"] = 0
    join(state, "a")
    submit(state, "a", 57)
    form(state)
    assert members(state, 1) == {addr("a"): 11}


def test_zero_weight_after_collateral_rejected() -> None:
    # trunc(4 * 0.2) = 0, so no participant keeps a weight above 0.
    state = new_state()
    state["params"]["collateral_params"]["grace_period_end_epoch"] = 0
    join(state, "a")
    submit(state, "a", 4)
    with pytest.raises(InvalidInput, match="weight above 0"):
        form(state)
    assert "1" not in state["active_participants"]


def test_formation_heights() -> None:
    state = new_state()
    join(state, "a")
    submit(state, "a", 3)
    context = ctx()
    epochs.apply_form_epoch(state, {"epoch_index": 1}, context)
    record = state["active_participants"]["1"]
    assert state["epochs"]["1"] == {"index": 1, "poc_start_block_height": 300}
    assert group(state, 1)["poc_start_block_height"] == 300
    assert record["created_at_block_height"] == 385
    assert record["effective_block_height"] == 387
    assert record["epoch_id"] == 1
    assert state["block_height"] == 385
    assert context.notes == ["started epoch 1 at PoC start height 300"]


def test_active_participant_record() -> None:
    state = new_state()
    join(state, "a", {"n1": [MODEL]})
    submit(state, "a", 3)
    form(state)
    (entry,) = state["active_participants"]["1"]["participants"]
    assert entry["index"] == addr("a")
    assert entry["models"] == [MODEL]
    assert entry["inference_url"] == "http://a:8000"
    assert entry["seed"]["epoch_index"] == 1
    assert entry["ml_nodes"] == [{"ml_nodes": [
        {"node_id": "n1", "throughput": 0, "poc_weight": 3,
         "timeslot_allocation": [True, False]}]}]


def test_node_added_after_formation() -> None:
    state = new_state()
    join(state, "a", {"n1": [MODEL]})
    submit(state, "a", 10)
    form(state)
    state["hardware"][addr("a")]["n2"] = {"chain": {"local_id": "n2", "models": [OTHER]}}
    activate(state)
    assert group(state, 1)["sub_group_models"] == [MODEL]
    submit(state, "a", 10)
    form(state)
    assert OTHER in group(state, 2)["sub_group_models"]
    assert addr("a") in members(state, 2, OTHER)


# ----- carry-over of POC_SLOT nodes ----------------------------------------------------------------


def slot_node_of(state: dict, name: str) -> tuple[str, int]:
    """Return (node id, poc weight) of the member's POC_SLOT node in epoch 1."""
    flags = poc_slot_flags(1, addr(name), MODEL, 2)
    weight = group(state, 1, MODEL)["validation_weights"][0]
    node = weight["ml_nodes"][flags.index(True)]
    return node["node_id"], node["poc_weight"]


def two_node_epoch_one() -> dict:
    state = new_state()
    join(state, "a", {"mlnode1": [MODEL], "mlnode2": [MODEL]})
    submit(state, "a", 57)
    form(state)
    activate(state)
    return state


def test_preserved_member_without_poc() -> None:
    state = two_node_epoch_one()
    node_id, weight = slot_node_of(state, "a")
    join(state, "b")
    submit(state, "b", 5)
    form(state)
    assert members(state, 2) == {addr("a"): weight, addr("b"): 5}
    nodes = group(state, 2, MODEL)["validation_weights"][0]["ml_nodes"]
    assert [(n["node_id"], n["poc_weight"]) for n in nodes] == [(node_id, weight)]


def test_preserved_member_also_mined() -> None:
    # D = 2 nodes - 1 preserved = 1, so the other node gets the whole 20.
    state = two_node_epoch_one()
    node_id, weight = slot_node_of(state, "a")
    other = "mlnode2" if node_id == "mlnode1" else "mlnode1"
    submit(state, "a", 20)
    form(state)
    assert members(state, 2) == {addr("a"): weight + 20}
    nodes = group(state, 2, MODEL)["validation_weights"][0]["ml_nodes"]
    assert [(n["node_id"], n["poc_weight"]) for n in nodes] == [
        (node_id, weight), (other, 20)]


def test_all_nodes_preserved_rejected() -> None:
    state = two_node_epoch_one()
    node_id, _weight = slot_node_of(state, "a")
    nodes = state["hardware"][addr("a")]
    state["hardware"][addr("a")] = {node_id: nodes[node_id]}
    submit(state, "a", 20)
    with pytest.raises(InvalidInput, match="divides by zero"):
        form(state)


def test_formed_epoch_never_changes() -> None:
    state = two_node_epoch_one()
    before = copy.deepcopy(state["epoch_groups"]["1"])
    state["hardware"][addr("a")]["mlnode3"] = {
        "chain": {"local_id": "mlnode3", "models": [OTHER]}}
    state["models"][MODEL]["v_ram"] = 1
    submit(state, "a", 9)
    form(state)
    activate(state)
    after = state["epoch_groups"]["1"]
    assert after[MODEL] == before[MODEL]
    assert after[""]["validation_weights"] == before[""]["validation_weights"]
    assert after[""]["last_block_height"] == 17580 + 85 + 120 - 1


# ----- switch -------------------------------------------------------------------------------------


def test_activate_sets_parent_fields() -> None:
    state = new_state()
    join(state, "a")
    submit(state, "a", 3)
    form(state)
    outcome = activate(state)
    parent = group(state, 1)
    assert outcome == {"epoch_index": 1, "effective_block_height": 505,
                       "unit_of_compute_price": 100}
    assert parent["effective_block_height"] == 505
    assert parent["unit_of_compute_price"] == 100
    assert parent["validation_params"] == {"expiration_blocks": 20}
    assert group(state, 0)["last_block_height"] == 504
    assert state["effective_epoch"] == 1
    assert state["block_height"] == 505


def test_second_epoch_keeps_price() -> None:
    # Epoch 2: PoC start 300 + 17280 = 17580, formation 17665, switch 17785.
    state = new_state()
    join(state, "a")
    submit(state, "a", 3)
    form(state)
    activate(state)
    group(state, 1)["unit_of_compute_price"] = 250
    submit(state, "a", 3)
    form(state)
    outcome = activate(state)
    assert outcome == {"epoch_index": 2, "effective_block_height": 17785,
                       "unit_of_compute_price": 250}
    assert state["epochs"]["2"]["poc_start_block_height"] == 17580


def test_activate_unformed_rejected() -> None:
    with pytest.raises(Conflict, match="not formed"):
        activate(new_state())


def test_activate_wrong_epoch() -> None:
    with pytest.raises(InvalidInput, match="not the upcoming epoch"):
        epochs.apply_set_new_validators(new_state(), {"epoch_index": 0}, ctx())


# ----- StartEpoch ----------------------------------------------------------------------------------


def test_start_epoch_scheduled() -> None:
    state = new_state()
    outcome = epochs.apply_start_epoch(state, {"epoch_index": 1}, ctx())
    assert outcome == {"epoch_index": 1, "poc_start_block_height": 300}
    assert group(state, 1)["epoch_group_id"] == 2
    assert group(state, 1)["validation_weights"] == []


def test_start_epoch_explicit_height() -> None:
    state = new_state()
    body = {"epoch_index": 1, "poc_start_block_height": 310}
    epochs.apply_start_epoch(state, body, ctx())
    assert state["epochs"]["1"]["poc_start_block_height"] == 310


def test_start_epoch_twice_unchanged() -> None:
    state = new_state()
    epochs.apply_start_epoch(state, {"epoch_index": 1}, ctx())
    with pytest.raises(Unchanged):
        epochs.apply_start_epoch(state, {"epoch_index": 1}, ctx())


def test_start_epoch_height_not_after_previous() -> None:
    state = new_state()
    body = {"epoch_index": 1, "poc_start_block_height": 0}
    with pytest.raises(InvalidInput):
        epochs.apply_start_epoch(state, body, ctx())


# ----- performance ---------------------------------------------------------------------------------


def big_state(count: int) -> dict:
    """count participants, each with 4 nodes over 8 registry models."""
    state = new_state(capping={"value": 25, "exponent": -2})
    model_ids = [f"org/model-{i}" for i in range(8)]
    state["models"] = {m: {"id": m} for m in model_ids}
    results = {}
    for i in range(count):
        address = addr(f"p{i}")
        state["participants"][address] = {"index": address, "validator_key": "k",
                                          "inference_url": "http://x"}
        state["hardware"][address] = {
            f"node{j}": {"chain": {"local_id": f"node{j}", "models": sorted(
                {model_ids[(i + j) % 8], model_ids[(i + j + 1) % 8]})}}
            for j in range(4)}
        results[address] = 1000 + i % 97
    state["poc_results"] = {"1": results}
    return state


def timed_formation(count: int) -> float:
    from inferctl.ledger.store import paused_collector

    # Commits and replays apply every handler with the collector paused.
    state = big_state(count)
    with paused_collector():
        started = time.process_time()
        form(state)
        return time.process_time() - started


def test_formation_ten_thousand_within_second() -> None:
    # CPU time, the best of two runs, so that other load on the machine counts less.
    timed_formation(100)  # builds gorand's table once
    assert min(timed_formation(10_000) for _ in range(2)) <= 1.0


def test_formation_scales_linearly() -> None:
    # 4 times the participants may take at most 8 times as long: a quadratic
    # formation would take 16 times as long.
    timed_formation(100)
    small = min(timed_formation(2_500) for _ in range(3))
    large = min(timed_formation(10_000) for _ in range(2))
    assert large <= 8 * small


# ----- command line --------------------------------------------------------------------------------

QWQ = "Qwen/QwQ-32B"
ALICE = "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le"  # a mainnet genesis participant


def register_node(run, home: str, node_id: str, model: str = QWQ) -> None:
    outcome = run("node", "register", "--participant", ALICE, "--id", node_id,
                  "--host", "10.0.0.1", "--inference-port", "5000", "--poc-port",
                  "8080", "--max-concurrent", "4", "--model", model, "--home", home)
    assert outcome.exit_code == 0, outcome.stderr


def advance(run, home: str, *args: str) -> None:
    outcome = run("chain", "advance", *args, "--home", home)
    assert outcome.exit_code == 0, outcome.stderr


def test_cli_full_flow(run, mainnet_home: str) -> None:
    # Mainnet params: epoch 1 forms at block 385 and becomes effective at 505, so
    # each manual step runs one block before its own.
    register_node(run, mainnet_home, "mlnode1")
    submitted = run("poc", "submit", ALICE, "--weight", "10", "--home", mainnet_home)
    advance(run, mainnet_home, "--to-height", "384")
    formed = run("epoch", "form", "--home", mainnet_home)
    advance(run, mainnet_home, "--to-height", "504")
    activated = run("epoch", "activate", "--home", mainnet_home)
    assert submitted.exit_code == 0
    assert f"recorded PoC weight 10 for {ALICE} in epoch 1" in submitted.stderr
    assert formed.exit_code == 0
    assert "formed epoch 1: 1 member, total weight 10" in formed.stderr
    assert activated.exit_code == 0
    assert "epoch 1 is effective from block 505" in activated.stderr
    assert len(activated.stdout.split()) == 2  # "HEIGHT HASH"


def test_cli_show_json(run, mainnet_home: str) -> None:
    register_node(run, mainnet_home, "mlnode1")
    for args in (("poc", "submit", ALICE, "--weight", "10"),
                 ("chain", "advance", "--to", "next-epoch")):
        assert run(*args, "--home", mainnet_home).exit_code == 0
    outcome = run("epoch", "show", "--json", "--home", mainnet_home)
    assert outcome.exit_code == 0
    document = json.loads(outcome.stdout)
    parent = document["parent"]
    (sub_group,) = document["sub_groups"]
    assert document["epoch_index"] == 1
    assert list(parent) == [
        "poc_start_block_height", "epoch_group_id", "epoch_policy",
        "effective_block_height", "last_block_height", "member_seed_signatures",
        "validation_weights", "unit_of_compute_price", "number_of_requests",
        "previous_epoch_requests", "validation_params", "total_weight", "model_id",
        "sub_group_models", "epoch_index", "model_snapshot", "total_throughput"]
    assert parent["poc_start_block_height"] == "300"
    assert parent["effective_block_height"] == "505"
    assert parent["unit_of_compute_price"] == "100"
    assert parent["sub_group_models"] == [QWQ]
    assert parent["model_snapshot"] is None
    assert sub_group["model_snapshot"]["id"] == QWQ
    assert sub_group["model_snapshot"]["v_ram"] == "80"
    assert sub_group["validation_weights"] == [{
        "member_address": ALICE, "weight": "10", "reputation": 0,
        "ml_nodes": [{"node_id": "mlnode1", "throughput": "0", "poc_weight": "10",
                      "timeslot_allocation": [True, False]}]}]
    assert sub_group["validation_params"] is None


def test_cli_show_epoch_zero_text(run, mainnet_home: str) -> None:
    outcome = run("epoch", "show", "--home", mainnet_home)
    assert outcome.exit_code == 0
    lines = outcome.stdout.splitlines()
    assert lines[0].startswith("epoch 0  PoC start 0")
    assert lines[1] == "parent group: group 1, 11 members, total weight 11"
    assert len(lines) == 13


def test_cli_show_unknown_epoch(run, mainnet_home: str) -> None:
    outcome = run("epoch", "show", "7", "--home", mainnet_home)
    assert outcome.exit_code == 4
    assert outcome.stdout == ""
    assert "epoch 7 has no groups" in outcome.stderr


def test_cli_list(run, mainnet_home: str) -> None:
    register_node(run, mainnet_home, "mlnode1")
    assert run("poc", "submit", ALICE, "--weight", "10", "--home",
               mainnet_home).exit_code == 0
    assert run("epoch", "form", "--at-any-height", "--home",
               mainnet_home).exit_code == 0
    outcome = run("epoch", "list", "--json", "--home", mainnet_home)
    document = json.loads(outcome.stdout)
    assert outcome.exit_code == 0
    assert document["effective_epoch"] == 0
    assert document["epochs"][1] == {
        "epoch_index": 1, "poc_start_block_height": 300, "effective": False,
        "formed": True, "member_count": 1, "models": [QWQ]}


def test_cli_form_without_results(run, mainnet_home: str) -> None:
    outcome = run("epoch", "form", "--at-any-height", "--home", mainnet_home)
    assert outcome.exit_code == 3
    assert outcome.stdout == ""
    assert "no participant qualifies for epoch 1" in outcome.stderr


def test_cli_activate_before_form(run, mainnet_home: str) -> None:
    outcome = run("epoch", "activate", "--at-any-height", "--home", mainnet_home)
    assert outcome.exit_code == 7
    assert "epoch 1 is not formed yet" in outcome.stderr


def test_cli_activate_at_switch_block_minus_one(run, mainnet_home: str) -> None:
    register_node(run, mainnet_home, "mlnode1")
    assert run("poc", "submit", ALICE, "--weight", "10", "--home",
               mainnet_home).exit_code == 0
    advance(run, mainnet_home, "--to-height", "385")  # forms epoch 1 at 385
    refused = run("epoch", "activate", "--home", mainnet_home)
    advance(run, mainnet_home, "--to-height", "504")
    activated = run("epoch", "activate", "--home", mainnet_home)
    assert refused.exit_code == 7
    assert "epoch 1 becomes effective at block 505, but the chain is at block 385" in (
        refused.stderr)
    assert activated.exit_code == 0
    assert "epoch 1 is effective from block 505" in activated.stderr


def test_cli_poc_unknown_participant(run, mainnet_home: str) -> None:
    outcome = run("poc", "submit", addr("nobody"), "--weight", "3", "--home",
                  mainnet_home)
    assert outcome.exit_code == 4
    assert "is not registered" in outcome.stderr


def test_cli_poc_weight_zero(run, mainnet_home: str) -> None:
    outcome = run("poc", "submit", ALICE, "--weight", "0", "--home", mainnet_home)
    assert outcome.exit_code == 2


def test_cli_poc_list(run, mainnet_home: str) -> None:
    assert run("poc", "submit", ALICE, "--weight", "12", "--home",
               mainnet_home).exit_code == 0
    outcome = run("poc", "list", "--json", "--home", mainnet_home)
    assert outcome.exit_code == 0
    assert json.loads(outcome.stdout)["results"] == [{"participant": ALICE,
                                                      "weight": 12}]
