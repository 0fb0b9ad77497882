"""Genesis codec: parse, checks, export and the built-in template.

Expected values come from the real mainnet genesis file (gonka-ai/gonka,
genesis/genesis.json at 312044d28c7170d7f08bf88e41427396f3b95817) or are worked
out by hand.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferctl import bech32
from inferctl.errors import InvalidInput
from inferctl.genesis import codec, protojson, schema

MAINNET_PATH = Path(__file__).parent / "data" / "genesis" / "mainnet-genesis.json"
MAINNET_BYTES = MAINNET_PATH.read_bytes()
MAINNET_DOC = json.loads(MAINNET_BYTES)
GOV_ADDRESS = "gonka10d07y265gmmuvt4z0w9aw880jnsr700j2h5m33"
INFERENCE = "app_state.inference"


def export(genesis: codec.Genesis) -> bytes:
    return codec.export_genesis(
        genesis.doc,
        params=genesis.params,
        genesis_only_params=genesis.genesis_only_params,
        cosm_wasm_params=genesis.cosm_wasm_params,
        models=genesis.models,
        participants=genesis.participants,
    )


def mutated(change: Callable[[dict[str, Any]], None]) -> bytes:
    """Return the mainnet document with one change applied, serialised."""
    doc = copy.deepcopy(MAINNET_DOC)
    change(doc)
    return json.dumps(doc).encode()


def inference(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["app_state"]["inference"]


def problems_of(data: bytes) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        codec.parse_genesis(data, "bad.json")
    return caught.value.problems


@pytest.fixture(scope="module")
def mainnet() -> codec.Genesis:
    return codec.parse_genesis(MAINNET_BYTES, "mainnet-genesis.json")


@pytest.fixture(scope="module")
def exported(mainnet: codec.Genesis) -> bytes:
    return export(mainnet)


# --- parse ----------------------------------------------------------------------


def test_mainnet_header(mainnet):
    assert mainnet.chain_id == "gonka-mainnet"
    # 2025-08-22T08:42:00Z is 1755852120 s (date -u -d ... +%s); fraction .713839
    assert mainnet.genesis_time_ns == 1755852120_713839000
    assert mainnet.prefix == "gonka"


def test_mainnet_models(mainnet):
    assert [m["id"] for m in mainnet.models] == [
        "Qwen/QwQ-32B",
        "Qwen/Qwen2.5-7B-Instruct",
    ]
    first = mainnet.models[0]
    assert first["units_of_compute_per_token"] == 1000
    assert first["v_ram"] == 80
    assert first["context_window"] == 0
    assert first["quantization"] == ""
    assert first["model_args"] == ["--quantization", "fp8", "--kv-cache-dtype", "fp8"]
    assert first["validation_threshold"] == {"value": 98, "exponent": -2}


def test_mainnet_participants(mainnet):
    assert len(mainnet.participants) == 11
    first = mainnet.participants[0]
    assert first["address"] == "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le"
    assert first["weight"] == 1
    assert first["join_time"] == 1755848273
    assert first["join_height"] == 0
    assert first["status"] == "ACTIVE"
    assert first["epochs_completed"] == 0
    assert first["current_epoch_stats"]["inference_count"] == 0


def test_mainnet_params(mainnet):
    epoch = mainnet.params["epoch_params"]
    assert epoch["epoch_length"] == 17280
    assert epoch["epoch_shift"] == 16980
    assert epoch["inference_pruning_epoch_threshold"] == 2
    bandwidth = mainnet.params["bandwidth_limits_params"]
    assert bandwidth["kb_per_input_token"] == {"value": 23, "exponent": -4}
    assert mainnet.params["bitcoin_reward_params"]["decay_rate"] == {
        "value": -475,
        "exponent": -6,
    }


def test_mainnet_other_sections(mainnet):
    assert mainnet.genesis_only_params["top_rewards"] == 3
    assert mainnet.cosm_wasm_params["cw20_code_id"] == 0
    assert mainnet.cosm_wasm_params["cw20_code"].startswith("AGFzbQ")
    assert mainnet.gov_params["voting_period"] == "48h0m0s"
    assert mainnet.doc == MAINNET_DOC


def test_validate_same_as_parse(mainnet):
    validated = codec.validate_genesis(MAINNET_BYTES, "mainnet-genesis.json")
    assert validated == mainnet


def test_prefix_argument_overrides():
    with pytest.raises(InvalidInput) as caught:
        codec.parse_genesis(MAINNET_BYTES, "m.json", prefix="cosmos")
    problems = caught.value.problems
    # 11 participants x (index, address) do not carry the "cosmos" prefix
    assert len([p for p in problems if "prefix 'gonka', expected 'cosmos'" in p]) == 22


# --- export ---------------------------------------------------------------------


def test_export_reparses_equal(mainnet, exported):
    again = codec.parse_genesis(exported, "exported.json")
    assert again.params == mainnet.params
    assert again.genesis_only_params == mainnet.genesis_only_params
    assert again.cosm_wasm_params == mainnet.cosm_wasm_params
    assert again.models == mainnet.models
    assert sorted(again.participants, key=str) == sorted(mainnet.participants, key=str)


def test_export_twice_identical(mainnet, exported):
    assert export(mainnet) == exported


def test_export_is_fixed_point(exported):
    again = codec.parse_genesis(exported, "exported.json")
    assert export(again) == exported


def test_export_keeps_other_modules(exported):
    doc = json.loads(exported)
    for module, state in MAINNET_DOC["app_state"].items():
        if module != "inference":
            assert doc["app_state"][module] == state, module


def test_export_keeps_key_order(exported):
    doc = json.loads(exported)
    assert list(doc) == list(MAINNET_DOC)
    assert list(doc["app_state"]) == list(MAINNET_DOC["app_state"])
    assert len(doc["app_state"]) == 35


def test_export_keeps_top_level_values(exported):
    doc = json.loads(exported)
    for key in (
        "app_name",
        "app_version",
        "genesis_time",
        "chain_id",
        "initial_height",
    ):
        assert doc[key] == MAINNET_DOC[key]
    assert doc["app_hash"] is None
    assert doc["consensus"] == MAINNET_DOC["consensus"]


def test_export_layout(exported):
    assert exported.endswith(b"}\n")
    assert exported.startswith(b'{\n  "app_name": "inferenced",\n')


def test_export_inference_field_order(exported):
    section = json.loads(exported)["app_state"]["inference"]
    assert list(section) == [
        "params",
        "genesis_only_params",
        "model_list",
        "cosm_wasm_params",
        "participant_list",
    ]


def test_export_participant_form(exported):
    participant = json.loads(exported)["app_state"]["inference"]["participant_list"][0]
    assert list(participant) == [
        "index", "address", "weight", "join_time", "join_height",
        "last_inference_time", "inference_url", "status", "coin_balance",
        "validator_key", "consecutive_invalid_inferences", "worker_public_key",
        "epochs_completed", "current_epoch_stats",
    ]  # fmt: skip
    assert participant["weight"] == 1
    assert participant["join_time"] == "1755848273"
    assert participant["join_height"] == "0"
    assert participant["status"] == "ACTIVE"
    assert participant["epochs_completed"] == 0
    assert participant["current_epoch_stats"]["burned_coins"] == "0"


def test_export_decimal_form(exported):
    params = json.loads(exported)["app_state"]["inference"]["params"]
    assert params["bandwidth_limits_params"]["kb_per_input_token"] == {
        "value": "23",
        "exponent": -4,
    }


def test_export_mainnet_params_unchanged(exported):
    # Mainnet writes every params field in proto JSON form already.
    params = json.loads(exported)["app_state"]["inference"]["params"]
    original = inference(MAINNET_DOC)["params"]
    assert params["epoch_params"] == original["epoch_params"]
    assert params["validation_params"] == original["validation_params"]
    assert params["tokenomics_params"] == original["tokenomics_params"]
    assert params["bitcoin_reward_params"] == original["bitcoin_reward_params"]


def test_export_models_sorted_by_id(mainnet):
    reversed_models = list(reversed(mainnet.models))
    data = codec.export_genesis(
        mainnet.doc,
        params=mainnet.params,
        genesis_only_params=mainnet.genesis_only_params,
        cosm_wasm_params=mainnet.cosm_wasm_params,
        models=reversed_models,
        participants=mainnet.participants,
    )
    ids = [m["id"] for m in json.loads(data)["app_state"]["inference"]["model_list"]]
    # "QwQ" < "Qwe" because "Q" (0x51) sorts before "e" (0x65)
    assert ids == ["Qwen/QwQ-32B", "Qwen/Qwen2.5-7B-Instruct"]


def test_export_participants_by_bytes(exported):
    listed = json.loads(exported)["app_state"]["inference"]["participant_list"]
    raw = [bech32.decode(p["address"])[1] for p in listed]
    assert raw == sorted(raw)
    assert len(raw) == 11


def test_export_proposed_by_genesis(mainnet):
    models = [dict(m, proposed_by=GOV_ADDRESS) for m in mainnet.models]
    data = codec.export_genesis(
        mainnet.doc,
        params=mainnet.params,
        genesis_only_params=mainnet.genesis_only_params,
        cosm_wasm_params=mainnet.cosm_wasm_params,
        models=models,
        participants=mainnet.participants,
    )
    listed = json.loads(data)["app_state"]["inference"]["model_list"]
    assert [m["proposed_by"] for m in listed] == ["genesis", "genesis"]


def test_export_orjson_matches_stdlib(exported):
    doc = json.loads(exported)
    stdlib = json.dumps(doc, indent=2, ensure_ascii=False).encode() + b"\n"
    assert stdlib == exported


def test_export_keeps_big_int_outside():
    def add_big(doc):
        doc["app_state"]["bank"]["params"]["huge"] = 2**70

    genesis = codec.parse_genesis(mutated(add_big), "big.json")
    data = export(genesis)
    assert b'"huge": 1180591620717411303424' in data
    assert json.loads(data)["app_state"]["bank"]["params"]["huge"] == 2**70


def test_export_keeps_string_number_forms():
    def mix_forms(doc):
        doc["app_state"]["staking"]["params"]["max_validators"] = "100"

    genesis = codec.parse_genesis(mutated(mix_forms), "forms.json")
    staking = json.loads(export(genesis))["app_state"]["staking"]["params"]
    assert staking["max_validators"] == "100"
    assert staking["max_entries"] == 7


def test_unknown_model_key_kept():
    def add_key(doc):
        inference(doc)["model_list"][0]["future_field"] = {"x": [1, 2]}

    genesis = codec.parse_genesis(mutated(add_key), "future.json")
    assert genesis.models[0]["future_field"] == {"x": [1, 2]}
    model = json.loads(export(genesis))["app_state"]["inference"]["model_list"][0]
    assert list(model)[-1] == "future_field"
    assert model["future_field"] == {"x": [1, 2]}


def test_unknown_inference_key_kept():
    def add_key(doc):
        inference(doc)["bridge"] = {"contract": "x"}
        inference(doc)["something_new"] = [1]

    genesis = codec.parse_genesis(mutated(add_key), "future.json")
    section = json.loads(export(genesis))["app_state"]["inference"]
    assert section["bridge"] == {"contract": "x"}
    assert section["something_new"] == [1]


def test_later_field_written_when_set():
    def set_later(doc):
        inference(doc)["params"]["epoch_params"]["inference_pruning_max"] = "5"

    genesis = codec.parse_genesis(mutated(set_later), "later.json")
    epoch = json.loads(export(genesis))["app_state"]["inference"]["params"][
        "epoch_params"
    ]
    assert epoch["inference_pruning_max"] == "5"


def test_later_field_omitted_when_unset(exported):
    epoch = json.loads(exported)["app_state"]["inference"]["params"]["epoch_params"]
    assert "inference_pruning_max" not in epoch
    assert (
        "confirmation_poc_params" not in json.loads(exported)["app_state"]["inference"]
    )


# --- accepted forms ---------------------------------------------------------------


def test_exponent_string_accepted(mainnet):
    kb = mainnet.params["bandwidth_limits_params"]["kb_per_input_token"]
    assert kb["exponent"] == -4


def test_status_number_and_name():
    def set_status(doc):
        inference(doc)["participant_list"][0]["status"] = 1
        inference(doc)["participant_list"][1]["status"] = "ACTIVE"

    genesis = codec.parse_genesis(mutated(set_status), "status.json")
    assert genesis.participants[0]["status"] == "ACTIVE"
    assert genesis.participants[1]["status"] == "ACTIVE"


def test_gov_address_proposer_accepted():
    def set_proposer(doc):
        inference(doc)["model_list"][0]["proposed_by"] = GOV_ADDRESS

    genesis = codec.parse_genesis(mutated(set_proposer), "gov.json")
    assert genesis.models[0]["proposed_by"] == GOV_ADDRESS


def test_camel_case_name_accepted():
    def rename(doc):
        model = inference(doc)["model_list"][0]
        model["unitsOfComputePerToken"] = model.pop("units_of_compute_per_token")

    genesis = codec.parse_genesis(mutated(rename), "camel.json")
    assert genesis.models[0]["units_of_compute_per_token"] == 1000
    assert "unitsOfComputePerToken" not in genesis.models[0]


def test_genesis_time_offset_accepted():
    def set_time(doc):
        doc["genesis_time"] = "2025-08-22T10:42:00+02:00"

    genesis = codec.parse_genesis(mutated(set_time), "offset.json")
    assert genesis.genesis_time_ns == 1755852120 * 10**9


def test_negative_signed_string_accepted():
    def set_value(doc):
        inference(doc)["params"]["bitcoin_reward_params"]["decay_rate"]["value"] = (
            "-475"
        )

    genesis = codec.parse_genesis(mutated(set_value), "neg.json")
    assert genesis.params["bitcoin_reward_params"]["decay_rate"]["value"] == -475


# --- one fault each -----------------------------------------------------------------


def test_duplicate_model_id():
    def duplicate(doc):
        inference(doc)["model_list"].append(dict(inference(doc)["model_list"][0]))

    problems = problems_of(mutated(duplicate))
    assert len(problems) == 2
    assert f"{INFERENCE}.model_list[0].id" in problems[0]
    assert f"{INFERENCE}.model_list[2].id" in problems[1]
    assert "duplicate model id" in problems[0]
    assert '"Qwen/QwQ-32B"' in problems[0]


def test_duplicate_participant_address():
    def duplicate(doc):
        inference(doc)["participant_list"].append(
            dict(inference(doc)["participant_list"][3])
        )

    problems = problems_of(mutated(duplicate))
    assert len(problems) == 2
    assert f"{INFERENCE}.participant_list[3].address" in problems[0]
    assert f"{INFERENCE}.participant_list[11].address" in problems[1]
    assert "duplicate participant address" in problems[0]


def test_proposed_by_alice():
    def set_proposer(doc):
        inference(doc)["model_list"][1]["proposed_by"] = "alice"

    problems = problems_of(mutated(set_proposer))
    assert len(problems) == 1
    assert f"{INFERENCE}.model_list[1].proposed_by" in problems[0]
    assert '"alice"' in problems[0]
    assert GOV_ADDRESS in problems[0]


def test_bad_address_checksum():
    def break_address(doc):
        participant = inference(doc)["participant_list"][0]
        # last character "e" -> "f" breaks the bech32 checksum
        participant["address"] = participant["address"][:-1] + "f"

    problems = problems_of(mutated(break_address))
    assert len(problems) == 1
    assert f"{INFERENCE}.participant_list[0].address" in problems[0]
    assert "checksum" in problems[0]


def test_short_validator_key():
    def shorten(doc):
        # 31 zero bytes: 10 groups of 3 bytes (40 characters), then 1 byte
        # (2 characters and "==")
        inference(doc)["participant_list"][2]["validator_key"] = "A" * 42 + "=="

    problems = problems_of(mutated(shorten))
    assert len(problems) == 1
    assert f"{INFERENCE}.participant_list[2].validator_key" in problems[0]
    assert "31 bytes" in problems[0]


def test_epoch_length_zero():
    def set_zero(doc):
        inference(doc)["params"]["epoch_params"]["epoch_length"] = "0"

    problems = problems_of(mutated(set_zero))
    assert len(problems) == 1
    assert f"{INFERENCE}.params.epoch_params.epoch_length" in problems[0]
    assert "greater than 0" in problems[0]


def test_fractional_units():
    def set_fraction(doc):
        inference(doc)["model_list"][0]["units_of_compute_per_token"] = 1.5

    problems = problems_of(mutated(set_fraction))
    assert len(problems) == 1
    assert f"{INFERENCE}.model_list[0].units_of_compute_per_token = 1.5" in problems[0]
    assert "not an integer" in problems[0]


def test_whole_float_rejected():
    problems: list[str] = []
    assert protojson.decode_integer("uint64", 1.0, "x", problems) == 0
    assert problems == [
        "x = 1.0: not an integer; uint64 takes a whole number, "
        "as a JSON integer or a decimal string"
    ]


def test_uint64_overflow():
    def overflow(doc):
        inference(doc)["model_list"][0]["v_ram"] = "18446744073709551616"

    problems = problems_of(mutated(overflow))
    assert len(problems) == 1
    assert f'{INFERENCE}.model_list[0].v_ram = "18446744073709551616"' in problems[0]
    assert "out of range for uint64" in problems[0]


def test_missing_genesis_time():
    problems = problems_of(mutated(lambda doc: doc.pop("genesis_time")))
    assert len(problems) == 1
    assert problems[0].startswith("bad.json: genesis_time: missing")


def test_bad_genesis_time():
    def set_time(doc):
        doc["genesis_time"] = "2025-08-22 08:42:00"

    problems = problems_of(mutated(set_time))
    assert len(problems) == 1
    assert 'genesis_time = "2025-08-22 08:42:00"' in problems[0]


def test_empty_chain_id():
    problems = problems_of(mutated(lambda doc: doc.update(chain_id="")))
    assert len(problems) == 1
    assert 'chain_id = ""' in problems[0]


def test_null_param_message():
    def set_null(doc):
        inference(doc)["params"]["poc_params"] = None

    problems = problems_of(mutated(set_null))
    assert len(problems) == 1
    assert f"{INFERENCE}.params.poc_params = null" in problems[0]


def test_unknown_status_name():
    def set_status(doc):
        inference(doc)["participant_list"][0]["status"] = "active"

    problems = problems_of(mutated(set_status))
    assert len(problems) == 1
    assert "unknown ParticipantStatus name" in problems[0]


def test_missing_inference_section():
    problems = problems_of(mutated(lambda doc: doc["app_state"].pop("inference")))
    assert problems == [
        "bad.json: app_state.inference: missing; the inference module needs its state"
    ]


def test_nan_rejected():
    data = MAINNET_BYTES.replace(b'"initial_height": 1', b'"initial_height": NaN')
    problems = problems_of(data)
    assert len(problems) == 1
    assert "initial_height = nan" in problems[0]


def test_several_faults_all_listed():
    def break_many(doc):
        section = inference(doc)
        section["model_list"][0]["proposed_by"] = "alice"
        section["model_list"][1]["v_ram"] = -1
        section["params"]["epoch_params"]["poc_stage_duration"] = "0"
        section["participant_list"][4]["weight"] = True
        doc.pop("genesis_time")

    with pytest.raises(InvalidInput) as caught:
        codec.parse_genesis(mutated(break_many), "bad.json")
    error = caught.value
    assert len(error.problems) == 5
    assert error.message.startswith("bad.json: 5 problems; first: ")
    assert all(p.startswith("bad.json: ") for p in error.problems)
    joined = "\n".join(error.problems)
    assert "model_list[0].proposed_by" in joined
    assert "model_list[1].v_ram = -1" in joined
    assert "epoch_params.poc_stage_duration" in joined
    assert "participant_list[4].weight = true" in joined
    assert "genesis_time: missing" in joined


def test_not_json_object():
    with pytest.raises(InvalidInput) as caught:
        codec.parse_genesis(b"[1, 2]", "list.json")
    assert caught.value.message.startswith("list.json: 1 problem; first: ")


# --- integer decoding properties -----------------------------------------------------


INTEGER_KINDS = st.sampled_from(schema.INTEGER_KINDS)


@given(st.data())
def test_integer_in_range_round_trips(data):
    kind = data.draw(INTEGER_KINDS)
    low, high = schema.INTEGER_RANGES[kind]
    number = data.draw(st.integers(low, high))
    for form in (number, str(number)):
        problems: list[str] = []
        assert protojson.decode_integer(kind, form, "f", problems) == number
        assert problems == []
    field = schema.Field(1, "f", kind)
    encoded = protojson._encode_single(field, number)
    if kind in ("int64", "uint64"):
        assert encoded == str(number)
    else:
        assert encoded == number


@given(st.data())
def test_integer_out_of_range_rejected(data):
    kind = data.draw(INTEGER_KINDS)
    low, high = schema.INTEGER_RANGES[kind]
    number = data.draw(
        st.one_of(st.integers(min_value=high + 1), st.integers(max_value=low - 1))
    )
    for form in (number, str(number)):
        problems: list[str] = []
        assert protojson.decode_integer(kind, form, "f", problems) == 0
        assert len(problems) == 1


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
PARTICIPANT_KEYS = st.sampled_from(
    [f.name for f in schema.MESSAGES["Participant"]] + ["joinTime", "other"]
)


# Generating nested JSON can be slow on a busy machine, which is not a failure.
@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.dictionaries(PARTICIPANT_KEYS, JSON_VALUES, max_size=8))
def test_decode_never_raises(value):
    problems: list[str] = []
    decoded = protojson.decode("Participant", value, "p", problems)
    assert isinstance(decoded, dict)
    assert all(isinstance(text, str) for text in problems)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_never_an_integer(value):
    problems: list[str] = []
    protojson.decode_integer("int64", value, "f", problems)
    assert len(problems) == 1


def test_huge_digit_string_rejected():
    problems: list[str] = []
    protojson.decode_integer("uint64", "9" * 5000, "f", problems)
    assert len(problems) == 1
    assert "out of range" in problems[0]


# --- template ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return codec.default_genesis("gonka-local", 1755852120_713839000)


def test_template_header(template):
    assert template["chain_id"] == "gonka-local"
    assert template["genesis_time"] == "2025-08-22T08:42:00.713839000Z"
    assert len(template["app_state"]) == 35


def test_template_parses(template):
    genesis = codec.parse_genesis(json.dumps(template).encode(), "template")
    assert genesis.models == []
    assert genesis.participants == []
    assert genesis.prefix == "gonka"


def test_template_epoch_defaults(template):
    epoch = template["app_state"]["inference"]["params"]["epoch_params"]
    values = [int(epoch[f.name]) for f in schema.MESSAGES["EpochParams"][:11]]
    assert values == [40, 1, 0, 100, 10, 2, 2, 6, 1, 0, 2]


def test_template_emptied_lists(template):
    state = template["app_state"]
    assert state["auth"]["accounts"] == []
    assert state["authz"]["authorization"] == []
    assert state["bank"]["balances"] == []
    assert state["bank"]["supply"] == []
    assert state["genutil"]["gen_txs"] == []
    assert state["distribution"]["fee_pool"]["community_pool"] == []


def test_template_keeps_mainnet_parts(template):
    state = template["app_state"]
    mainnet_state = MAINNET_DOC["app_state"]
    assert state["gov"]["params"] == mainnet_state["gov"]["params"]
    assert state["staking"] == mainnet_state["staking"]
    assert state["bank"]["denom_metadata"] == mainnet_state["bank"]["denom_metadata"]
    assert (
        state["inference"]["cosm_wasm_params"]
        == mainnet_state["inference"]["cosm_wasm_params"]
    )


def test_template_fresh_copy():
    first = codec.default_genesis("a", 0)
    first["app_state"]["gov"]["params"]["voting_period"] = "1s"
    second = codec.default_genesis("b", 0)
    assert second["app_state"]["gov"]["params"]["voting_period"] == "48h0m0s"


def test_template_rejects_empty_chain_id():
    with pytest.raises(InvalidInput):
        codec.default_genesis("", 0)
