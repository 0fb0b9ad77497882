"""Tests of `inferctl genesis collect` and `inferctl genesis hash`.

The genparticipant and gentx files under tests/data/ceremony/ are real mainnet files
from the gonka repository (genesis/validators/<name>/). The expected participant
entries, grants and accounts come from the real mainnet genesis file, which the gonka
coordinator built from the same files. Files with a wrong signer are made by signing
again with a throwaway secp256k1 key: the signature is valid, but the signer is not
the participant.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from conftest import run_process
from inferctl import bech32
from inferctl.ceremony.signing import (
    SECP256K1_ORDER,
    address_from_pubkey,
    sign_doc_bytes,
    verify_tx,
)

DATA = Path(__file__).parent / "data"
CEREMONY = DATA / "ceremony"
MAINNET = DATA / "genesis" / "mainnet-genesis.json"
CHAIN_ID = "gonka-mainnet"
GCORE = CEREMONY / "gcore" / (
    "genparticipant-b7dd3863523d78cc5a7c56ddb786395fe49c954a.json"
)
GONKA1 = CEREMONY / "gonka-1" / (
    "genparticipant-0772f16cc65cb4d19341b192bd7eba964f11d124.json"
)
GONKA2 = CEREMONY / "gonka-2" / (
    "genparticipant-645fbce2dedcc7166f4df7931d2c87ca5188b569.json"
)
GENTX = CEREMONY / "gonka-1" / "gentx-0772f16cc65cb4d19341b192bd7eba964f11d124.json"
GENPARTICIPANTS = [GCORE, GONKA1, GONKA2]
# Creators in file-name order: 0772… (gonka-1), 645f… (gonka-2), b7dd… (gcore).
CREATORS = [
    "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le",
    "gonka1dkl4mah5erqggvhqkpc8j3qs5tyuetgdy552cp",
    "gonka1n7njfqnq7z64efe7xma23zu78xex93e04lm52u",
]
# 2025-08-22T08:42:00.713839Z, the mainnet genesis_time, in whole seconds.
GENESIS_SECONDS = 1755852120
INVALID_INPUT = 3

THROWAWAY_KEY = ec.derive_private_key(0x5EED_CE7E_4011, ec.SECP256K1())
THROWAWAY_PUBKEY = THROWAWAY_KEY.public_key().public_bytes(
    serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
)
THROWAWAY_ADDRESS = address_from_pubkey(THROWAWAY_PUBKEY)


# --- helpers -------------------------------------------------------------------------


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def mainnet() -> dict:
    return json.loads(MAINNET.read_bytes())


def sign_with_throwaway(tx: dict, chain_id: str = CHAIN_ID) -> dict:
    """Return `tx` signed by the throwaway key in place of its real signer."""
    signed = copy.deepcopy(tx)
    info = signed["auth_info"]["signer_infos"][0]
    info["public_key"]["key"] = base64.b64encode(THROWAWAY_PUBKEY).decode()
    document = sign_doc_bytes(signed, chain_id, 0)
    der = THROWAWAY_KEY.sign(document, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    s = min(s, SECP256K1_ORDER - s)  # Cosmos accepts only low-S signatures
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    signed["signatures"] = [base64.b64encode(raw).decode()]
    return signed


def as_throwaway_participant(tx: dict) -> dict:
    """Return `tx` with the throwaway address as creator and granter (unsigned)."""
    changed = copy.deepcopy(tx)
    for message in changed["body"]["messages"]:
        for key in ("creator", "granter"):
            if key in message:
                message[key] = THROWAWAY_ADDRESS
    return changed


def write_draft(path: Path, doc: dict | None = None) -> Path:
    """Write mainnet with an empty participant_list and gen_txs (or `doc`)."""
    if doc is None:
        doc = mainnet()
        doc["app_state"]["inference"]["participant_list"] = []
        doc["app_state"]["genutil"]["gen_txs"] = []
    path.write_text(json.dumps(doc, indent=2))
    return path


def copy_files(directory: Path, files: list[Path]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copy(path, directory / path.name)
    return directory


def write_json(path: Path, value: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))
    return path


@pytest.fixture
def draft(tmp_path: Path) -> Path:
    return write_draft(tmp_path / "draft.json")


@pytest.fixture
def participants_dir(tmp_path: Path) -> Path:
    return copy_files(tmp_path / "genparticipants", GENPARTICIPANTS)


@pytest.fixture
def gentx_dir(tmp_path: Path) -> Path:
    return copy_files(tmp_path / "gentxs", [GENTX])


def collect(run, directory: Path, genesis: Path, output: Path, *extra: str):
    return run("genesis", "collect", "--genparticipant-dir", str(directory),
               "-i", str(genesis), "-o", str(output), *extra)


def participant_list(path: Path) -> list[dict]:
    return json.loads(path.read_bytes())["app_state"]["inference"]["participant_list"]


# --- collect: real files -------------------------------------------------------------


def test_collect_restores_mainnet_participants(run, tmp_path, draft, participants_dir):
    output = tmp_path / "out.json"
    result = collect(run, participants_dir, draft, output)
    assert result.exit_code == 0, result.stderr
    restored = participant_list(output)
    expected = {p["index"]: p for p in mainnet()["app_state"]["inference"][
        "participant_list"]}
    assert [entry["index"] for entry in restored] == CREATORS
    for entry in restored:
        real = expected[entry["index"]]
        for key in ("index", "address", "inference_url", "validator_key"):
            assert entry[key] == real[key], key


def test_collect_entries_have_mainnet_shape(run, tmp_path, draft, participants_dir):
    output = tmp_path / "out.json"
    assert collect(run, participants_dir, draft, output).exit_code == 0
    real = mainnet()["app_state"]["inference"]["participant_list"][0]
    for entry in participant_list(output):
        assert list(entry) == list(real)
        assert entry["weight"] == 1
        assert entry["status"] == 1
        assert entry["join_time"] == GENESIS_SECONDS
        assert entry["last_inference_time"] == GENESIS_SECONDS
        assert entry["current_epoch_stats"] == {}


def test_collect_twice_byte_identical(run, tmp_path, draft, participants_dir,
                                      gentx_dir):
    first = tmp_path / "first.json"
    second = tmp_path / "second.json"
    result = collect(run, participants_dir, draft, first, "--gentx-dir", str(gentx_dir))
    assert result.exit_code == 0, result.stderr
    # A separate process with another time zone and locale must write the same bytes.
    process = run_process(
        "genesis", "collect", "--genparticipant-dir", str(participants_dir),
        "--gentx-dir", str(gentx_dir), "-i", str(draft), "-o", str(second),
        env={"TZ": "Asia/Tokyo", "LC_ALL": "C", "PYTHONHASHSEED": "7"},
    )
    assert process.returncode == 0, process.stderr
    assert first.read_bytes() == second.read_bytes()


def test_collect_prints_output_digest(run, tmp_path, draft, participants_dir):
    output = tmp_path / "out.json"
    result = collect(run, participants_dir, draft, output)
    assert result.stdout == hashlib.sha256(output.read_bytes()).hexdigest() + "\n"
    assert "collected 3 participants" in result.stderr


def test_collect_keeps_rest_of_genesis(run, tmp_path, draft, participants_dir):
    output = tmp_path / "out.json"
    assert collect(run, participants_dir, draft, output).exit_code == 0
    before = json.loads(draft.read_bytes())
    after = json.loads(output.read_bytes())
    assert list(after) == list(before)
    assert list(after["app_state"]) == list(before["app_state"])
    before["app_state"]["inference"].pop("participant_list")
    after["app_state"]["inference"].pop("participant_list")
    # The mainnet grants were built from the same files, so they are unchanged.
    assert after == before


def test_collect_output_layout(run, tmp_path, draft, participants_dir):
    output = tmp_path / "out.json"
    assert collect(run, participants_dir, draft, output).exit_code == 0
    data = output.read_bytes()
    assert data.startswith(b'{\n  "app_name": "inferenced",\n  "app_version"')
    assert data.endswith(b"}\n")
    assert b'"initial_height": 1,' in data


def test_collect_restores_grants_and_accounts(run, tmp_path, participants_dir):
    doc = mainnet()
    real_grants = [g for g in doc["app_state"]["authz"]["authorization"]
                   if g["granter"] in CREATORS]
    grantees = {g["grantee"] for g in real_grants}
    doc["app_state"]["authz"]["authorization"] = [
        g for g in doc["app_state"]["authz"]["authorization"]
        if g["granter"] not in CREATORS
    ]
    doc["app_state"]["auth"]["accounts"] = [
        a for a in doc["app_state"]["auth"]["accounts"]
        if a.get("address") not in grantees
    ]
    draft = write_draft(tmp_path / "draft.json", doc)

    output = tmp_path / "out.json"
    result = collect(run, participants_dir, draft, output, "--json")
    assert result.exit_code == 0, result.stderr

    after = json.loads(output.read_bytes())["app_state"]
    restored = [g for g in after["authz"]["authorization"] if g["granter"] in CREATORS]
    assert len(restored) == 75
    assert sorted(map(json.dumps, restored)) == sorted(map(json.dumps, real_grants))
    summary = json.loads(result.stdout)
    assert summary["grants_added"] == 75

    # The largest remaining account number is 65; new ones follow in byte order.
    by_bytes = sorted(grantees, key=lambda address: bech32.decode(address)[1])
    assert summary["accounts"] == [
        {"address": address, "account_number": str(66 + i)}
        for i, address in enumerate(by_bytes)
    ]
    new_accounts = after["auth"]["accounts"][-3:]
    assert new_accounts[0] == {
        "@type": "/cosmos.auth.v1beta1.BaseAccount", "account_number": "66",
        "address": by_bytes[0], "pub_key": None, "sequence": "0",
    }
    assert list(new_accounts[0]) == list(mainnet()["app_state"]["auth"]["accounts"][-1])


def test_collect_upserts_by_index(run, tmp_path, participants_dir):
    doc = mainnet()
    output = tmp_path / "out.json"
    result = collect(run, participants_dir, write_draft(tmp_path / "d.json", doc),
                     output, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["replaced_participants"] == CREATORS
    entries = participant_list(output)
    assert [e["index"] for e in entries] == [
        p["index"] for p in doc["app_state"]["inference"]["participant_list"]
    ]
    assert entries[0]["join_time"] == GENESIS_SECONDS


def test_collect_adds_gentx(run, tmp_path, draft, participants_dir, gentx_dir):
    output = tmp_path / "out.json"
    result = collect(run, participants_dir, draft, output,
                     "--gentx-dir", str(gentx_dir), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(output.read_bytes())["app_state"]["genutil"]["gen_txs"] == [
        load(GENTX)
    ]
    assert json.loads(result.stdout)["gentxs_added"] == 1


def test_collect_skips_present_gentx(run, tmp_path, participants_dir, gentx_dir):
    mainnet_copy = write_draft(tmp_path / "m.json", mainnet())
    output = tmp_path / "out.json"
    result = collect(run, participants_dir, mainnet_copy, output,
                     "--gentx-dir", str(gentx_dir), "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["gentxs_present"] == 1
    assert summary["gentxs_added"] == 0
    gen_txs = json.loads(output.read_bytes())["app_state"]["genutil"]["gen_txs"]
    assert gen_txs == mainnet()["app_state"]["genutil"]["gen_txs"]


def test_collect_no_files_keeps_participants(run, tmp_path, draft):
    empty = tmp_path / "empty"
    empty.mkdir()
    output = tmp_path / "out.json"
    result = collect(run, empty, draft, output)
    assert result.exit_code == 0
    assert "no genparticipant-*.json files" in result.stderr
    assert participant_list(output) == []


def test_collect_ignores_other_files(run, tmp_path, draft, participants_dir):
    (participants_dir / "README.md").write_text("not a ceremony file")
    (participants_dir / "gentx-1.json").write_text("{}")
    output = tmp_path / "out.json"
    assert collect(run, participants_dir, draft, output).exit_code == 0
    assert len(participant_list(output)) == 3


def test_collect_missing_directory(run, tmp_path, draft):
    result = collect(run, tmp_path / "nowhere", draft, tmp_path / "out.json")
    assert result.exit_code == 4
    assert "nowhere: no such directory" in result.stderr


def test_collect_json_to_stdout_rejected(run, draft, participants_dir):
    result = run("genesis", "collect", "--genparticipant-dir", str(participants_dir),
                 "-i", str(draft), "-o", "-", "--json")
    assert result.exit_code == 2
    assert "--json" in result.stderr


def test_collect_writes_stdout(run, tmp_path, draft, participants_dir):
    result = collect(run, participants_dir, draft, Path("-"))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["chain_id"] == CHAIN_ID


# --- collect: rejected files ---------------------------------------------------------

TAMPERS = {
    # One character of the signed body or auth info changed.
    "url": ('"http://node1.gonka.ai:8000"', '"http://node1.gonka.ai:8001"'),
    "grant-msg": ('"/inference.inference.MsgStartInference"',
                  '"/inference.inference.MsgStartInferencf"'),
    "expiration": ('"2026-08-22T06:31:44.143457Z"', '"2026-08-22T06:31:45.143457Z"'),
    "gas-limit": ('"gas_limit":"200000"', '"gas_limit":"200001"'),
}


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_collect_rejects_tampered_file(run, tmp_path, draft, name):
    old, new = TAMPERS[name]
    text = GONKA1.read_text()
    assert old in text
    directory = tmp_path / "gp"
    directory.mkdir()
    target = directory / GONKA1.name
    target.write_text(text.replace(old, new, 1))
    result = collect(run, directory, draft, tmp_path / "out.json")
    assert result.exit_code == INVALID_INPUT
    assert str(target) in result.stderr
    assert "signature does not match" in result.stderr
    assert not (tmp_path / "out.json").exists()


def test_collect_rejects_flipped_signature(run, tmp_path, draft):
    tx = load(GONKA2)
    raw = bytearray(base64.b64decode(tx["signatures"][0]))
    raw[10] ^= 0x01
    tx["signatures"] = [base64.b64encode(bytes(raw)).decode()]
    target = write_json(tmp_path / "gp" / GONKA2.name, tx)
    result = collect(run, target.parent, draft, tmp_path / "out.json")
    assert result.exit_code == INVALID_INPUT
    assert str(target) in result.stderr


def test_collect_names_bad_file_among_good(run, tmp_path, draft, participants_dir):
    target = participants_dir / GCORE.name
    target.write_text(target.read_text().replace("93.119.168.58", "93.119.168.59"))
    result = collect(run, participants_dir, draft, tmp_path / "out.json")
    assert result.exit_code == INVALID_INPUT
    assert str(target) in result.stderr
    assert GONKA1.name not in result.stderr


def test_throwaway_signature_verifies():
    signed = sign_with_throwaway(load(GONKA1))
    assert verify_tx(signed, CHAIN_ID, source="test") == [THROWAWAY_ADDRESS]


def test_collect_rejects_wrong_signer(run, tmp_path, draft):
    signed = sign_with_throwaway(load(GONKA1))
    target = write_json(tmp_path / "gp" / GONKA1.name, signed)
    result = collect(run, target.parent, draft, tmp_path / "out.json")
    assert result.exit_code == INVALID_INPUT
    assert str(target) in result.stderr
    assert f"the creator '{CREATORS[0]}' did not sign" in result.stderr
    assert THROWAWAY_ADDRESS in result.stderr


def test_collect_rejects_wrong_granter(run, tmp_path, draft):
    tx = as_throwaway_participant(load(GONKA1))
    tx["body"]["messages"][7]["granter"] = CREATORS[0]
    target = write_json(tmp_path / "gp" / GONKA1.name, sign_with_throwaway(tx))
    result = collect(run, target.parent, draft, tmp_path / "out.json")
    assert result.exit_code == INVALID_INPUT
    assert f"{target}: body.messages[7]" in result.stderr
    assert f"the granter '{CREATORS[0]}' did not sign" in result.stderr


@pytest.mark.parametrize("message_type", [
    "/cosmos.bank.v1beta1.MsgSend",
    "/cosmos.staking.v1beta1.MsgCreateValidator",
])
def test_collect_rejects_other_message_type(run, tmp_path, draft, message_type):
    tx = as_throwaway_participant(load(GONKA1))
    tx["body"]["messages"].append({"@type": message_type})
    target = write_json(tmp_path / "gp" / GONKA1.name, tx)
    result = collect(run, target.parent, draft, tmp_path / "out.json")
    assert result.exit_code == INVALID_INPUT
    assert f"{target}: body.messages[26]" in result.stderr
    assert f"message type '{message_type}' is not allowed" in result.stderr


def test_collect_rejects_other_chain_id(run, tmp_path, draft):
    tx = sign_with_throwaway(as_throwaway_participant(load(GONKA1)), "gonka-testnet")
    target = write_json(tmp_path / "gp" / GONKA1.name, tx)
    result = collect(run, target.parent, draft, tmp_path / "out.json")
    assert result.exit_code == INVALID_INPUT
    assert str(target) in result.stderr
    assert "signed for a chain id other than this genesis's 'gonka-mainnet'" in (
        result.stderr)


def test_collect_rejects_real_file_on_other_chain(run, tmp_path, participants_dir):
    doc = mainnet()
    doc["chain_id"] = "gonka-devnet"
    draft = write_draft(tmp_path / "devnet.json", doc)
    result = collect(run, participants_dir, draft, tmp_path / "out.json")
    assert result.exit_code == INVALID_INPUT
    assert "'gonka-devnet'" in result.stderr
    assert GONKA1.name in result.stderr


def test_collect_rejects_two_participants(run, tmp_path, draft):
    tx = as_throwaway_participant(load(GONKA1))
    tx["body"]["messages"].append(copy.deepcopy(tx["body"]["messages"][0]))
    target = write_json(tmp_path / "gp" / GONKA1.name, sign_with_throwaway(tx))
    result = collect(run, target.parent, draft, tmp_path / "out.json")
    assert result.exit_code == INVALID_INPUT
    assert "2 MsgSubmitNewParticipant messages" in result.stderr


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("url", "ftp://node1.gonka.ai", "only http or https"),
    ("validator_key", "AAAA", "is 3 bytes"),
    ("worker_key", "not base64!", "not standard base64"),
])
def test_collect_rejects_invalid_participant(run, tmp_path, draft, field, value,
                                             expected):
    tx = as_throwaway_participant(load(GONKA1))
    tx["body"]["messages"][0][field] = value
    target = write_json(tmp_path / "gp" / GONKA1.name, sign_with_throwaway(tx))
    result = collect(run, target.parent, draft, tmp_path / "out.json")
    assert result.exit_code == INVALID_INPUT
    assert f"{target}: MsgSubmitNewParticipant.{field}" in result.stderr
    assert expected in result.stderr


def test_collect_accepts_new_participant(run, tmp_path, draft):
    tx = sign_with_throwaway(as_throwaway_participant(load(GONKA1)))
    directory = tmp_path / "gp"
    write_json(directory / "genparticipant-new.json", tx)
    output = tmp_path / "out.json"
    result = collect(run, directory, draft, output, "--json")
    assert result.exit_code == 0, result.stderr
    assert participant_list(output) == [{
        "index": THROWAWAY_ADDRESS, "address": THROWAWAY_ADDRESS, "weight": 1,
        "join_time": GENESIS_SECONDS, "last_inference_time": GENESIS_SECONDS,
        "inference_url": "http://node1.gonka.ai:8000", "status": 1,
        "validator_key": "OPwcpfQYOoWDuHKYivRVq5jxrELH0moP5qdznvj3Dps=",
        "current_epoch_stats": {},
    }]
    summary = json.loads(result.stdout)
    assert summary["grants_added"] == 25
    # gonka-1's grantee already has an account in the mainnet genesis.
    assert summary["accounts"] == []


def test_collect_rejects_gentx_wrong_signer(run, tmp_path, draft, participants_dir):
    target = write_json(tmp_path / "gt" / GENTX.name, sign_with_throwaway(load(GENTX)))
    result = collect(run, participants_dir, draft, tmp_path / "out.json",
                     "--gentx-dir", str(target.parent))
    assert result.exit_code == INVALID_INPUT
    assert str(target) in result.stderr
    assert "did not sign this file" in result.stderr


def test_collect_rejects_tampered_gentx(run, tmp_path, draft, participants_dir):
    text = GENTX.read_text().replace('"moniker":"gonka-1"', '"moniker":"gonka-9"')
    assert text != GENTX.read_text()
    target = tmp_path / "gt" / GENTX.name
    target.parent.mkdir()
    target.write_text(text)
    result = collect(run, participants_dir, draft, tmp_path / "out.json",
                     "--gentx-dir", str(target.parent))
    assert result.exit_code == INVALID_INPUT
    assert str(target) in result.stderr


def test_collect_rejects_unfunded_gentx(run, tmp_path, participants_dir, gentx_dir):
    doc = mainnet()
    doc["app_state"]["genutil"]["gen_txs"] = []
    doc["app_state"]["bank"]["balances"] = [
        b for b in doc["app_state"]["bank"]["balances"] if b["address"] != CREATORS[0]
    ]
    draft = write_draft(tmp_path / "d.json", doc)
    result = collect(run, participants_dir, draft, tmp_path / "out.json",
                     "--gentx-dir", str(gentx_dir))
    assert result.exit_code == INVALID_INPUT
    assert f"validator account {CREATORS[0]} has no balance" in result.stderr


# --- hash ----------------------------------------------------------------------------


def test_hash_is_sha256_of_bytes(run):
    result = run("genesis", "hash", str(MAINNET))
    assert result.exit_code == 0
    assert result.stdout == hashlib.sha256(MAINNET.read_bytes()).hexdigest() + "\n"
    assert result.stderr == ""


def test_hash_reindented_differs(run, tmp_path):
    reindented = tmp_path / "reindented.json"
    reindented.write_text(json.dumps(mainnet(), indent=4))
    plain = run("genesis", "hash", str(MAINNET)).stdout
    assert run("genesis", "hash", str(reindented)).stdout != plain


def test_hash_canonical_survives_reindent(run, tmp_path):
    reindented = tmp_path / "reindented.json"
    reindented.write_text(json.dumps(mainnet(), indent=4))
    original = run("genesis", "hash", "--canonical", str(MAINNET))
    again = run("genesis", "hash", "--canonical", str(reindented))
    assert original.exit_code == 0
    assert original.stdout == again.stdout


def test_hash_canonical_bytes(run, tmp_path):
    path = tmp_path / "doc.json"
    path.write_text('{ "b": 18446744073709551617, "a": [1, "x\u00e9"], "c": 1.50 }',
                    encoding="utf-8")
    expected = '{"a":[1,"x\u00e9"],"b":18446744073709551617,"c":1.50}'.encode()
    result = run("genesis", "hash", "--canonical", str(path))
    assert result.stdout == hashlib.sha256(expected).hexdigest() + "\n"


def test_hash_json(run):
    result = run("genesis", "hash", "--json", str(MAINNET))
    summary = json.loads(result.stdout)
    assert summary["digest"] == hashlib.sha256(MAINNET.read_bytes()).hexdigest()
    assert summary["form"] == "file"
    assert summary["algorithm"] == "sha256"
    assert summary["schema_version"] == 1


def test_hash_canonical_rejects_invalid_json(run, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"a": 1, "a": 2}')
    result = run("genesis", "hash", "--canonical", str(path))
    assert result.exit_code == INVALID_INPUT
    assert "duplicate JSON key 'a'" in result.stderr
