"""`inferctl genesis diff`: equal-by-meaning rules, difference lines, exit codes.

Every variant is the real mainnet genesis (gonka-ai/gonka, genesis/genesis.json)
with one edit made by hand here; the expected lines are written out in full.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import MAINNET_GENESIS, run_process

MAINNET = json.loads(MAINNET_GENESIS.read_bytes())
EPOCH_PATH = "app_state.inference.params.epoch_params"


def variant(tmp_path: Path, doc: Any, name: str = "b.json", indent: int | None = 2
            ) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=indent), encoding="utf-8")
    return str(path)


def edited(change) -> dict:
    doc = copy.deepcopy(MAINNET)
    change(doc)
    return doc


def inference(doc: dict) -> dict:
    return doc["app_state"]["inference"]


def diff(run, path_b: str, *extra: str):
    return run("genesis", "diff", str(MAINNET_GENESIS), path_b, *extra)


def reordered(value: Any) -> Any:
    """Return `value` with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {key: reordered(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reordered(item) for item in value]
    return value


def test_identical_files(run):
    outcome = diff(run, str(MAINNET_GENESIS))
    assert outcome.exit_code == 0
    assert outcome.stdout == ""
    assert outcome.stderr == ""


def test_equal_forms(run, tmp_path):
    def change(doc):
        doc["genesis_time"] = "2025-08-22T10:42:00.713839+02:00"
        for participant in inference(doc)["participant_list"]:
            participant["status"] = "ACTIVE"
            participant["join_height"] = "0"
        inference(doc)["participant_list"].reverse()
        inference(doc)["model_list"].reverse()
        qwq = inference(doc)["model_list"][1]
        assert qwq["id"] == "Qwen/QwQ-32B"
        qwq["units_of_compute_per_token"] = 1000
        inference(doc)["params"]["epoch_params"]["epoch_length"] = 17280

    doc = reordered(edited(change))
    outcome = diff(run, variant(tmp_path, doc, indent=None))
    assert outcome.exit_code == 0, outcome.stdout
    assert outcome.stdout == ""
    assert outcome.stderr == ""


def test_reindented_equal(run, tmp_path):
    outcome = diff(run, variant(tmp_path, MAINNET, indent=7))
    assert outcome.exit_code == 0
    assert outcome.stdout == ""


def test_epoch_length_changed(run, tmp_path):
    def change(doc):
        inference(doc)["params"]["epoch_params"]["epoch_length"] = "40"

    outcome = diff(run, variant(tmp_path, edited(change)))
    assert outcome.exit_code == 1
    assert outcome.stdout == f"{EPOCH_PATH}.epoch_length: 17280 != 40\n"
    assert outcome.stderr == ""


def test_default_equals_missing(run, tmp_path):
    def change(doc):
        participant = inference(doc)["participant_list"][0]
        participant["coin_balance"] = 0
        participant["worker_public_key"] = ""
        del participant["current_epoch_stats"]
        participant["current_epoch_stats"] = {"inference_count": "0"}

    outcome = diff(run, variant(tmp_path, edited(change)))
    assert outcome.exit_code == 0, outcome.stdout


def test_missing_message_differs(run, tmp_path):
    def change(doc):
        del inference(doc)["participant_list"][0]["current_epoch_stats"]

    outcome = diff(run, variant(tmp_path, edited(change)))
    address = "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le"
    path = f'app_state.inference.participant_list[address="{address}"]'
    assert outcome.exit_code == 1
    assert outcome.stdout.startswith(f"{path}.current_epoch_stats: {{")
    assert outcome.stdout.endswith("} != null\n")


def test_model_removed(run, tmp_path):
    def change(doc):
        inference(doc)["model_list"] = inference(doc)["model_list"][1:]

    outcome = diff(run, variant(tmp_path, edited(change)))
    lines = outcome.stdout.splitlines()
    assert outcome.exit_code == 1
    assert len(lines) == 1
    assert lines[0].startswith('app_state.inference.model_list[id="Qwen/QwQ-32B"]: {')
    assert lines[0].endswith(" != <missing>")


def test_model_field_changed(run, tmp_path):
    def change(doc):
        inference(doc)["model_list"][1]["v_ram"] = 48

    outcome = diff(run, variant(tmp_path, edited(change)))
    assert outcome.exit_code == 1
    assert outcome.stdout == (
        'app_state.inference.model_list[id="Qwen/Qwen2.5-7B-Instruct"].v_ram: '
        "24 != 48\n"
    )


def test_enum_changed(run, tmp_path):
    def change(doc):
        inference(doc)["participant_list"][0]["status"] = 2

    outcome = diff(run, variant(tmp_path, edited(change)))
    address = "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le"
    assert outcome.exit_code == 1
    assert outcome.stdout == (
        f'app_state.inference.participant_list[address="{address}"].status: '
        '"ACTIVE" != "INACTIVE"\n'
    )


def test_other_instant_differs(run, tmp_path):
    def change(doc):
        doc["genesis_time"] = "2025-08-22T08:42:00.713839001Z"

    outcome = diff(run, variant(tmp_path, edited(change)))
    assert outcome.exit_code == 1
    assert outcome.stdout == (
        'genesis_time: "2025-08-22T08:42:00.713839000Z" != '
        '"2025-08-22T08:42:00.713839001Z"\n'
    )


def test_null_vs_missing_outside_inference(run, tmp_path):
    def change(doc):
        del doc["app_state"]["gov"]["deposit_params"]

    outcome = diff(run, variant(tmp_path, edited(change)))
    assert outcome.exit_code == 1
    assert outcome.stdout == "app_state.gov.deposit_params: null != <missing>\n"


def test_integer_string_outside_inference(run, tmp_path):
    def change(doc):
        doc["initial_height"] = "1"

    outcome = diff(run, variant(tmp_path, edited(change)))
    assert outcome.exit_code == 0, outcome.stdout


def test_padded_integer_string_differs(run, tmp_path):
    def change(doc):
        doc["initial_height"] = "01"

    outcome = diff(run, variant(tmp_path, edited(change)))
    assert outcome.exit_code == 1
    assert outcome.stdout == 'initial_height: 1 != "01"\n'


def test_array_elements_by_index(run, tmp_path):
    def change(doc):
        guardians = inference(doc)["genesis_only_params"]["genesis_guardian_addresses"]
        guardians.reverse()

    doc = edited(change)
    outcome = diff(run, variant(tmp_path, doc))
    original = inference(MAINNET)["genesis_only_params"]["genesis_guardian_addresses"]
    path = "app_state.inference.genesis_only_params.genesis_guardian_addresses"
    assert outcome.exit_code == 1
    assert outcome.stdout.splitlines() == [
        f'{path}[0]: "{original[0]}" != "{original[2]}"',
        f'{path}[2]: "{original[2]}" != "{original[0]}"',
    ]


def test_duplicate_ids_compared_by_index(run, tmp_path):
    def change(doc):
        models = inference(doc)["model_list"]
        models.append(copy.deepcopy(models[0]))

    outcome = diff(run, variant(tmp_path, edited(change)))
    assert outcome.exit_code == 1
    path = "app_state.inference.model_list[2]"
    assert outcome.stdout.startswith(f"{path}: <missing> != {{")


def test_undecodable_inference_compared_raw(run, tmp_path):
    def change(doc):
        inference(doc)["params"]["epoch_params"]["epoch_length"] = "abc"

    outcome = diff(run, variant(tmp_path, edited(change)))
    assert outcome.exit_code == 1
    assert outcome.stdout == f'{EPOCH_PATH}.epoch_length: "17280" != "abc"\n'
    assert "compared as plain JSON" in outcome.stderr


def test_json_output(run, tmp_path):
    def change(doc):
        inference(doc)["params"]["epoch_params"]["epoch_length"] = "40"
        del doc["app_state"]["gov"]["deposit_params"]

    path_b = variant(tmp_path, edited(change))
    outcome = diff(run, path_b, "--json")
    report = json.loads(outcome.stdout)
    assert outcome.exit_code == 1
    assert report["schema_version"] == 1
    assert report["equal"] is False
    assert report["b"] == path_b
    assert report["differences"] == [
        {"path": "app_state.gov.deposit_params", "a": None},
        {"path": f"{EPOCH_PATH}.epoch_length", "a": 17280, "b": 40},
    ]


def test_json_output_equal(run):
    outcome = diff(run, str(MAINNET_GENESIS), "--json")
    report = json.loads(outcome.stdout)
    assert outcome.exit_code == 0
    assert report["equal"] is True
    assert report["differences"] == []


def test_missing_file(run, tmp_path):
    outcome = diff(run, str(tmp_path / "absent.json"))
    assert outcome.exit_code == 4
    assert "absent.json" in outcome.stderr
    assert outcome.stdout == ""


@pytest.mark.parametrize("text", ["{", '{"a": 1, "a": 2}', "[]"])
def test_bad_json(run, tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    outcome = diff(run, str(path))
    assert outcome.exit_code == 3
    assert "bad.json" in outcome.stderr
    assert outcome.stdout == ""


def test_differ_exit_code_as_process(tmp_path):
    def change(doc):
        inference(doc)["params"]["epoch_params"]["epoch_length"] = "40"

    path_b = variant(tmp_path, edited(change))
    completed = run_process("genesis", "diff", str(MAINNET_GENESIS), path_b)
    assert completed.returncode == 1
    assert completed.stdout == f"{EPOCH_PATH}.epoch_length: 17280 != 40\n"
    assert completed.stderr == ""


def test_bad_json_exit_code_as_process(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{", encoding="utf-8")
    completed = run_process("genesis", "diff", str(MAINNET_GENESIS), str(path))
    assert completed.returncode == 3
    assert completed.stderr.startswith("error: ")


def test_diff_help_has_example(run):
    outcome = run("genesis", "diff", "--help")
    assert outcome.exit_code == 0
    assert "Example:" in outcome.stdout
