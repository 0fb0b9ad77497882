"""Tests of `inferctl genesis patch` and of the Cosmos integer-string checks.

tests/data/overrides/ contains the real override files of the gonka repository:
genesis/genesis-overrides.json (mainnet) and inference-chain/test_genesis_overrides.json
(local test networks). Expected values come from those files and from the real
mainnet genesis. The Go integer cases are the test table of Go's math/big
(intconv_test.go and natconv_test.go).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inferctl.ceremony.patch import (
    JsonNumber,
    check_integer_strings,
    loads_exact,
    merge_overrides,
    parse_go_integer,
)
from inferctl.errors import InvalidInput

DATA = Path(__file__).parent / "data"
MAINNET = DATA / "genesis" / "mainnet-genesis.json"
MAINNET_OVERRIDES = DATA / "overrides" / "genesis-overrides.json"
TEST_OVERRIDES = DATA / "overrides" / "test_genesis_overrides.json"
INVALID_INPUT = 3
QWQ = "Qwen/QwQ-32B"
QWEN_7B = "Qwen/Qwen2.5-7B-Instruct"


def load(path: Path) -> dict:
    return json.loads(path.read_bytes())


def write_json(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value, indent=2))
    return path


def patch(run, genesis: Path, output: Path, *overrides: Path, extra: tuple = ()):
    arguments = ["genesis", "patch", str(genesis)]
    for path in overrides:
        arguments += ["--overrides", str(path)]
    return run(*arguments, "-o", str(output), *extra)


def models_by_id(doc: dict) -> dict[str, dict]:
    return {m["id"]: m for m in doc["app_state"]["inference"]["model_list"]}


# --- real override files -------------------------------------------------------------


def test_mainnet_overrides_apply(run, tmp_path):
    output = tmp_path / "out.json"
    result = patch(run, MAINNET, output, MAINNET_OVERRIDES)
    assert result.exit_code == 0, result.stderr
    patched = load(output)
    expected = load(MAINNET)
    # The published mainnet genesis has other supply values than its override file.
    # Only those three change, because the rest already has the file's values.
    overrides = load(MAINNET_OVERRIDES)["app_state"]["inference"]
    for key in ("originator_supply", "top_reward_amount", "standard_reward_amount"):
        expected["app_state"]["inference"]["genesis_only_params"][key] = overrides[
            "genesis_only_params"][key]
    assert patched == expected


def test_mainnet_overrides_report_changes(run, tmp_path):
    result = patch(run, MAINNET, tmp_path / "out.json", MAINNET_OVERRIDES,
                   extra=("--json",))
    [report] = json.loads(result.stdout)["overrides"]
    prefix = "app_state.inference.genesis_only_params."
    assert report["changed"] == [
        prefix + "originator_supply",
        prefix + "top_reward_amount",
        prefix + "standard_reward_amount",
    ]
    assert report["added"] == []


def test_mainnet_overrides_keep_number_text(run, tmp_path):
    output = tmp_path / "out.json"
    assert patch(run, MAINNET, output, MAINNET_OVERRIDES).exit_code == 0
    text = output.read_text()
    assert '"amount": "25_000_000"' in text
    assert '"amount": "50_000_000"' in text
    assert '"exponent": "-4"' in text
    assert '"exponent": -2' in text
    assert '"total_supply": "1000000000000000000"' in text
    assert text.endswith("}\n")


def test_test_overrides_apply(run, tmp_path):
    output = tmp_path / "out.json"
    result = patch(run, MAINNET, output, TEST_OVERRIDES)
    assert result.exit_code == 0, result.stderr
    patched = load(output)["app_state"]
    epoch = patched["inference"]["params"]["epoch_params"]
    assert epoch["epoch_length"] == "50"
    assert epoch["poc_stage_duration"] == "4"
    # Keys the override leaves out keep their mainnet values.
    assert epoch["inference_validation_cutoff"] == "80"
    assert epoch["inference_pruning_epoch_threshold"] == "2"
    assert patched["gov"]["params"]["voting_period"] == "30s"
    assert patched["gov"]["params"]["min_deposit"] == [
        {"denom": "ngonka", "amount": "1_000"}
    ]
    assert patched["gov"]["params"]["quorum"] == "0.334000000000000000"
    validation = patched["inference"]["params"]["validation_params"]
    assert validation["min_validation_average"] == {"value": "1", "exponent": -2}
    bandwidth = patched["inference"]["params"]["bandwidth_limits_params"]
    assert bandwidth["estimated_limits_per_block_kb"] == "43008"
    assert bandwidth["kb_per_input_token"] == {"value": "23", "exponent": "-4"}


def test_test_overrides_replace_model_list(run, tmp_path):
    output = tmp_path / "out.json"
    assert patch(run, MAINNET, output, TEST_OVERRIDES).exit_code == 0
    models = load(output)["app_state"]["inference"]["model_list"]
    assert models == load(TEST_OVERRIDES)["app_state"]["inference"]["model_list"]
    assert models[0]["validation_threshold"] == {"value": "85", "exponent": -2}


def test_overrides_apply_in_order(run, tmp_path):
    output = tmp_path / "out.json"
    result = patch(run, MAINNET, output, TEST_OVERRIDES, MAINNET_OVERRIDES)
    assert result.exit_code == 0
    params = load(output)["app_state"]["gov"]["params"]
    assert params["voting_period"] == "48h0m0s"
    epoch = load(output)["app_state"]["inference"]["params"]["epoch_params"]
    assert epoch["epoch_length"] == "17280"
    # Set only by the first file, so it survives the second.
    assert load(output)["app_state"]["inference"]["params"]["validation_params"][
        "expiration_blocks"] == "10"


def test_patch_keeps_participants(run, tmp_path):
    output = tmp_path / "out.json"
    assert patch(run, MAINNET, output, TEST_OVERRIDES).exit_code == 0
    after = load(output)["app_state"]["inference"]["participant_list"]
    assert after == load(MAINNET)["app_state"]["inference"]["participant_list"]


def test_patch_keeps_key_order(run, tmp_path):
    override = write_json(tmp_path / "o.json", {"app_state": {"zz_new": {"a": 1}},
                                                "chain_id": "gonka-patched"})
    output = tmp_path / "out.json"
    assert patch(run, MAINNET, output, override).exit_code == 0
    before, after = load(MAINNET), load(output)
    assert list(after) == list(before)
    assert list(after["app_state"]) == [*before["app_state"], "zz_new"]
    assert after["chain_id"] == "gonka-patched"


# --- merge by key --------------------------------------------------------------------


def test_merge_by_id_keeps_other_model(run, tmp_path):
    override = write_json(tmp_path / "o.json", {"app_state": {"inference": {
        "model_list": [{"id": QWQ, "v_ram": "160"}]}}})
    output = tmp_path / "out.json"
    result = patch(run, MAINNET, output, override, extra=("--merge-arrays-by", "id"))
    assert result.exit_code == 0, result.stderr
    after = models_by_id(load(output))
    before = models_by_id(load(MAINNET))
    assert list(after) == [QWQ, QWEN_7B]
    assert after[QWQ]["v_ram"] == "160"
    assert after[QWQ]["hf_commit"] == before[QWQ]["hf_commit"]
    assert list(after[QWQ]) == list(before[QWQ])
    assert after[QWEN_7B] == before[QWEN_7B]


def test_merge_without_key_replaces(run, tmp_path):
    override = write_json(tmp_path / "o.json", {"app_state": {"inference": {
        "model_list": [{"id": QWQ, "v_ram": "160"}]}}})
    output = tmp_path / "out.json"
    assert patch(run, MAINNET, output, override).exit_code == 0
    assert load(output)["app_state"]["inference"]["model_list"] == [
        {"id": QWQ, "v_ram": "160"}
    ]


def test_merge_by_id_appends_new_model(run, tmp_path):
    new_model = {"id": "acme/Tiny-1B", "v_ram": "8"}
    override = write_json(tmp_path / "o.json", {"app_state": {"inference": {
        "model_list": [new_model]}}})
    output = tmp_path / "out.json"
    result = patch(run, MAINNET, output, override,
                   extra=("--merge-arrays-by", "id", "--json"))
    assert result.exit_code == 0
    assert list(models_by_id(load(output))) == [QWQ, QWEN_7B, "acme/Tiny-1B"]
    [report] = json.loads(result.stdout)["overrides"]
    assert report["added"] == [
        'app_state.inference.model_list[id="acme/Tiny-1B"]'
    ]


def test_merge_by_id_replaces_arrays_without_key(run, tmp_path):
    override = write_json(tmp_path / "o.json", {"app_state": {"gov": {"params": {
        "min_deposit": [{"denom": "ngonka", "amount": "7"}]}}}})
    output = tmp_path / "out.json"
    assert patch(run, MAINNET, output, override,
                 extra=("--merge-arrays-by", "id")).exit_code == 0
    assert load(output)["app_state"]["gov"]["params"]["min_deposit"] == [
        {"denom": "ngonka", "amount": "7"}
    ]


def test_merge_by_id_duplicate_rejected(run, tmp_path):
    override = write_json(tmp_path / "o.json", {"app_state": {"inference": {
        "model_list": [{"id": QWQ}, {"id": QWQ}]}}})
    result = patch(run, MAINNET, tmp_path / "out.json", override,
                   extra=("--merge-arrays-by", "id"))
    assert result.exit_code == INVALID_INPUT
    assert "same id" in result.stderr
    assert str(override) in result.stderr


# --- merge semantics ---------------------------------------------------------------


def test_merge_objects_recursively():
    merged, report = merge_overrides({"a": {"x": 1, "y": 2}, "b": 3},
                                     {"a": {"y": 5, "z": 6}})
    assert merged == {"a": {"x": 1, "y": 5, "z": 6}, "b": 3}
    assert report.changed == ["a.y"]
    assert report.added == ["a.z"]


def test_merge_replaces_arrays_and_scalars():
    merged, _ = merge_overrides({"a": [1, 2, 3], "b": {"c": 1}, "d": "x"},
                                {"a": [9], "b": 4, "d": {"e": 1}})
    assert merged == {"a": [9], "b": 4, "d": {"e": 1}}


def test_merge_null_replaces():
    merged, _ = merge_overrides({"a": {"b": 1}}, {"a": None})
    assert merged == {"a": None}


def test_merge_leaves_inputs_unchanged():
    base = {"a": {"b": [{"id": 1, "v": 1}]}}
    override = {"a": {"b": [{"id": 1, "v": 2}]}}
    merge_overrides(base, override, array_key="id")
    assert base == {"a": {"b": [{"id": 1, "v": 1}]}}
    assert override == {"a": {"b": [{"id": 1, "v": 2}]}}


def test_merge_key_types_differ():
    merged, _ = merge_overrides({"m": [{"id": 1, "v": "a"}]},
                                {"m": [{"id": "1", "v": "b"}]}, array_key="id")
    assert merged == {"m": [{"id": 1, "v": "a"}, {"id": "1", "v": "b"}]}


def test_merge_rejects_non_object_override():
    with pytest.raises(InvalidInput, match="must be a JSON object"):
        merge_overrides({"a": 1}, [1, 2], source="list.json")


def test_patch_rejects_array_override(run, tmp_path):
    override = write_json(tmp_path / "o.json", [1])
    result = patch(run, MAINNET, tmp_path / "out.json", override)
    assert result.exit_code == INVALID_INPUT
    assert f"{override}: an override file must be a JSON object" in result.stderr


def test_patch_missing_override(run, tmp_path):
    result = patch(run, MAINNET, tmp_path / "out.json", tmp_path / "none.json")
    assert result.exit_code == 4
    assert "none.json: no such override file" in result.stderr


def test_patch_requires_overrides(run, tmp_path):
    result = run("genesis", "patch", str(MAINNET), "-o", str(tmp_path / "out.json"))
    assert result.exit_code == 2


# --- exact numbers -------------------------------------------------------------------


def test_patch_keeps_exact_numbers(run, tmp_path):
    genesis = tmp_path / "g.json"
    genesis.write_text(
        '{"big": 123456789012345678901234567890, "u64": 18446744073709551615,\n'
        ' "neg": -9223372036854775808, "dec": 0.10000000000000000001,\n'
        ' "exp": 1E+400, "s": "25_000_000", "keep": 1}'
    )
    override = tmp_path / "o.json"
    override.write_text('{"keep": 2.50, "huge": -98765432109876543210}')
    output = tmp_path / "out.json"
    assert patch(run, genesis, output, override).exit_code == 0
    assert output.read_text() == (
        "{\n"
        '  "big": 123456789012345678901234567890,\n'
        '  "u64": 18446744073709551615,\n'
        '  "neg": -9223372036854775808,\n'
        '  "dec": 0.10000000000000000001,\n'
        '  "exp": 1E+400,\n'
        '  "s": "25_000_000",\n'
        '  "keep": 2.50,\n'
        '  "huge": -98765432109876543210\n'
        "}\n"
    )


def test_loads_exact_keeps_text():
    doc = loads_exact(b'{"a": 1.0, "b": 7}', "doc")
    assert doc == {"a": JsonNumber("1.0"), "b": 7}


def test_loads_exact_rejects_nan():
    with pytest.raises(InvalidInput, match="NaN"):
        loads_exact(b'{"a": NaN}', "doc.json")


def test_patch_rejects_duplicate_keys(run, tmp_path):
    override = tmp_path / "o.json"
    override.write_text('{"a": 1, "a": 2}')
    result = patch(run, MAINNET, tmp_path / "out.json", override)
    assert result.exit_code == INVALID_INPUT
    assert "duplicate JSON key 'a'" in result.stderr


# --- Go base-0 integers --------------------------------------------------------------

GO_VALID = {
    "0": 0, "+0": 0, "-0": 0, "10": 10, "-10": -10, "+10": 10, "0x10": 16,
    "-0x10": -16, "+0x10": 16, "00": 0, "07": 7, "023": 19, "0b0": 0,
    "-0b111": -7, "0b1001010111": 599, "0b10": 2, "0o10": 8, "1_000": 1000,
    "0b_1010": 10, "+0o_660": 432, "-0xF00D_1E": -15731998,
    "25_000_000": 25_000_000,
}
GO_INVALID = [
    "", "a", "z", "+", "-", "0b", "0o", "0x", "0y", "0b2", "08", "0xg",
    "_", "0_", "_0", "-1__0", "0x10_", "0__0", "0x___0", "0b__1000", "0o60___0",
    "1.5", " 1", "1 ", "1e3", "--1", "\u0661",
]


@pytest.mark.parametrize("text", sorted(GO_VALID))
def test_go_integer_valid(text):
    assert parse_go_integer(text) == GO_VALID[text]


@pytest.mark.parametrize("text", GO_INVALID)
def test_go_integer_invalid(text):
    with pytest.raises(ValueError):
        parse_go_integer(text)


# --- check_integer_strings -----------------------------------------------------------


def test_integer_strings_mainnet_clean():
    assert check_integer_strings(load(MAINNET)) == []


def test_integer_strings_test_overrides_clean():
    assert check_integer_strings(load(TEST_OVERRIDES)) == []


def coin_doc(amount: object) -> dict:
    return {"app_state": {"gov": {"params": {"min_deposit": [
        {"denom": "ngonka", "amount": amount}]}}}}


@pytest.mark.parametrize(("amount", "reason"), [
    ("25__000", "'_' must separate successive digits"),
    ("_1", "'_' must separate successive digits"),
    ("1_", "'_' must separate successive digits"),
    ("08", "'8' is not a base-8 digit"),
    ("1.5", "'.' is not a base-10 digit"),
    ("-5", "must not be negative"),
    (str(2**256), "256 bits"),
    (25000000, "expected a string"),
])
def test_integer_strings_bad_amount(amount, reason):
    problems = check_integer_strings(coin_doc(amount))
    assert len(problems) == 1
    assert problems[0].startswith("app_state.gov.params.min_deposit[0].amount = ")
    assert reason in problems[0]


def test_integer_strings_largest_accepted():
    assert check_integer_strings(coin_doc(str(2**256 - 1))) == []


def test_integer_strings_skip_dec_coins():
    doc = {"app_state": {"distribution": {"fee_pool": {"community_pool": [
        {"denom": "ngonka", "amount": "120000000000000000.000000000000000000"}]}}}}
    assert check_integer_strings(doc) == []


def test_integer_strings_min_self_delegation():
    doc = {"app_state": {"genutil": {"gen_txs": [{"body": {"messages": [{
        "@type": "/cosmos.staking.v1beta1.MsgCreateValidator",
        "min_self_delegation": "1__0",
        "value": {"denom": "ngonka", "amount": "1"}}]}}]}}}
    problems = check_integer_strings(doc)
    assert problems == [
        'app_state.genutil.gen_txs[0].body.messages[0].min_self_delegation = "1__0": '
        "not an integer as Cosmos parses it ('_' must separate successive digits)"
    ]


def test_integer_strings_in_document_order():
    doc = {"a": {"denom": "x", "amount": "_1"}, "b": [{"denom": "y", "amount": "2_"}]}
    problems = check_integer_strings(doc)
    assert [p.split(" = ")[0] for p in problems] == ["a.amount", "b[0].amount"]
