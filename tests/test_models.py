"""`inferctl model register/list/show`: gonka's MsgRegisterModel rules, real ledger."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from inferctl import bech32

GOV = "gonka10d07y265gmmuvt4z0w9aw880jnsr700j2h5m33"
# A participant of the mainnet genesis (tests/data/genesis/mainnet-genesis.json).
PARTICIPANT = "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le"
ALICE = bech32.test_address("alice", "gonka")
TIME = "2025-09-01T00:00:00Z"


def snapshot_tree(home: str) -> dict[str, str]:
    """Return {relative path: sha256} of every file and directory under `home`.

    Unlike conftest's tree_digest this keeps the lock files too, so any change to
    the directory shows.
    """
    digests = {}
    for root, dirs, files in os.walk(home):
        for name in dirs:
            digests[os.path.relpath(os.path.join(root, name), home) + "/"] = "dir"
        for name in files:
            full = os.path.join(root, name)
            with open(full, "rb") as handle:
                digests[os.path.relpath(full, home)] = hashlib.sha256(
                    handle.read()
                ).hexdigest()
    return digests


def register(
    run,
    home: str,
    *extra: str,
    authority: str = GOV,
    proposed_by: str = ALICE,
    model_id: str = "test/model-a",
):
    return run(
        "model",
        "register",
        "--authority",
        authority,
        "--proposed-by",
        proposed_by,
        "--id",
        model_id,
        *extra,
        "--home",
        home,
        "--time",
        TIME,
    )


def show_json(run, home: str, model_id: str) -> dict:
    outcome = run("model", "show", model_id, "--json", "--home", home)
    assert outcome.exit_code == 0, outcome.stderr
    return json.loads(outcome.stdout)["model"]


# --- upstream message_register_model_test: stateless address checks -------------------


@pytest.mark.parametrize(
    "authority, proposed_by, bad_field",
    [
        ("invalid_address", ALICE, "authority"),
        (GOV, "invalid_address", "proposed_by"),
        (bech32.test_address("alice", "cosmos"), ALICE, "authority"),
        (GOV[:-1] + ("q" if GOV[-1] != "q" else "p"), ALICE, "authority"),
    ],
)
def test_register_invalid_address(run, mainnet_home, authority, proposed_by, bad_field):
    before = snapshot_tree(mainnet_home)
    outcome = register(run, mainnet_home, authority=authority, proposed_by=proposed_by)
    assert outcome.exit_code == 3
    assert outcome.stdout == ""
    assert f"{bad_field}: invalid" in outcome.stderr
    assert "address" in outcome.stderr
    assert snapshot_tree(mainnet_home) == before


def test_register_valid_addresses(run, mainnet_home):
    outcome = register(run, mainnet_home)
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout == "test/model-a\n"


# --- handler: the authority must be the gov module account (ErrInvalidSigner) ---


def test_register_participant_authority(run, mainnet_home):
    before = snapshot_tree(mainnet_home)
    outcome = register(run, mainnet_home, authority=PARTICIPANT)
    assert outcome.exit_code == 3
    assert outcome.stdout == ""
    assert "expected gov account as only signer" in outcome.stderr
    assert f"expected {GOV}" in outcome.stderr
    assert f"got {PARTICIPANT}" in outcome.stderr
    assert snapshot_tree(mainnet_home) == before


def test_register_stores_all_fields(run, mainnet_home):
    outcome = register(
        run,
        mainnet_home,
        "--units-of-compute-per-token",
        "1000",
        "--hf-repo",
        "Qwen/QwQ-32B",
        "--hf-commit",
        "976055f8c83f394f35dbd3ab09a285a984907bd0",
        "--model-arg",
        "--quantization",
        "--model-arg=fp8",
        "--v-ram",
        "80",
        "--throughput-per-nonce",
        "1000",
        "--validation-threshold",
        "0.98",
    )
    assert outcome.exit_code == 0, outcome.stderr
    model = show_json(run, mainnet_home, "test/model-a")
    assert model == {
        "proposed_by": ALICE,
        "id": "test/model-a",
        "units_of_compute_per_token": "1000",
        "context_window": "0",
        "quantization": "",
        "coins_per_input_token": "0",
        "coins_per_output_token": "0",
        "hf_repo": "Qwen/QwQ-32B",
        "hf_commit": "976055f8c83f394f35dbd3ab09a285a984907bd0",
        "model_args": ["--quantization", "fp8"],
        "v_ram": "80",
        "throughput_per_nonce": "1000",
        "validation_threshold": {"value": "98", "exponent": -2},
    }


def test_register_record_body(run, mainnet_home):
    register(run, mainnet_home, "--validation-threshold", "0.98", "--v-ram", "24")
    segment = os.path.join(mainnet_home, "segments", "000000000001.jsonl")
    with open(segment, "rb") as handle:
        last_line = handle.read().splitlines()[-1]
    floats: list[str] = []
    last = json.loads(last_line, parse_float=lambda text: floats.append(text))
    assert last["type"] == "/inference.inference.MsgRegisterModel"
    assert last["body"]["authority"] == GOV
    assert last["body"]["proposed_by"] == ALICE
    assert last["body"]["validation_threshold"] == {"value": 98, "exponent": -2}
    assert last["body"]["v_ram"] == 24
    assert floats == []


@pytest.mark.parametrize(
    "text, value, exponent",
    [
        ("0.98", "98", -2),
        ("0.980", "980", -3),
        ("1", "1", 0),
        ("0", "0", 0),
        ("1e-2", "1", -2),
        ("0.85", "85", -2),
        (".5", "5", -1),
    ],
)
def test_threshold_conversion(run, mainnet_home, text, value, exponent):
    outcome = register(run, mainnet_home, "--validation-threshold", text)
    assert outcome.exit_code == 0, outcome.stderr
    threshold = show_json(run, mainnet_home, "test/model-a")["validation_threshold"]
    assert threshold == {"value": value, "exponent": exponent}


@pytest.mark.parametrize(
    "text", ["1.01", "-0.1", "2", "nan", "inf", "0,98", "1e1", "0.9_8", ""]
)
def test_threshold_rejected(run, mainnet_home, text):
    before = snapshot_tree(mainnet_home)
    outcome = register(run, mainnet_home, "--validation-threshold", text)
    assert outcome.exit_code == 3
    assert outcome.stdout == ""
    assert "threshold" in outcome.stderr
    assert snapshot_tree(mainnet_home) == before


def test_threshold_absent_is_null(run, mainnet_home):
    register(run, mainnet_home)
    assert show_json(run, mainnet_home, "test/model-a")["validation_threshold"] is None


def test_empty_id_rejected(run, mainnet_home):
    before = snapshot_tree(mainnet_home)
    outcome = register(run, mainnet_home, model_id="")
    assert outcome.exit_code == 3
    assert "id: must not be empty" in outcome.stderr
    assert snapshot_tree(mainnet_home) == before


def test_uint64_max_accepted(run, mainnet_home):
    outcome = register(run, mainnet_home, "--v-ram", "18446744073709551615")
    assert outcome.exit_code == 0, outcome.stderr
    assert (
        show_json(run, mainnet_home, "test/model-a")["v_ram"] == "18446744073709551615"
    )


@pytest.mark.parametrize(
    "option, value",
    [
        ("--v-ram", "18446744073709551616"),
        ("--units-of-compute-per-token", "-1"),
        ("--throughput-per-nonce", "1.5"),
    ],
)
def test_uint64_out_of_range(run, mainnet_home, option, value):
    before = snapshot_tree(mainnet_home)
    outcome = register(run, mainnet_home, option, value)
    assert outcome.exit_code == 2
    assert outcome.stdout == ""
    assert option in outcome.stderr
    assert snapshot_tree(mainnet_home) == before


# --- upstream model_test: TestModels and TestSetDeleteSetModel ---


def test_models_set_then_list(run, mainnet_home):
    register(run, mainnet_home, "--units-of-compute-per-token", "5")
    outcome = run("model", "list", "--json", "--home", mainnet_home)
    ids = [m["id"] for m in json.loads(outcome.stdout)["models"]]
    assert outcome.exit_code == 0, outcome.stderr
    assert ids == ["Qwen/QwQ-32B", "Qwen/Qwen2.5-7B-Instruct", "test/model-a"]


def test_set_set_model_replaces(run, mainnet_home):
    for model_id in ("test/model-a", "test/model-b"):
        first = register(
            run,
            mainnet_home,
            "--hf-repo",
            "org/repo",
            "--v-ram",
            "24",
            "--validation-threshold",
            "0.9",
            "--model-arg",
            "--x",
            model_id=model_id,
        )
        assert first.exit_code == 0, first.stderr
    for model_id in ("test/model-a", "test/model-b"):
        second = register(
            run,
            mainnet_home,
            "--v-ram",
            "48",
            model_id=model_id,
            proposed_by=PARTICIPANT,
        )
        assert second.exit_code == 0, second.stderr
        assert f"replaced model {model_id}" in second.stderr
        assert "hf_repo" in second.stderr
    listed = json.loads(run("model", "list", "--json", "--home", mainnet_home).stdout)
    by_id = {m["id"]: m for m in listed["models"]}
    for model_id in ("test/model-a", "test/model-b"):
        shown = show_json(run, mainnet_home, model_id)
        assert shown == by_id[model_id]
        assert shown["v_ram"] == "48"
        assert shown["hf_repo"] == ""
        assert shown["model_args"] == []
        assert shown["validation_threshold"] is None
        assert shown["proposed_by"] == PARTICIPANT


def test_replacing_genesis_model_clears_fields(run, mainnet_home):
    outcome = register(run, mainnet_home, "--v-ram", "40", model_id="Qwen/QwQ-32B")
    assert outcome.exit_code == 0, outcome.stderr
    assert "replaced model Qwen/QwQ-32B" in outcome.stderr
    shown = show_json(run, mainnet_home, "Qwen/QwQ-32B")
    assert shown["v_ram"] == "40"
    assert shown["units_of_compute_per_token"] == "0"
    assert shown["hf_commit"] == ""


def test_identical_register_appends_nothing(run, mainnet_home):
    register(run, mainnet_home, "--v-ram", "8")
    before = snapshot_tree(mainnet_home)
    outcome = register(run, mainnet_home, "--v-ram", "8")
    assert outcome.exit_code == 0, outcome.stderr
    assert "already registered with these fields" in outcome.stderr
    assert snapshot_tree(mainnet_home) == before


def test_new_model_has_no_replace_note(run, mainnet_home):
    outcome = register(run, mainnet_home)
    assert "replaced" not in outcome.stderr


# --- reading -------------------------------------------------------------------------


def test_genesis_models_listed(run, mainnet_home):
    outcome = run("model", "list", "--home", mainnet_home)
    lines = outcome.stdout.splitlines()
    assert outcome.exit_code == 0, outcome.stderr
    assert lines[0].split() == ["ID", "UNITS", "V_RAM", "THRESHOLD", "PROPOSED_BY"]
    assert lines[1].split() == ["Qwen/QwQ-32B", "1000", "80", "0.98", GOV]
    assert lines[2].split() == ["Qwen/Qwen2.5-7B-Instruct", "100", "24", "0.98", GOV]
    assert len(lines) == 3


def test_list_in_byte_order(run, mainnet_home):
    for model_id in ("b", "B", "a/x", "Z"):
        assert register(run, mainnet_home, model_id=model_id).exit_code == 0
    outcome = run("model", "list", "--json", "--home", mainnet_home)
    ids = [m["id"] for m in json.loads(outcome.stdout)["models"]]
    assert ids == ["B", "Qwen/QwQ-32B", "Qwen/Qwen2.5-7B-Instruct", "Z", "a/x", "b"]


def test_show_genesis_model_json(run, mainnet_home):
    model = show_json(run, mainnet_home, "Qwen/Qwen2.5-7B-Instruct")
    assert model["proposed_by"] == GOV
    assert model["units_of_compute_per_token"] == "100"
    assert model["hf_commit"] == "a09a35458c702b33eeacc393d103063234e8bc28"
    assert model["model_args"] == ["--quantization", "fp8"]
    assert model["throughput_per_nonce"] == "10000"


def test_show_text(run, mainnet_home):
    outcome = run("model", "show", "Qwen/QwQ-32B", "--home", mainnet_home)
    assert outcome.exit_code == 0, outcome.stderr
    assert "validation_threshold: 0.98\n" in outcome.stdout
    assert "v_ram: 80\n" in outcome.stdout


def test_show_unknown_model(run, mainnet_home):
    outcome = run("model", "show", "qwen/qwq-32b", "--home", mainnet_home)
    assert outcome.exit_code == 4
    assert outcome.stdout == ""
    assert "'qwen/qwq-32b'" in outcome.stderr
    assert "inferctl model list" in outcome.stderr


def test_model_help_has_examples(run):
    for command in ("register", "propose", "list", "show"):
        outcome = run("model", command, "--help")
        assert outcome.exit_code == 0
        assert "Example:" in outcome.stdout
