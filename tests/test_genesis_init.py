"""`inferctl genesis init`: the built-in template, TOML configs and their errors.

Expected values are worked out by hand: gonka's default params from
x/inference/types/params.go (epoch 40/1/0/100/10/2/2/6/1/0/2), Unix times with
`date -u -d 2025-01-01T00:00:00Z +%s` = 1735689600, and test addresses and keys
from hashlib (sha256 of the name) and the BIP-173 bech32 encoder.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import REPO, run_process, tree_digest
from inferctl import bech32
from inferctl.genesis import config

SAMPLE = REPO / "samples" / "testnet.toml"
TIME = "2025-01-01T00:00:00Z"
TIME_SECONDS = 1735689600
CHAIN = "gonka-testnet"

DEFAULT_EPOCH_PARAMS = {
    "epoch_length": "40",
    "epoch_multiplier": "1",
    "epoch_shift": "0",
    "default_unit_of_compute_price": "100",
    "poc_stage_duration": "10",
    "poc_exchange_duration": "2",
    "poc_validation_delay": "2",
    "poc_validation_duration": "6",
    "set_new_validators_delay": "1",
    "inference_validation_cutoff": "0",
    "inference_pruning_epoch_threshold": "2",
}


def name_address(name: str) -> str:
    return bech32.encode("gonka", hashlib.sha256(name.encode()).digest()[:20])


def name_key(name: str) -> str:
    digest = hashlib.sha256(f"validator-key:{name}".encode()).digest()
    return base64.b64encode(digest).decode()


def init(run, home: str, *extra: str, env: dict[str, str] | None = None):
    return run("genesis", "init", "--chain-id", CHAIN, "--home", home, *extra, env=env)


def exported(run, home: str, tmp_path: Path) -> dict:
    target = tmp_path / "exported.json"
    outcome = run("genesis", "export", "--home", home, "-o", str(target))
    assert outcome.exit_code == 0, outcome.stderr
    return json.loads(target.read_bytes())


def inference(doc: dict) -> dict:
    return doc["app_state"]["inference"]


def write_config(tmp_path: Path, text: str, name: str = "bad.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def init_config(run, tmp_path: Path, text: str):
    """Run init with a config written from `text` and return (outcome, home, file)."""
    config_path = write_config(tmp_path, text)
    home = str(tmp_path / "home")
    outcome = init(run, home, "--genesis-time", TIME, "--config", config_path)
    return outcome, home, config_path


# --- the template -----------------------------------------------------------------


def test_init_default_succeeds(run, home):
    outcome = init(run, home, "--genesis-time", TIME)
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout.startswith("1 blake3:")
    assert "0 models, 0 participants" in outcome.stderr


def test_init_default_exports_valid(run, home, tmp_path):
    assert init(run, home, "--genesis-time", TIME).exit_code == 0
    target = tmp_path / "exported.json"
    assert run("genesis", "export", "--home", home, "-o", str(target)).exit_code == 0
    validated = run("genesis", "validate", str(target))
    assert validated.exit_code == 0, validated.stderr
    assert "valid (gonka-testnet, 0 models, 0 participants)" in validated.stdout


def test_init_default_params(run, home, tmp_path):
    assert init(run, home, "--genesis-time", TIME).exit_code == 0
    doc = exported(run, home, tmp_path)
    params = inference(doc)["params"]
    assert params["epoch_params"] == DEFAULT_EPOCH_PARAMS
    assert params["validation_params"]["pass_value"] == {"value": "99", "exponent": -2}
    assert params["poc_params"]["default_difficulty"] == 5
    assert params["collateral_params"]["grace_period_end_epoch"] == "180"


def test_init_default_header(run, home, tmp_path):
    assert init(run, home, "--genesis-time", "2025-01-01T02:00:00+02:00").exit_code == 0
    doc = exported(run, home, tmp_path)
    assert doc["chain_id"] == CHAIN
    assert doc["genesis_time"] == "2025-01-01T00:00:00.000000000Z"
    assert inference(doc)["model_list"] == []
    assert inference(doc)["participant_list"] == []


def test_init_default_gov(run, home, tmp_path):
    assert init(run, home, "--genesis-time", TIME).exit_code == 0
    gov = exported(run, home, tmp_path)["app_state"]["gov"]["params"]
    assert gov["voting_period"] == "48h0m0s"
    assert gov["min_deposit"] == [{"denom": "ngonka", "amount": "25_000_000"}]
    assert gov["quorum"] == "0.334000000000000000"


def test_init_source_date_epoch(run, home, tmp_path):
    outcome = init(run, home, env={"SOURCE_DATE_EPOCH": str(TIME_SECONDS)})
    assert outcome.exit_code == 0, outcome.stderr
    doc = exported(run, home, tmp_path)
    assert doc["genesis_time"] == "2025-01-01T00:00:00.000000000Z"


def test_init_bad_genesis_time(run, home):
    outcome = init(run, home, "--genesis-time", "2025-13-01T00:00:00Z")
    assert outcome.exit_code == 3
    assert "--genesis-time" in outcome.stderr
    assert not os.path.exists(home)


def test_init_needs_chain_id(run, home):
    outcome = run("genesis", "init", "--home", home)
    assert outcome.exit_code == 2
    assert "--chain-id" in outcome.stderr
    assert not os.path.exists(home)


# --- samples/testnet.toml -----------------------------------------------------------


@pytest.fixture
def testnet(run, home, tmp_path) -> dict:
    outcome = init(run, home, "--genesis-time", TIME, "--config", str(SAMPLE))
    assert outcome.exit_code == 0, outcome.stderr
    return exported(run, home, tmp_path)


def test_sample_counts(run, home):
    outcome = init(run, home, "--genesis-time", TIME, "--config", str(SAMPLE))
    assert outcome.exit_code == 0, outcome.stderr
    assert "1 models, 3 participants" in outcome.stderr


def test_sample_epoch_params(testnet):
    epoch = inference(testnet)["params"]["epoch_params"]
    assert epoch["epoch_length"] == "50"
    assert epoch["epoch_shift"] == "0"
    assert epoch["poc_stage_duration"] == "4"
    assert epoch["poc_exchange_duration"] == "1"
    assert epoch["poc_validation_delay"] == "1"
    assert epoch["poc_validation_duration"] == "4"
    assert epoch["set_new_validators_delay"] == "1"


def test_sample_model(testnet):
    (model,) = inference(testnet)["model_list"]
    assert model["id"] == "Qwen/Qwen2.5-7B-Instruct"
    assert model["proposed_by"] == "genesis"
    assert model["units_of_compute_per_token"] == "100"
    assert model["hf_commit"] == "a09a35458c702b33eeacc393d103063234e8bc28"
    assert model["model_args"] == ["--quantization", "fp8"]
    assert model["v_ram"] == "24"
    assert model["throughput_per_nonce"] == "10000"
    assert model["validation_threshold"] == {"value": "98", "exponent": -2}


def test_sample_participants(testnet):
    participants = inference(testnet)["participant_list"]
    by_address = {p["address"]: p for p in participants}
    names = ("alice", "bob", "carol")
    assert sorted(by_address) == sorted(name_address(n) for n in names)
    for port, name in enumerate(names, start=8001):
        entry = by_address[name_address(name)]
        assert entry["index"] == name_address(name)
        assert entry["inference_url"] == f"http://localhost:{port}"
        assert entry["validator_key"] == name_key(name)


def test_sample_participant_fields(testnet):
    for entry in inference(testnet)["participant_list"]:
        assert entry["weight"] == 1
        assert entry["status"] == "ACTIVE"
        assert entry["join_time"] == str(TIME_SECONDS)
        assert entry["last_inference_time"] == str(TIME_SECONDS)
        assert entry["join_height"] == "0"
        assert entry["worker_public_key"] == ""


def test_sample_gov(testnet):
    gov = testnet["app_state"]["gov"]["params"]
    assert gov["voting_period"] == "30s"
    assert gov["expedited_voting_period"] == "15s"
    assert gov["max_deposit_period"] == "172800s"
    assert gov["min_deposit"] == [{"denom": "ngonka", "amount": "1000"}]
    assert gov["quorum"] == "0.334000000000000000"
    assert gov["threshold"] == "0.500000000000000000"
    assert gov["min_deposit_ratio"] == "0.010000000000000000"
    assert gov["burn_vote_veto"] is True


def test_sample_other_params(testnet):
    params = inference(testnet)["params"]
    assert params["validation_params"]["false_positive_rate"] == {
        "value": "5", "exponent": -2}
    only = inference(testnet)["genesis_only_params"]
    assert only["max_individual_power_percentage"] == {"value": "25", "exponent": -2}
    assert only["genesis_guardian_enabled"] is False


def test_sample_same_bytes(run, tmp_path):
    homes = [str(tmp_path / "a"), str(tmp_path / "b")]
    for target in homes:
        outcome = init(run, target, "--genesis-time", TIME, "--config", str(SAMPLE))
        assert outcome.exit_code == 0, outcome.stderr
    assert tree_digest(homes[0]) == tree_digest(homes[1])
    assert tree_digest(homes[0])


def test_sample_as_process(tmp_path):
    home = str(tmp_path / "home")
    completed = run_process("genesis", "init", "--chain-id", CHAIN, "--genesis-time",
                            TIME, "--config", str(SAMPLE), "--home", home, "--json")
    assert completed.returncode == 0, completed.stderr
    summary = json.loads(completed.stdout)
    assert summary["participants"] == 3
    assert summary["models"] == 1
    assert summary["chain_id"] == CHAIN


# --- init twice ---------------------------------------------------------------------


def test_init_twice_rejected(run, home):
    assert init(run, home, "--genesis-time", TIME).exit_code == 0
    before = tree_digest(home)
    again = init(run, home, "--genesis-time", TIME, "--config", str(SAMPLE))
    assert again.exit_code == 7
    assert "already exists" in again.stderr
    assert again.stdout == ""
    assert tree_digest(home) == before


# --- config values ------------------------------------------------------------------


def test_float_decimal_exact(run, tmp_path):
    text = """
[[models]]
id = "m"
validation_threshold = 0.1
[params.validation_params]
pass_value = 9.5e-1
"""
    outcome, home, _ = init_config(run, tmp_path, text)
    assert outcome.exit_code == 0, outcome.stderr
    doc = exported(run, home, tmp_path)
    (model,) = inference(doc)["model_list"]
    assert model["validation_threshold"] == {"value": "1", "exponent": -1}
    pass_value = inference(doc)["params"]["validation_params"]["pass_value"]
    assert pass_value == {"value": "95", "exponent": -2}


def test_decimal_table_as_written(run, tmp_path):
    text = '[[models]]\nid = "m"\nvalidation_threshold = {value = 980, exponent = -3}\n'
    outcome, home, _ = init_config(run, tmp_path, text)
    assert outcome.exit_code == 0, outcome.stderr
    (model,) = inference(exported(run, home, tmp_path))["model_list"]
    assert model["validation_threshold"] == {"value": "980", "exponent": -3}


def test_participant_by_address(run, tmp_path):
    address = "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le"
    key = "OPwcpfQYOoWDuHKYivRVq5jxrELH0moP5qdznvj3Dps="
    text = f"""
[[participants]]
address = "{address}"
inference_url = "https://node1.example:8000"
validator_key = "{key}"
weight = 7
"""
    outcome, home, _ = init_config(run, tmp_path, text)
    assert outcome.exit_code == 0, outcome.stderr
    (entry,) = inference(exported(run, home, tmp_path))["participant_list"]
    assert entry["address"] == address
    assert entry["validator_key"] == key
    assert entry["weight"] == 7


def test_gov_duration_forms(run, tmp_path):
    text = '[gov]\nvoting_period = "1h30m"\nexpedited_voting_period = "1.5s"\n'
    outcome, home, _ = init_config(run, tmp_path, text)
    assert outcome.exit_code == 0, outcome.stderr
    gov = exported(run, home, tmp_path)["app_state"]["gov"]["params"]
    assert gov["voting_period"] == "5400s"
    assert gov["expedited_voting_period"] == "1.500s"


def test_gov_two_coins_sorted(run, tmp_path):
    text = '[gov]\nmin_deposit = "5stake, 1000ngonka"\n'
    outcome, home, _ = init_config(run, tmp_path, text)
    assert outcome.exit_code == 0, outcome.stderr
    gov = exported(run, home, tmp_path)["app_state"]["gov"]["params"]
    assert gov["min_deposit"] == [
        {"denom": "ngonka", "amount": "1000"},
        {"denom": "stake", "amount": "5"},
    ]


def test_dotted_keys(run, tmp_path):
    text = "params.epoch_params.epoch_length = 17280\n"
    outcome, home, _ = init_config(run, tmp_path, text)
    assert outcome.exit_code == 0, outcome.stderr
    epoch = inference(exported(run, home, tmp_path))["params"]["epoch_params"]
    assert epoch["epoch_length"] == "17280"
    assert epoch["poc_stage_duration"] == "10"


# --- bad configs --------------------------------------------------------------------

BAD_CONFIGS = {
    "unknown_key": (
        '[params.epoch_params]\nepoch_lenght = 50\n',
        "bad.toml:2: params.epoch_params.epoch_lenght",
        "the closest valid key is 'epoch_length'",
    ),
    "unknown_section": (
        "[modles]\n",
        "bad.toml:1: modles",
        "unknown key 'modles'",
    ),
    "float_units": (
        '[[models]]\nid = "m"\nunits_of_compute_per_token = 1.5\n',
        "bad.toml:3: models[0].units_of_compute_per_token = 1.5",
        "a TOML float is not a whole number",
    ),
    "bad_address": (
        '[[participants]]\naddress = "gonka1notanaddress"\n'
        'inference_url = "http://localhost:8001"\n',
        "bad.toml:2: participants[0].address",
        "gonka1notanaddress",
    ),
    "syntax_error": (
        "[gov]\nvoting_period = \n",
        "bad.toml:2:",
        "invalid TOML at line 2",
    ),
    "epoch_length_zero": (
        "[params.epoch_params]\n\nepoch_length = 0\n",
        "bad.toml:3: params.epoch_params.epoch_length",
        "must be greater than 0",
    ),
    "bad_url": (
        '[[participants]]\nname = "alice"\ninference_url = "localhost:8001"\n',
        "bad.toml:3: participants[0].inference_url",
        "http or https URL",
    ),
    "bad_duration": (
        '[gov]\nvoting_period = "30 seconds"\n',
        "bad.toml:2: gov.voting_period",
        "not a duration",
    ),
    "quorum_above_one": (
        '[gov]\nquorum = "1.5"\n',
        "bad.toml:2: gov.quorum",
        "at most 1",
    ),
    "bad_coin": (
        '[gov]\nmin_deposit = 1000\n',
        "bad.toml:2: gov.min_deposit",
        '"1000ngonka"',
    ),
    "name_and_address": (
        '[[participants]]\nname = "a"\n'
        'address = "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le"\n'
        'inference_url = "http://x"\n',
        "bad.toml:1: participants[0]",
        "exactly one of `name` and `address`",
    ),
    "duplicate_model": (
        '[[models]]\nid = "m"\n[[models]]\nid = "m"\n',
        "bad.toml:4: models[1].id",
        "duplicate id",
    ),
    "model_without_id": (
        "[[models]]\nv_ram = 24\n",
        "bad.toml:1: models[0]",
        "missing key `id`",
    ),
    "date_value": (
        "[params.epoch_params]\nepoch_length = 2025-01-01\n",
        "bad.toml:2: params.epoch_params.epoch_length",
        "not a date",
    ),
    "proposed_by": (
        '[[models]]\nid = "m"\nproposed_by = "me"\n',
        "bad.toml:3: models[0].proposed_by",
        '"genesis"',
    ),
    "short_validator_key": (
        '[[participants]]\nname = "a"\ninference_url = "http://x"\n'
        'validator_key = "AAAA"\n',
        "bad.toml:4: participants[0].validator_key",
        "32-byte",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_rejected(run, tmp_path, case):
    text, where, rule = BAD_CONFIGS[case]
    outcome, home, _ = init_config(run, tmp_path, text)
    assert outcome.exit_code == 3
    assert where in outcome.stderr
    assert rule in outcome.stderr
    assert outcome.stdout == ""
    assert not os.path.exists(home)


def test_bad_config_one_error_line(run, tmp_path):
    outcome, _, _ = init_config(run, tmp_path, "[modles]\n")
    assert outcome.stderr.count("error:") == 1
    assert len(outcome.stderr.strip().splitlines()) == 1


def test_every_problem_listed(tmp_path):
    text = "[params.epoch_params]\nepoch_lenght = 1\nv_ram = 2\n"
    config_path = write_config(tmp_path, text)
    home = str(tmp_path / "home")
    completed = run_process("genesis", "init", "--chain-id", CHAIN, "--genesis-time",
                            TIME, "--config", config_path, "--home", home)
    assert completed.returncode == 3
    assert "2 problems" in completed.stderr
    assert "bad.toml:2: params.epoch_params.epoch_lenght" in completed.stderr
    assert "bad.toml:3: params.epoch_params.v_ram" in completed.stderr


def test_missing_config_file(run, tmp_path):
    home = str(tmp_path / "home")
    outcome = init(run, home, "--genesis-time", TIME, "--config",
                   str(tmp_path / "absent.toml"))
    assert outcome.exit_code == 4
    assert "absent.toml" in outcome.stderr
    assert not os.path.exists(home)


def test_bad_config_as_process(tmp_path):
    config_path = write_config(tmp_path, '[[models]]\nid = "m"\nv_ram = 2.0\n')
    home = str(tmp_path / "home")
    completed = run_process("genesis", "init", "--chain-id", CHAIN, "--genesis-time",
                            TIME, "--config", config_path, "--home", home)
    assert completed.returncode == 3
    assert completed.stdout == ""
    assert "bad.toml:3: models[0].v_ram = 2.0" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert not os.path.exists(home)


def test_init_help_has_example(run):
    outcome = run("genesis", "init", "--help")
    assert outcome.exit_code == 0
    assert "Example:" in outcome.stdout
    assert "--config" in outcome.stdout


# --- config helpers -----------------------------------------------------------------


@given(st.integers(min_value=-(10**12), max_value=10**12),
       st.integers(min_value=0, max_value=12))
def test_decimal_text_exact(mantissa, places):
    digits = f"{abs(mantissa):0{places + 1}d}"
    text = digits if places == 0 else f"{digits[:-places]}.{digits[-places:]}"
    text = f"-{text}" if mantissa < 0 else text
    value, exponent = config.parse_decimal(text)
    assert Fraction(value) * Fraction(10) ** exponent == Fraction(mantissa, 10**places)
    assert exponent == 0 or value % 10 != 0


@given(st.integers(min_value=1, max_value=10**15))
def test_duration_round_trip(nanos):
    assert config.parse_duration(config.format_duration(nanos)) == nanos


@pytest.mark.parametrize(
    ("text", "nanos"),
    [("30s", 30 * 10**9), ("48h0m0s", 172800 * 10**9), ("1h30m", 5400 * 10**9),
     ("1.5s", 1_500_000_000), ("250ms", 250_000_000), ("0", 0)],
)
def test_duration_go_syntax(text, nanos):
    assert config.parse_duration(text) == nanos


@pytest.mark.parametrize("text", ["", "30", "-30s", "30 s", "1d", "s"])
def test_duration_rejected(text):
    assert config.parse_duration(text) is None


def test_key_lines_skip_multiline_strings():
    text = '[t]\ns = """\nx = 1\n"""\ny = 2\n[[m]]\nid = "a"\n[[m]]\nid = "b"\n'
    lines = config.key_lines(text)
    assert lines["t.s"] == 2
    assert "t.x" not in lines
    assert lines["t.y"] == 5
    assert lines["m[1].id"] == 9


def test_validator_key_for_name():
    assert config.validator_key_for_name("alice") == name_key("alice")


def test_sample_matches_identity_commands(run, testnet):
    by_address = {p["address"]: p for p in inference(testnet)["participant_list"]}
    address = run("address", "alice").stdout.strip()
    key = run("validator-key", "alice").stdout.strip()
    assert address in by_address
    assert by_address[address]["validator_key"] == key
