"""Tests for the block-height timeline: `chain advance`, AdvanceBlocks, `epoch context`.

Every expected height is worked out by hand from gonka's stage formulas, with the
arithmetic next to it. Wind-downs truncate 80 % of the stage: int(4 * 0.8) = 3,
int(60 * 0.8) = 48, int(20 * 0.8) = 16, int(10 * 0.8) = 8.

Test-override params (50/0/4/1/1/4/1): epoch 1 PoC start 50, end of PoC 54, validation
55, formation 55 + 4 = 59, switch 60, next PoC start 100; epoch 2: 100, formation 109,
switch 110.
Mainnet params (17280/16980/60/5/5/20/120/80): epoch 1 PoC start 17280 - 16980 = 300,
formation 300 + 60 + 5 + 20 = 385, switch 385 + 120 = 505, next PoC start 17580.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import MAINNET_GENESIS
from inferctl.bech32 import test_address as make_address
from inferctl.errors import InvalidInput
from inferctl.flow import chain as flow_chain
from inferctl.txs import TxContext, Unchanged

VECTORS = Path(__file__).parent / "data" / "gorand_vectors.json"
QWQ = "Qwen/QwQ-32B"
ADVANCE = "/inferctl.v1.AdvanceBlocks"
START = "/inferctl.v1.StartEpoch"
FORM = "/inferctl.v1.FormEpoch"
SWITCH = "/inferctl.v1.SetNewValidators"
MAINNET_ALICE = "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le"
# A participant address for which tests/data/gorand_vectors.json has Go's shuffle.
VECTOR_ADDRESS = "gonka108eh38a2pelplqz2lh3ujjnvk7ucdylql6gfmg"

TESTNET_CONFIG = f"""
[params.epoch_params]
epoch_length = 50
epoch_multiplier = 1
epoch_shift = 0
default_unit_of_compute_price = 100
poc_stage_duration = 4
poc_exchange_duration = 1
poc_validation_delay = 1
poc_validation_duration = 4
set_new_validators_delay = 1
inference_validation_cutoff = 0
inference_pruning_epoch_threshold = 2

[genesis_only_params]
max_individual_power_percentage = "0"

[[models]]
id = "{QWQ}"
units_of_compute_per_token = 1000
v_ram = 80
validation_threshold = "0.98"

[[participants]]
name = "alice"
inference_url = "http://alice.example:8000"

[[participants]]
name = "bob"
inference_url = "http://bob.example:8000"

[[participants]]
address = "{VECTOR_ADDRESS}"
validator_key = "OPwcpfQYOoWDuHKYivRVq5jxrELH0moP5qdznvj3Dps="
inference_url = "http://vector.example:8000"
"""

ALICE = make_address("alice", "gonka")
BOB = make_address("bob", "gonka")


@pytest.fixture
def testnet(run, tmp_path: Path) -> str:
    """A ledger with the test-override epoch params, one model and 3 participants."""
    config = tmp_path / "testnet.toml"
    config.write_text(TESTNET_CONFIG, encoding="utf-8")
    home = str(tmp_path / "testnet")
    outcome = run("genesis", "init", "--chain-id", "timeline", "--genesis-time",
                  "2025-01-01T00:00:00Z", "--config", str(config), "--home", home)
    assert outcome.exit_code == 0, outcome.stderr
    return home


def ok(run, home: str, *args: str) -> Any:
    outcome = run(*args, "--home", home)
    assert outcome.exit_code == 0, outcome.stderr
    return outcome


def register(run, home: str, participant: str, node_id: str) -> None:
    ok(run, home, "node", "register", "--participant", participant, "--id", node_id,
       "--host", "10.0.0.1", "--inference-port", "5000", "--poc-port", "8080",
       "--max-concurrent", "4", "--model", QWQ)


def state_of(run, home: str) -> dict[str, Any]:
    return json.loads(ok(run, home, "status", "--json").stdout)


def records(run, home: str) -> list[dict[str, Any]]:
    return json.loads(ok(run, home, "ledger", "log", "--limit", "0",
                         "--json").stdout)["records"]


def body_of(run, home: str, height: int) -> dict[str, Any]:
    shown = json.loads(ok(run, home, "ledger", "show", str(height), "--json").stdout)
    return shown["record"]["body"]


def timeline(run, home: str, first: int) -> list[tuple[str, dict[str, Any]]]:
    """Return (type, body) of the records from ledger height `first` on."""
    return [(r["type"], body_of(run, home, r["height"]))
            for r in records(run, home) if r["height"] >= first]


def advance(run, home: str, *args: str) -> dict[str, Any]:
    return json.loads(ok(run, home, "chain", "advance", *args, "--json").stdout)


# ----- chain advance: the worked timelines --------------------------------------------


def test_next_epoch_from_genesis_records(run, testnet: str) -> None:
    ok(run, testnet, "poc", "submit", ALICE, "--weight", "10")
    first = len(records(run, testnet)) + 1
    advance(run, testnet, "--to", "next-epoch")
    assert timeline(run, testnet, first) == [
        (ADVANCE, {"to_height": 49}),
        (START, {"epoch_index": 1, "poc_start_block_height": 50}),
        (ADVANCE, {"to_height": 58}),
        (FORM, {"epoch_index": 1}),
        (SWITCH, {"epoch_index": 1}),
    ]


def test_next_epoch_from_genesis_state(run, testnet: str) -> None:
    ok(run, testnet, "poc", "submit", ALICE, "--weight", "10")
    document = advance(run, testnet, "--to", "next-epoch")
    status = state_of(run, testnet)
    assert document["from_height"] == 0
    assert document["block_height"] == 60
    assert [(s["block_height"], s["step"], s["epoch_index"])
            for s in document["steps"]] == [
        (50, "start_poc", 1), (59, "form_epoch", 1), (60, "set_new_validators", 1)]
    assert status["block_height"] == 60
    assert status["effective_epoch"] == 1


def test_next_epoch_text_output(run, testnet: str) -> None:
    ok(run, testnet, "poc", "submit", ALICE, "--weight", "10")
    outcome = ok(run, testnet, "chain", "advance", "--to", "next-epoch")
    lines = outcome.stdout.splitlines()
    assert len(lines) == 5  # one "HEIGHT HASH" line per record
    assert all(len(line.split()) == 2 for line in lines)
    assert "block 50: epoch 1 starts its PoC" in outcome.stderr
    assert "block 59: epoch 1 formed with 1 member, total weight 10" in outcome.stderr
    assert "block 60: epoch 1 is effective" in outcome.stderr
    assert "the chain is at block 60" in outcome.stderr


def test_second_epoch_timeline(run, testnet: str) -> None:
    ok(run, testnet, "poc", "submit", ALICE, "--weight", "10")
    advance(run, testnet, "--to", "next-epoch")
    ok(run, testnet, "poc", "submit", ALICE, "--weight", "20")
    first = len(records(run, testnet)) + 1
    document = advance(run, testnet, "--to", "next-epoch")
    assert document["block_height"] == 110
    assert timeline(run, testnet, first) == [
        (ADVANCE, {"to_height": 99}),
        (START, {"epoch_index": 2, "poc_start_block_height": 100}),
        (ADVANCE, {"to_height": 108}),
        (FORM, {"epoch_index": 2}),
        (SWITCH, {"epoch_index": 2}),
    ]


def test_mainnet_next_epoch(run, mainnet_home: str) -> None:
    ok(run, mainnet_home, "poc", "submit", MAINNET_ALICE, "--weight", "10")
    first = len(records(run, mainnet_home)) + 1
    document = advance(run, mainnet_home, "--to", "next-epoch")
    assert [(s["block_height"], s["step"]) for s in document["steps"]] == [
        (300, "start_poc"), (385, "form_epoch"), (505, "set_new_validators")]
    assert timeline(run, mainnet_home, first) == [
        (ADVANCE, {"to_height": 299}),
        (START, {"epoch_index": 1, "poc_start_block_height": 300}),
        (ADVANCE, {"to_height": 384}),
        (FORM, {"epoch_index": 1}),
        (ADVANCE, {"to_height": 504}),
        (SWITCH, {"epoch_index": 1}),
    ]


def test_mainnet_next_poc_start(run, mainnet_home: str) -> None:
    ok(run, mainnet_home, "poc", "submit", MAINNET_ALICE, "--weight", "10")
    advance(run, mainnet_home, "--to", "next-epoch")
    first = len(records(run, mainnet_home)) + 1
    document = advance(run, mainnet_home, "--to-height", "17580")
    assert [(s["block_height"], s["step"], s["epoch_index"])
            for s in document["steps"]] == [(17580, "start_poc", 2)]
    assert timeline(run, mainnet_home, first) == [
        (ADVANCE, {"to_height": 17579}),
        (START, {"epoch_index": 2, "poc_start_block_height": 17580}),
    ]


def test_mainnet_epoch_records(run, mainnet_home: str) -> None:
    ok(run, mainnet_home, "poc", "submit", MAINNET_ALICE, "--weight", "10")
    advance(run, mainnet_home, "--to", "next-epoch")
    shown = json.loads(ok(run, mainnet_home, "epoch", "show", "1", "--json").stdout)
    assert shown["parent"]["poc_start_block_height"] == "300"
    assert shown["parent"]["effective_block_height"] == "505"


def test_blocks_without_step(run, testnet: str) -> None:
    first = len(records(run, testnet)) + 1
    document = advance(run, testnet, "--blocks", "10")
    assert document["steps"] == []
    assert document["block_height"] == 10
    assert timeline(run, testnet, first) == [(ADVANCE, {"to_height": 10})]


def test_to_height_at_poc_start(run, testnet: str) -> None:
    first = len(records(run, testnet)) + 1
    advance(run, testnet, "--to-height", "50")
    assert timeline(run, testnet, first) == [
        (ADVANCE, {"to_height": 49}),
        (START, {"epoch_index": 1, "poc_start_block_height": 50}),
    ]


def test_to_height_past_poc_start(run, testnet: str) -> None:
    first = len(records(run, testnet)) + 1
    advance(run, testnet, "--to-height", "55")
    assert timeline(run, testnet, first) == [
        (ADVANCE, {"to_height": 49}),
        (START, {"epoch_index": 1, "poc_start_block_height": 50}),
        (ADVANCE, {"to_height": 55}),
    ]


def test_advance_block_by_block(run, testnet: str) -> None:
    # One block per command runs the same steps as one advance to block 60.
    ok(run, testnet, "poc", "submit", ALICE, "--weight", "10")
    for _ in range(60):
        ok(run, testnet, "chain", "advance", "--blocks", "1")
    status = state_of(run, testnet)
    listed = json.loads(ok(run, testnet, "epoch", "list", "--json").stdout)
    assert status["block_height"] == 60
    assert listed["effective_epoch"] == 1
    assert listed["epochs"][1]["poc_start_block_height"] == 50


def test_advance_is_one_batch(run, testnet: str) -> None:
    ok(run, testnet, "poc", "submit", ALICE, "--weight", "10")
    before = records(run, testnet)
    ok(run, testnet, "chain", "advance", "--to", "next-epoch", "--time",
       "2099-02-01T00:00:00Z")
    added = records(run, testnet)[len(before):]
    assert len(added) == 5
    assert {r["time"] for r in added} == {"2099-02-01T00:00:00.000000000Z"}
    assert ok(run, testnet, "ledger", "verify").exit_code == 0


# ----- chain advance: errors and limits --------------------------------------------------


def test_advance_without_poc_results(run, testnet: str) -> None:
    before = records(run, testnet)
    outcome = run("chain", "advance", "--to", "next-epoch", "--home", testnet)
    assert outcome.exit_code == 3
    assert outcome.stdout == ""
    assert "block 59 forms epoch 1, but no participant qualifies" in outcome.stderr
    assert "the ledger is unchanged" in outcome.stderr
    assert "inferctl poc submit" in outcome.stderr
    assert "inferctl chain advance --to-height 58" in outcome.stderr
    assert records(run, testnet) == before


def test_advance_up_to_formation_block_minus_one(run, testnet: str) -> None:
    document = advance(run, testnet, "--to-height", "58")
    assert document["block_height"] == 58


def test_advance_backwards(run, testnet: str) -> None:
    advance(run, testnet, "--blocks", "5")
    outcome = run("chain", "advance", "--to-height", "3", "--home", testnet)
    assert outcome.exit_code == 3
    assert "--to-height 3 is below the chain's block height 5" in outcome.stderr


def test_advance_to_current_height(run, testnet: str) -> None:
    advance(run, testnet, "--blocks", "5")
    before = records(run, testnet)
    outcome = run("chain", "advance", "--to-height", "5", "--home", testnet)
    assert outcome.exit_code == 0
    assert outcome.stdout == ""
    assert "the chain is already at block 5" in outcome.stderr
    assert records(run, testnet) == before


@pytest.mark.parametrize("args", [(), ("--blocks", "1", "--to-height", "9"),
                                  ("--blocks", "1", "--to", "next-epoch")])
def test_advance_needs_one_target(run, testnet: str, args: tuple[str, ...]) -> None:
    outcome = run("chain", "advance", *args, "--home", testnet)
    assert outcome.exit_code == 2
    assert "exactly one of --blocks, --to-height and --to" in outcome.stderr


def test_advance_blocks_zero_rejected(run, testnet: str) -> None:
    outcome = run("chain", "advance", "--blocks", "0", "--home", testnet)
    assert outcome.exit_code == 2


def test_advance_too_far(run, testnet: str) -> None:
    # 100 epochs of 50 blocks is 5000 blocks per command.
    outcome = run("chain", "advance", "--blocks", "5001", "--home", testnet)
    assert outcome.exit_code == 3
    assert "more than 100 epochs of 50 blocks" in outcome.stderr
    assert "advance at most 5000 blocks" in outcome.stderr


def test_advance_past_int64(run, testnet: str) -> None:
    outcome = run("chain", "advance", "--to-height", str(2**63), "--home", testnet)
    assert outcome.exit_code == 3
    assert "out of range" in outcome.stderr


def test_advance_without_ledger(run, home: str) -> None:
    outcome = run("chain", "advance", "--blocks", "1", "--home", home)
    assert outcome.exit_code == 4
    assert "no ledger" in outcome.stderr


# ----- AdvanceBlocks records ---------------------------------------------------------------


def apply_lines(run, home: str, tmp_path: Path, *bodies: dict[str, Any]) -> Any:
    path = tmp_path / "txs.ndjson"
    path.write_text("".join(json.dumps({"type": ADVANCE, "body": body}) + "\n"
                            for body in bodies), encoding="utf-8")
    return run("apply", str(path), "--home", home)


def test_apply_advance_blocks(run, testnet: str, tmp_path: Path) -> None:
    outcome = apply_lines(run, testnet, tmp_path, {"to_height": 49})
    assert outcome.exit_code == 0, outcome.stderr
    assert state_of(run, testnet)["block_height"] == 49


def test_apply_advance_skipping_step(run, testnet: str, tmp_path: Path) -> None:
    outcome = apply_lines(run, testnet, tmp_path, {"to_height": 55})
    assert outcome.exit_code == 3
    assert "block 50 runs the PoC start of epoch 1" in outcome.stderr
    assert "advance to block 49" in outcome.stderr
    assert state_of(run, testnet)["block_height"] == 0


@pytest.mark.parametrize(("body", "message"), [
    ({}, "missing key 'to_height'"),
    ({"to_height": 5, "blocks": 1}, "unknown key 'blocks'"),
    ({"to_height": "5"}, "to_height must be an integer"),
    ({"to_height": True}, "to_height must be an integer"),
    ({"to_height": -1}, "to_height -1 is out of range"),
])
def test_advance_blocks_bad_body(body: dict[str, Any], message: str) -> None:
    state = {"block_height": 0}
    with pytest.raises(InvalidInput, match=message):
        flow_chain.apply_advance_blocks(state, body, TxContext(2, 0, "."))
    assert state == {"block_height": 0}


def test_advance_blocks_same_height_unchanged(run, testnet: str, tmp_path: Path
                                              ) -> None:
    apply_lines(run, testnet, tmp_path, {"to_height": 7})
    before = records(run, testnet)
    outcome = apply_lines(run, testnet, tmp_path, {"to_height": 7})
    assert outcome.exit_code == 0
    assert "already at block 7" in outcome.stderr
    assert records(run, testnet) == before


def test_advance_blocks_backwards(run, testnet: str, tmp_path: Path) -> None:
    apply_lines(run, testnet, tmp_path, {"to_height": 7})
    outcome = apply_lines(run, testnet, tmp_path, {"to_height": 6})
    assert outcome.exit_code == 3
    assert "below the chain's block height 7" in outcome.stderr


def test_unchanged_is_raised_directly() -> None:
    # Unit check of the handler's Unchanged path, independent of the CLI.
    state = {"block_height": 4, "effective_epoch": 0,
             "epochs": {"0": {"index": 0, "poc_start_block_height": 0}}}
    with pytest.raises(Unchanged):
        flow_chain.apply_advance_blocks(state, {"to_height": 4}, TxContext(2, 0, "."))


# ----- epoch form and activate at the wrong height ------------------------------------------


def test_form_at_wrong_height_rejected(run, testnet: str) -> None:
    ok(run, testnet, "poc", "submit", ALICE, "--weight", "10")
    before = records(run, testnet)
    outcome = run("epoch", "form", "--home", testnet)
    assert outcome.exit_code == 7
    assert outcome.stdout == ""
    assert "epoch 1 forms at block 59, but the chain is at block 0" in outcome.stderr
    assert "inferctl chain advance --to-height 59" in outcome.stderr
    assert "--at-any-height" in outcome.stderr
    assert records(run, testnet) == before


def test_form_at_any_height(run, testnet: str) -> None:
    ok(run, testnet, "poc", "submit", ALICE, "--weight", "10")
    outcome = run("epoch", "form", "--at-any-height", "--home", testnet)
    assert outcome.exit_code == 0
    assert "formed epoch 1: 1 member," in outcome.stderr
    # The epoch is started first (PoC start 50), then formed at its block 59.
    assert state_of(run, testnet)["block_height"] == 59


def test_form_one_block_before(run, testnet: str) -> None:
    ok(run, testnet, "poc", "submit", ALICE, "--weight", "10")
    advance(run, testnet, "--to-height", "58")
    first = len(records(run, testnet)) + 1
    ok(run, testnet, "epoch", "form")
    ok(run, testnet, "epoch", "activate")
    assert timeline(run, testnet, first) == [
        (FORM, {"epoch_index": 1}), (SWITCH, {"epoch_index": 1})]
    assert state_of(run, testnet)["block_height"] == 60


def test_form_at_its_block_after_advance(run, testnet: str) -> None:
    ok(run, testnet, "poc", "submit", ALICE, "--weight", "10")
    advance(run, testnet, "--to-height", "59")  # the advance forms epoch 1 at 59
    outcome = run("epoch", "form", "--home", testnet)
    assert outcome.exit_code == 7
    assert "epoch 1 is already formed" in outcome.stderr


def test_activate_after_advance_to_formation(run, testnet: str) -> None:
    ok(run, testnet, "poc", "submit", ALICE, "--weight", "10")
    advance(run, testnet, "--to-height", "59")
    outcome = run("epoch", "activate", "--home", testnet)
    assert outcome.exit_code == 0  # 59 is one block before the switch at 60
    assert state_of(run, testnet)["effective_epoch"] == 1


def test_activate_at_wrong_height_rejected(run, testnet: str) -> None:
    ok(run, testnet, "poc", "submit", ALICE, "--weight", "10")
    advance(run, testnet, "--to-height", "30")
    outcome = run("epoch", "activate", "--home", testnet)
    assert outcome.exit_code == 7
    assert "epoch 1 becomes effective at block 60, but the chain is at block 30" in (
        outcome.stderr)
    assert "inferctl chain advance --to-height 60" in outcome.stderr


def test_activate_at_any_height(run, testnet: str) -> None:
    ok(run, testnet, "poc", "submit", ALICE, "--weight", "10")
    ok(run, testnet, "epoch", "form", "--at-any-height")
    outcome = run("epoch", "activate", "--at-any-height", "--home", testnet)
    assert outcome.exit_code == 0
    assert "epoch 1 is effective from block 60" in outcome.stderr


# ----- POC_SLOT nodes after formation: Go's shuffle ------------------------------------------


def go_flags(epoch: int, address: str, model: str, n: int) -> list[bool]:
    """Return the POC_SLOT flags that real Go computed (tests/data/gorand_vectors.json)."""
    cases = json.loads(VECTORS.read_text(encoding="utf-8"))["poc_slots"]
    for case in cases:
        if (case["epoch_index"], case["address"], case["model_id"], case["n"]) == (
                epoch, address, model, n):
            return list(case["flags"])
    raise AssertionError(f"no Go vector for {(epoch, address, model, n)}")


def test_five_nodes_two_poc_slots_from_go(run, testnet: str) -> None:
    nodes = ["node-a", "node-b", "node-c", "node-d", "node-e"]
    for node_id in nodes:
        register(run, testnet, VECTOR_ADDRESS, node_id)
    ok(run, testnet, "poc", "submit", VECTOR_ADDRESS, "--weight", "50")
    advance(run, testnet, "--to", "next-epoch")
    shown = json.loads(ok(run, testnet, "epoch", "show", "1", "--json").stdout)
    (sub_group,) = shown["sub_groups"]
    (member,) = sub_group["validation_weights"]
    # Nodes are sorted by id, so position i of Go's shuffle is nodes[i].
    expected = go_flags(1, VECTOR_ADDRESS, QWQ, 5)
    slots = [node["node_id"] for node in member["ml_nodes"]
             if node["timeslot_allocation"] == [True, True]]
    assert [node["node_id"] for node in member["ml_nodes"]] == nodes
    assert slots == [node for node, flag in zip(nodes, expected, strict=True) if flag]
    assert len(slots) == 2
    # 50 split over 5 nodes: 10 each, no remainder.
    assert [node["poc_weight"] for node in member["ml_nodes"]] == ["10"] * 5


# ----- executor picks follow the block height --------------------------------------------------


@pytest.fixture
def two_members(run, testnet: str) -> str:
    """Epoch 1 effective: ALICE serves QwQ on 2 nodes (one POC_SLOT), BOB on 1."""
    register(run, testnet, ALICE, "a1")
    register(run, testnet, ALICE, "a2")
    register(run, testnet, BOB, "b1")
    ok(run, testnet, "poc", "submit", ALICE, "--weight", "10")
    ok(run, testnet, "poc", "submit", BOB, "--weight", "30")
    advance(run, testnet, "--to", "next-epoch")
    return testnet


def listed(run, home: str) -> dict[str, Any]:
    return json.loads(ok(run, home, "executor", "list", "--model", QWQ,
                         "--json").stdout)


def members_of(document: dict[str, Any]) -> list[str]:
    return sorted(member["address"] for member in document["members"])


def test_pick_at_switch_block_only_poc_slots(run, two_members: str) -> None:
    document = listed(run, two_members)  # block 60, the switch of epoch 1
    assert document["block_height"] == 60
    assert document["phase"] == "poc"
    assert members_of(document) == [ALICE]


def test_pick_after_switch_all_members(run, two_members: str) -> None:
    advance(run, two_members, "--blocks", "1")
    document = listed(run, two_members)
    assert document["phase"] == "inference"
    assert members_of(document) == sorted([ALICE, BOB])


def test_pick_during_poc_of_epoch_2(run, two_members: str) -> None:
    advance(run, two_members, "--to-height", "103")  # PoC of epoch 2 started at 100
    document = listed(run, two_members)
    picked = json.loads(ok(run, two_members, "executor", "pick", "--model", QWQ,
                           "--seed", "3", "--count", "20", "--json").stdout)
    assert document["phase"] == "poc"
    assert members_of(document) == [ALICE]
    assert {p["address"] for p in picked["picks"]} == {ALICE}


def test_pick_explicit_phase_overrides_height(run, two_members: str) -> None:
    advance(run, two_members, "--to-height", "103")
    document = json.loads(ok(run, two_members, "executor", "list", "--model", QWQ,
                             "--phase", "inference", "--json").stdout)
    assert members_of(document) == sorted([ALICE, BOB])


def test_pick_after_switch_to_epoch_2(run, two_members: str) -> None:
    ok(run, two_members, "poc", "submit", ALICE, "--weight", "10")
    ok(run, two_members, "poc", "submit", BOB, "--weight", "30")
    advance(run, two_members, "--to", "next-epoch")  # switch to epoch 2 at 110
    at_switch = listed(run, two_members)
    advance(run, two_members, "--blocks", "1")
    after = listed(run, two_members)
    assert at_switch["epoch_index"] == 2
    assert at_switch["phase"] == "poc"
    assert members_of(at_switch) == [ALICE]
    assert after["phase"] == "inference"
    assert members_of(after) == sorted([ALICE, BOB])


# ----- epoch context: worked timelines ------------------------------------------------------------

TEST_OVERRIDE_FLAGS = ("--epoch-length", "50", "--epoch-shift", "0",
                       "--poc-stage-duration", "4", "--poc-exchange-duration", "1",
                       "--poc-validation-delay", "1", "--poc-validation-duration", "4",
                       "--set-new-validators-delay", "1")
# Upstream epoch_context_test.go TestZeroEpoch and TestPlain: 100/90/20/1/2/10/1.
SHORT_FLAGS = ("--epoch-length", "100", "--epoch-shift", "90",
               "--poc-stage-duration", "20", "--poc-exchange-duration", "1",
               "--poc-validation-delay", "2", "--poc-validation-duration", "10",
               "--set-new-validators-delay", "1")
# Upstream epoch_context_test.go Test: 2000/90/60/1/2/20/1.
LONG_FLAGS = ("--epoch-length", "2000", "--epoch-shift", "90",
              "--poc-stage-duration", "60", "--poc-exchange-duration", "1",
              "--poc-validation-delay", "2", "--poc-validation-duration", "20",
              "--set-new-validators-delay", "1")


def context(run, *args: str) -> dict[str, Any]:
    outcome = run("epoch", "context", *args, "--json")
    assert outcome.exit_code == 0, outcome.stderr
    return json.loads(outcome.stdout)


def stage_table(document: dict[str, Any]) -> dict[str, Any]:
    stages = document["stages"]
    return {key: (value["start"], value["end"]) if isinstance(value, dict) else value
            for key, value in stages.items()}


def test_context_test_overrides_epoch_1(run) -> None:
    document = context(run, *TEST_OVERRIDE_FLAGS, "--height", "57")
    assert document["epoch_index"] == 1
    assert document["phase"] == "PoCValidate"  # validation 55 to wind-down 58
    assert stage_table(document) == {
        "poc_start": 50,
        "poc_wind_down": 53,  # 50 + int(3.2)
        "end_of_poc": 54,
        "poc_exchange_window": (51, 55),  # 50 + 1 to 54 + 1
        "start_of_poc_validation": 55,
        "poc_validation_wind_down": 58,  # 55 + int(3.2)
        "end_of_poc_validation": 59,
        "poc_validation_exchange_window": (56, 59),
        "set_new_validators": 60,
        "claim_money": 61,
        "next_poc_start": 100,
        "inference_validation_cutoff": 100,
    }


def test_context_mainnet_from_genesis_file(run) -> None:
    document = context(run, "--params", str(MAINNET_GENESIS), "--height", "385")
    assert document["epoch_index"] == 1
    assert document["phase"] == "Inference"
    assert document["at_height"]["is_end_of_poc_validation"] is True
    assert stage_table(document) == {
        "poc_start": 300,  # 17280 - 16980
        "poc_wind_down": 348,  # 300 + 48
        "end_of_poc": 360,
        "poc_exchange_window": (301, 365),
        "start_of_poc_validation": 365,
        "poc_validation_wind_down": 381,  # 365 + 16
        "end_of_poc_validation": 385,
        "poc_validation_exchange_window": (366, 385),
        "set_new_validators": 505,
        "claim_money": 506,
        "next_poc_start": 17580,  # 300 + 17280
        "inference_validation_cutoff": 17500,  # 17580 - 80
    }


def test_context_mainnet_epoch_2_on_schedule(run) -> None:
    # No ledger: epochs switch on time, so after 505 epoch 1 is effective, and at
    # 17600 the context is epoch 2 (PoC 17580, wind-down 17628).
    document = context(run, "--params", str(MAINNET_GENESIS), "--height", "17600")
    assert document["epoch_index"] == 2
    assert document["phase"] == "PoCGenerate"
    assert document["effective_epoch"] == {
        "epoch_index": 1, "poc_start_block_height": 300, "source": "schedule"}
    assert document["stages"]["end_of_poc_validation"] == 17665  # 17580 + 85
    assert document["stages"]["set_new_validators"] == 17785  # 17665 + 120


def test_context_params_file_forms(run, tmp_path: Path) -> None:
    # The same params as a bare epoch_params object and inside {"params": ...}.
    params = json.loads(MAINNET_GENESIS.read_text(encoding="utf-8"))[
        "app_state"]["inference"]["params"]
    bare = tmp_path / "epoch_params.json"
    bare.write_text(json.dumps(params["epoch_params"]), encoding="utf-8")
    wrapped = tmp_path / "params.json"
    wrapped.write_text(json.dumps({"params": params}), encoding="utf-8")
    for path in (bare, wrapped):
        document = context(run, "--params", str(path), "--height", "505")
        assert document["at_height"]["is_set_new_validators"] is True, path


def test_context_flag_overrides_params_file(run) -> None:
    document = context(run, "--params", str(MAINNET_GENESIS), "--epoch-shift", "0",
                       "--height", "0")
    assert document["stages"]["poc_start"] == 17280  # 17280 - 0


def test_context_text_output(run) -> None:
    outcome = run("epoch", "context", *TEST_OVERRIDE_FLAGS, "--height", "57")
    lines = outcome.stdout.splitlines()
    assert outcome.exit_code == 0
    assert lines[0] == "block 57: epoch 1, phase PoCValidate"
    assert lines[1] == "effective epoch 0 (PoC start 0), assuming epochs switch on time"
    assert lines[2] == "executors: only members with a POC_SLOT node"
    assert "formation (end of PoC validation)" in outcome.stdout
    assert [line.split()[-2:] for line in lines if "exchange window" in line] == [
        ["51-55", "closed"], ["56-59", "open"]]


# ----- epoch context: upstream epoch_context_test.go scenarios ---------------------------------


# TestZeroEpoch: effective epoch 0, first PoC 100 - 90 = 10, wind-down 10 + 16 = 26,
# end of PoC 30, exchange until 31, validation 30 + 2 = 32, wind-down 32 + 8 = 40,
# formation 42, switch 43.
ZERO_EPOCH_WALK = [
    (1, 0, "Inference"), (9, 0, "Inference"), (10, 1, "PoCGenerate"),
    (25, 1, "PoCGenerate"), (26, 1, "PoCGenerateWindDown"),
    (31, 1, "PoCGenerateWindDown"), (32, 1, "PoCValidate"), (39, 1, "PoCValidate"),
    (40, 1, "PoCValidateWindDown"), (41, 1, "PoCValidateWindDown"),
    (42, 1, "Inference"), (43, 1, "Inference"),
]


@pytest.mark.parametrize(("height", "epoch", "phase"), ZERO_EPOCH_WALK)
def test_context_zero_epoch_walk(run, height: int, epoch: int, phase: str) -> None:
    document = context(run, *SHORT_FLAGS, "--effective-epoch", "0", "--height",
                       str(height))
    assert document["epoch_index"] == epoch
    assert document["phase"] == phase


@pytest.mark.parametrize(("height", "flag"), [
    (10, "is_start_of_poc"), (30, "is_end_of_poc"), (32, "is_start_of_poc_validation"),
    (42, "is_end_of_poc_validation"), (43, "is_set_new_validators"),
])
def test_context_zero_epoch_boundaries(run, height: int, flag: str) -> None:
    document = context(run, *SHORT_FLAGS, "--effective-epoch", "0", "--height",
                       str(height))
    raised = [name for name, value in document["at_height"].items()
              if value and name.startswith("is_")]
    assert raised == [flag]


def test_context_zero_epoch_past_switch(run) -> None:
    outcome = run("epoch", "context", *SHORT_FLAGS, "--effective-epoch", "0",
                  "--height", "44")
    assert outcome.exit_code == 3
    assert outcome.stdout == ""
    assert "block height 44 is past height 43" in outcome.stderr


# Test: effective epoch 5 at 2800, next PoC 4800, wind-down 4848, end of PoC 4860,
# exchange until 4861, validation 4862, wind-down 4878, formation 4882, switch 4883.
LONG_WALK = [
    (4785, 5, "Inference"), (4799, 5, "Inference"), (4800, 6, "PoCGenerate"),
    (4848, 6, "PoCGenerateWindDown"), (4862, 6, "PoCValidate"),
    (4878, 6, "PoCValidateWindDown"), (4882, 6, "Inference"), (4883, 6, "Inference"),
]


@pytest.mark.parametrize(("height", "epoch", "phase"), LONG_WALK)
def test_context_epoch_5_walk(run, height: int, epoch: int, phase: str) -> None:
    document = context(run, *LONG_FLAGS, "--effective-epoch", "5", "--poc-start",
                       "2800", "--height", str(height))
    assert document["epoch_index"] == epoch
    assert document["phase"] == phase


@pytest.mark.parametrize(("height", "poc_window", "validation_window"), [
    (4800, False, False), (4801, True, False), (4861, True, False),
    (4862, False, False), (4863, False, True), (4882, False, True),
    (4883, False, False),
])
def test_context_epoch_5_windows(run, height: int, poc_window: bool,
                                 validation_window: bool) -> None:
    document = context(run, *LONG_FLAGS, "--effective-epoch", "5", "--poc-start",
                       "2800", "--height", str(height))
    assert document["at_height"]["in_poc_exchange_window"] is poc_window
    assert document["at_height"]["in_validation_exchange_window"] is validation_window


def test_context_epoch_5_old_epoch_past_switch(run) -> None:
    outcome = run("epoch", "context", *LONG_FLAGS, "--effective-epoch", "5",
                  "--poc-start", "2800", "--height", "4884")
    assert outcome.exit_code == 3
    assert "past height 4883" in outcome.stderr


def test_context_epoch_6_claim_money(run) -> None:
    document = context(run, *LONG_FLAGS, "--effective-epoch", "6", "--poc-start",
                       "4800", "--height", "4884")
    assert document["epoch_index"] == 6
    assert document["at_height"]["is_claim_money"] is True


@pytest.mark.parametrize(("height", "expected"), [
    # TestPlain with PoC start 10: window edges one block after each start.
    (10, {"is_start_of_poc": True, "in_poc_exchange_window": False,
          "in_validation_exchange_window": False}),
    (11, {"is_start_of_poc": False, "in_poc_exchange_window": True,
          "is_start_of_poc_validation": False, "in_validation_exchange_window": False}),
    (32, {"in_poc_exchange_window": False, "is_start_of_poc_validation": True,
          "in_validation_exchange_window": False}),
    (33, {"is_start_of_poc_validation": False, "in_poc_exchange_window": False,
          "in_validation_exchange_window": True}),
])
def test_context_plain_edges(run, height: int, expected: dict[str, bool]) -> None:
    document = context(run, *SHORT_FLAGS, "--height", str(height))
    for name, value in expected.items():
        assert document["at_height"][name] is value, name


def test_context_prod_bug_height_57(run) -> None:
    # Test overrides, epoch 1 at 50: 57 is inside the validation exchange window.
    document = context(run, *TEST_OVERRIDE_FLAGS, "--height", "57")
    assert document["at_height"]["in_validation_exchange_window"] is True


# ----- epoch context on a ledger -------------------------------------------------------------


def test_context_ledger_default_height(run, testnet: str) -> None:
    advance(run, testnet, "--to-height", "53")
    document = context(run, "--home", testnet)
    assert document["block_height"] == 53
    assert document["phase"] == "PoCGenerateWindDown"  # wind-down starts at 53
    assert document["effective_epoch"]["source"] == "ledger"
    assert document["epoch_params"]["epoch_length"] == 50


def test_context_ledger_history(run, testnet: str) -> None:
    ok(run, testnet, "poc", "submit", ALICE, "--weight", "10")
    advance(run, testnet, "--to", "next-epoch")
    advance(run, testnet, "--blocks", "5")
    past = context(run, "--home", testnet, "--height", "30")
    now = context(run, "--home", testnet)
    assert past["effective_epoch"] == {
        "epoch_index": 0, "poc_start_block_height": 0, "source": "ledger"}
    assert past["epoch_index"] == 0
    assert now["effective_epoch"]["epoch_index"] == 1
    assert now["at_height"]["executors_limited_to_poc_slots"] is False


def test_context_ledger_future_on_schedule(run, testnet: str) -> None:
    document = context(run, "--home", testnet, "--height", "201")
    # Switches at 60, 110, 160 and 210: after block 201 epoch 3 (PoC 150) is
    # effective, and 201 is in the PoC of epoch 4 (PoC start 200, wind-down 203).
    assert document["effective_epoch"] == {
        "epoch_index": 3, "poc_start_block_height": 150, "source": "schedule"}
    assert document["epoch_index"] == 4
    assert document["phase"] == "PoCGenerate"


# ----- epoch context: errors ------------------------------------------------------------------


def test_context_poc_start_needs_epoch(run) -> None:
    outcome = run("epoch", "context", *SHORT_FLAGS, "--poc-start", "10",
                  "--height", "1")
    assert outcome.exit_code == 2
    assert "--poc-start needs --effective-epoch" in outcome.stderr


def test_context_without_height(run) -> None:
    outcome = run("epoch", "context", *SHORT_FLAGS)
    assert outcome.exit_code == 2
    assert "--height is required" in outcome.stderr


def test_context_invalid_params(run) -> None:
    outcome = run("epoch", "context", "--epoch-length", "0", "--height", "1")
    assert outcome.exit_code == 3
    assert "epoch_length must be > 0, got 0" in outcome.stderr


def test_context_missing_params_file(run, tmp_path: Path) -> None:
    outcome = run("epoch", "context", "--params", str(tmp_path / "none.json"),
                  "--height", "1")
    assert outcome.exit_code == 4


def test_context_genesis_without_params(run, tmp_path: Path) -> None:
    path = tmp_path / "genesis.json"
    path.write_text(json.dumps({"app_state": {"inference": {}}}), encoding="utf-8")
    outcome = run("epoch", "context", "--params", str(path), "--height", "1")
    assert outcome.exit_code == 3
    assert "has no app_state.inference.params.epoch_params" in outcome.stderr


def test_context_without_ledger(run, home: str) -> None:
    outcome = run("epoch", "context", "--home", home)
    assert outcome.exit_code == 4
    assert "no ledger" in outcome.stderr


# ----- epoch context at a switch block ---------------------------------------------------------


def test_context_switch_block_is_endblock_view(run) -> None:
    # At block 60 the EndBlock still reads epoch 0 as effective, so the context is
    # epoch 1 and the switch flag is raised; from block 61 on epoch 1 is effective.
    at_switch = context(run, *TEST_OVERRIDE_FLAGS, "--height", "60")
    after = context(run, *TEST_OVERRIDE_FLAGS, "--height", "61")
    assert at_switch["epoch_index"] == 1
    assert at_switch["effective_epoch"]["epoch_index"] == 0
    assert at_switch["at_height"]["is_set_new_validators"] is True
    assert after["epoch_index"] == 1
    assert after["effective_epoch"]["epoch_index"] == 1
    assert after["at_height"]["is_claim_money"] is True


def test_context_switch_block_on_ledger(run, testnet: str) -> None:
    ok(run, testnet, "poc", "submit", ALICE, "--weight", "10")
    advance(run, testnet, "--to", "next-epoch")
    document = context(run, "--home", testnet)
    assert document["block_height"] == 60
    assert document["effective_epoch"] == {
        "epoch_index": 0, "poc_start_block_height": 0, "source": "ledger"}
    assert document["at_height"]["is_set_new_validators"] is True


@pytest.mark.parametrize("params", ["test_overrides", "defaults"])
def test_endblock_and_query_views_filter_alike(params: str) -> None:
    # `epoch context` uses the epoch effective when block h starts, and executor
    # picks the one effective after block h. The two differ only at switch blocks,
    # and both keep only POC_SLOT members there.
    from inferctl.epochs.context import DEFAULT_PARAMS, EpochParams, context_at

    chosen = DEFAULT_PARAMS
    if params == "test_overrides":
        chosen = EpochParams(50, 1, 0, 100, 4, 1, 1, 4, 1, 0, 2)
    for height in range(0, 400):
        before = flow_chain.scheduled_effective(height, 0, 0, chosen)
        after = flow_chain.scheduled_effective(height + 1, 0, 0, chosen)
        endblock = context_at(height, *before, chosen)
        query = context_at(height, *after, chosen)
        assert (endblock.limits_executors_to_poc_slots(height)
                == query.limits_executors_to_poc_slots(height)), height


def test_context_height_past_int64(run) -> None:
    outcome = run("epoch", "context", *SHORT_FLAGS, "--height", str(2**63))
    assert outcome.exit_code == 2


def test_context_stage_overflow(run) -> None:
    # The last int64 block lies in an epoch whose next PoC start is past int64.
    outcome = run("epoch", "context", *SHORT_FLAGS, "--height", str(2**63 - 1))
    assert outcome.exit_code == 3
    assert "past int64" in outcome.stderr
    assert "Traceback" not in outcome.stderr


# ----- admin state: a disabled node leaves routing from the next formation ----------


def _epoch_nodes(run, home: str, epoch: int) -> list[str]:
    shown = json.loads(ok(run, home, "epoch", "show", str(epoch), "--json").stdout)
    return sorted(node["node_id"]
                  for group in shown["sub_groups"]
                  for weight in group["validation_weights"]
                  for node in weight["ml_nodes"])


def test_disabled_node_leaves_next_formation(run, testnet: str) -> None:
    register(run, testnet, ALICE, "a1")
    register(run, testnet, ALICE, "a2")
    ok(run, testnet, "poc", "submit", ALICE, "--weight", "10")
    advance(run, testnet, "--to", "next-epoch")
    assert _epoch_nodes(run, testnet, 1) == ["a1", "a2"]

    ok(run, testnet, "node", "disable", "--participant", ALICE, "a2")
    advance(run, testnet, "--blocks", "40")  # into epoch 2's PoC (starts at 100)
    ok(run, testnet, "poc", "submit", ALICE, "--weight", "10")
    advance(run, testnet, "--to", "next-epoch")

    assert _epoch_nodes(run, testnet, 1) == ["a1", "a2"]  # a formed epoch never changes
    assert _epoch_nodes(run, testnet, 2) == ["a1"]


def test_enabled_again_node_returns(run, testnet: str) -> None:
    register(run, testnet, ALICE, "a1")
    register(run, testnet, ALICE, "a2")
    ok(run, testnet, "node", "disable", "--participant", ALICE, "a2")
    ok(run, testnet, "poc", "submit", ALICE, "--weight", "10")
    advance(run, testnet, "--to", "next-epoch")
    assert _epoch_nodes(run, testnet, 1) == ["a1"]

    ok(run, testnet, "node", "enable", "--participant", ALICE, "a2")
    advance(run, testnet, "--blocks", "40")
    ok(run, testnet, "poc", "submit", ALICE, "--weight", "10")
    advance(run, testnet, "--to", "next-epoch")
    assert _epoch_nodes(run, testnet, 2) == ["a1", "a2"]
