"""Participants: MsgSubmitNewParticipant, its checks, genparticipant files, reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import DATA, invoke, tree_digest

FOUR_MODELS_GENESIS = DATA / "nodes" / "genesis-four-models.json"
GENPARTICIPANT = (
    DATA
    / "ceremony"
    / "gonka-1"
    / "genparticipant-0772f16cc65cb4d19341b192bd7eba964f11d124.json"
)
# The creator, url and validator key inside GENPARTICIPANT.
GEN_CREATOR = "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le"
GEN_URL = "http://node1.gonka.ai:8000"
GEN_VALIDATOR_KEY = "OPwcpfQYOoWDuHKYivRVq5jxrELH0moP5qdznvj3Dps="

ALICE = "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le"
BOB = "gonka1dkl4mah5erqggvhqkpc8j3qs5tyuetgdy552cp"
TIME = "2025-09-01T00:00:00Z"
TIME_MS = 1756684800000  # `date -u -d 2025-09-01T00:00:00Z +%s` times 1000
ZERO_KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="  # 32 zero bytes
WORKER_KEY = "AgECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"  # 0x02 then bytes 1..32
WORKER_KEY_32 = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="  # bytes 1..32


@pytest.fixture
def empty_home(tmp_path: Path) -> str:
    """A ledger whose genesis has no participants."""
    home = str(tmp_path / "empty-home")
    outcome = invoke("genesis", "import", str(FOUR_MODELS_GENESIS), "--home", home)
    assert outcome.exit_code == 0, outcome.stderr
    return home


def show(run, home: str, address: str) -> dict:
    outcome = run("participant", "show", address, "--json", "--home", home)
    assert outcome.exit_code == 0, outcome.stderr
    return json.loads(outcome.stdout)["participant"]


def test_join_stores_record(run, empty_home):
    outcome = run(
        "participant",
        "join",
        ALICE,
        "--url",
        "https://alice.example.com",
        "--validator-key",
        GEN_VALIDATOR_KEY,
        "--worker-key",
        WORKER_KEY_32,
        "--time",
        TIME,
        "--home",
        empty_home,
    )

    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout.startswith("2 blake3:")
    assert f"participant {ALICE} joined" in outcome.stderr
    assert show(run, empty_home, ALICE) == {
        "index": ALICE,
        "address": ALICE,
        "weight": -1,
        "join_time": TIME_MS,
        "join_height": 2,
        "last_inference_time": 0,
        "inference_url": "https://alice.example.com",
        "status": "ACTIVE",
        "coin_balance": 0,
        "validator_key": GEN_VALIDATOR_KEY,
        "consecutive_invalid_inferences": 0,
        "worker_public_key": WORKER_KEY_32,
        "epochs_completed": 0,
        "current_epoch_stats": {
            "inference_count": 0,
            "missed_requests": 0,
            "earned_coins": 0,
            "rewarded_coins": 0,
            "burned_coins": 0,
            "validated_inferences": 0,
            "invalidated_inferences": 0,
            "first_missed_block": 0,
        },
    }


def test_join_record_body(run, empty_home):
    assert (
        run(
            "participant",
            "join",
            ALICE,
            "--url",
            "http://a.example",
            "--home",
            empty_home,
        ).exit_code
        == 0
    )

    outcome = run("ledger", "show", "2", "--json", "--home", empty_home)

    record = json.loads(outcome.stdout)["record"]
    assert record["type"] == "/inference.inference.MsgSubmitNewParticipant"
    assert record["body"] == {
        "creator": ALICE,
        "url": "http://a.example",
        "validator_key": "",
        "worker_key": "",
    }


def test_join_empty_keys(run, empty_home):
    outcome = run("participant", "join", ALICE, "--home", empty_home)

    assert outcome.exit_code == 0, outcome.stderr
    record = show(run, empty_home, ALICE)
    assert record["validator_key"] == ""
    assert record["worker_public_key"] == ""
    assert record["inference_url"] == ""


def test_join_zero_key_accepted(run, empty_home):
    outcome = run(
        "participant", "join", ALICE, "--validator-key", ZERO_KEY, "--home", empty_home
    )

    assert outcome.exit_code == 0, outcome.stderr
    assert show(run, empty_home, ALICE)["validator_key"] == ZERO_KEY


@pytest.mark.parametrize(
    "key, reason",
    [
        ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "decodes to 33 bytes"),
        ("AAAAAAA=", "decodes to 5 bytes"),
        ("A" * 86 + "==", "decodes to 64 bytes"),
        ("not*base64!", "not standard base64"),
        ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "not standard base64"),
    ],
)
def test_join_bad_validator_key(run, empty_home, key, reason):
    before = tree_digest(empty_home)

    outcome = run(
        "participant", "join", ALICE, "--validator-key", key, "--home", empty_home
    )

    assert outcome.exit_code == 3
    assert outcome.stdout == ""
    assert "invalid validator_key" in outcome.stderr
    assert reason in outcome.stderr
    assert tree_digest(empty_home) == before


def test_join_bad_worker_key(run, empty_home):
    outcome = run(
        "participant", "join", ALICE, "--worker-key", WORKER_KEY, "--home", empty_home
    )

    assert outcome.exit_code == 3
    assert "invalid worker_key" in outcome.stderr
    assert "decodes to 33 bytes" in outcome.stderr


@pytest.mark.parametrize(
    "url, reason",
    [
        ("ftp://x", "the scheme must be http or https"),
        ("http://", "the host is empty"),
        ("node1.example.com:8000", "the scheme must be http or https"),
    ],
)
def test_join_bad_url(run, empty_home, url, reason):
    before = tree_digest(empty_home)

    outcome = run("participant", "join", ALICE, "--url", url, "--home", empty_home)

    assert outcome.exit_code == 3
    assert f"invalid url {url!r}" in outcome.stderr
    assert reason in outcome.stderr
    assert tree_digest(empty_home) == before


@pytest.mark.parametrize(
    "address",
    [
        "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5la",
        "cosmos1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le",
    ],
)
def test_join_bad_address(run, empty_home, address):
    outcome = run("participant", "join", address, "--home", empty_home)

    assert outcome.exit_code == 3
    assert "creator" in outcome.stderr


def test_join_existing_needs_replace(run, mainnet_home):
    before = tree_digest(mainnet_home)

    outcome = run(
        "participant",
        "join",
        ALICE,
        "--url",
        "http://a.example",
        "--home",
        mainnet_home,
    )

    assert outcome.exit_code == 7
    assert f"participant {ALICE} already exists" in outcome.stderr
    assert "--replace" in outcome.stderr
    assert tree_digest(mainnet_home) == before


def test_join_replace_resets(run, mainnet_home):
    assert show(run, mainnet_home, ALICE)["weight"] == 1

    outcome = run(
        "participant",
        "join",
        ALICE,
        "--url",
        "http://a.example",
        "--replace",
        "--home",
        mainnet_home,
    )

    assert outcome.exit_code == 0, outcome.stderr
    assert "replaced participant" in outcome.stderr
    record = show(run, mainnet_home, ALICE)
    assert record["weight"] == -1
    assert record["inference_url"] == "http://a.example"
    assert record["validator_key"] == ""


def test_join_from_genparticipant(run, empty_home):
    outcome = run(
        "participant",
        "join",
        "--genparticipant",
        str(GENPARTICIPANT),
        "--time",
        TIME,
        "--home",
        empty_home,
    )

    assert outcome.exit_code == 0, outcome.stderr
    record = show(run, empty_home, GEN_CREATOR)
    assert record["inference_url"] == GEN_URL
    assert record["validator_key"] == GEN_VALIDATOR_KEY
    assert record["worker_public_key"] == ""
    assert record["weight"] == -1
    assert record["join_time"] == TIME_MS


def test_genparticipant_existing_rejected(run, mainnet_home):
    outcome = run(
        "participant",
        "join",
        "--genparticipant",
        str(GENPARTICIPANT),
        "--home",
        mainnet_home,
    )

    assert outcome.exit_code == 7
    assert "already exists" in outcome.stderr


def test_genparticipant_address_mismatch(run, empty_home):
    outcome = run(
        "participant",
        "join",
        BOB,
        "--genparticipant",
        str(GENPARTICIPANT),
        "--home",
        empty_home,
    )

    assert outcome.exit_code == 3
    assert f"creator '{GEN_CREATOR}' is not ADDR {BOB}" in outcome.stderr


def test_genparticipant_without_message(run, empty_home, tmp_path):
    document = json.loads(GENPARTICIPANT.read_text())
    document["body"]["messages"] = document["body"]["messages"][1:]
    path = tmp_path / "grants-only.json"
    path.write_text(json.dumps(document))

    outcome = run(
        "participant", "join", "--genparticipant", str(path), "--home", empty_home
    )

    assert outcome.exit_code == 3
    assert str(path) in outcome.stderr
    assert "MsgSubmitNewParticipant" in outcome.stderr


def test_genparticipant_with_url_flag(run, empty_home):
    outcome = run(
        "participant",
        "join",
        "--genparticipant",
        str(GENPARTICIPANT),
        "--url",
        "http://x.example",
        "--home",
        empty_home,
    )

    assert outcome.exit_code == 2
    assert "cannot be combined with --url" in outcome.stderr


def test_join_needs_address(run, empty_home):
    outcome = run("participant", "join", "--home", empty_home)

    assert outcome.exit_code == 2
    assert "give ADDR" in outcome.stderr


def test_list_in_address_byte_order(run, mainnet_home):
    from inferctl.bech32 import decode

    outcome = run("participant", "list", "--json", "--home", mainnet_home)

    assert outcome.exit_code == 0
    addresses = [p["index"] for p in json.loads(outcome.stdout)["participants"]]
    assert len(addresses) == 11
    assert addresses == sorted(addresses, key=lambda a: decode(a)[1])


def test_list_text(run, mainnet_home):
    outcome = run("participant", "list", "--home", mainnet_home)

    lines = outcome.stdout.splitlines()
    assert lines[0].split() == ["ADDRESS", "WEIGHT", "STATUS", "JOIN_HEIGHT", "URL"]
    assert len(lines) == 12
    assert f"{ALICE}  1       ACTIVE  0            http://node1.gonka.ai:8000" in lines


def test_show_unknown(run, empty_home):
    outcome = run("participant", "show", ALICE, "--home", empty_home)

    assert outcome.exit_code == 4
    assert f"participant not found: {ALICE}" in outcome.stderr


def test_models_of_nodes(run, mainnet_home):
    base = [
        "node",
        "register",
        "--participant",
        ALICE,
        "--host",
        "h",
        "--inference-port",
        "1",
        "--poc-port",
        "2",
        "--max-concurrent",
        "3",
        "--home",
        mainnet_home,
    ]
    assert run(*base, "--id", "b", "--model", "Qwen/Qwen2.5-7B-Instruct").exit_code == 0
    assert (
        run(
            *base,
            "--id",
            "a",
            "--model",
            "Qwen/Qwen2.5-7B-Instruct",
            "--model",
            "Qwen/QwQ-32B",
        ).exit_code
        == 0
    )

    text = run("participant", "models", ALICE, "--home", mainnet_home)
    data = run("participant", "models", ALICE, "--json", "--home", mainnet_home)

    assert text.stdout == "Qwen/QwQ-32B\nQwen/Qwen2.5-7B-Instruct\n"
    assert json.loads(data.stdout)["models"] == [
        "Qwen/QwQ-32B",
        "Qwen/Qwen2.5-7B-Instruct",
    ]


def test_models_without_nodes(run, mainnet_home):
    outcome = run("participant", "models", BOB, "--home", mainnet_home)

    assert outcome.exit_code == 0
    assert outcome.stdout == ""


def test_models_unknown_participant(run, empty_home):
    outcome = run("participant", "models", ALICE, "--home", empty_home)

    assert outcome.exit_code == 4


# ----- MsgSubmitNewUnfundedParticipant, through `apply` --------------------------


def _unfunded(run, home: str, **fields):
    body = {
        "creator": BOB,
        "address": ALICE,
        "url": "http://a.example",
        "pub_key": WORKER_KEY,
        "validator_key": "",
        "worker_key": "",
    }
    body.update(fields)
    line = json.dumps(
        {"type": "/inference.inference.MsgSubmitNewUnfundedParticipant", "body": body}
    )
    return run("apply", "-", "--home", home, input=line + "\n")


def test_unfunded_creates_at_address(run, empty_home):
    outcome = _unfunded(run, empty_home)

    assert outcome.exit_code == 0, outcome.stderr
    record = show(run, empty_home, ALICE)
    assert record["index"] == ALICE
    assert record["weight"] == -1
    assert record["inference_url"] == "http://a.example"


@pytest.mark.parametrize(
    "pub_key, reason",
    [
        ("BAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g", "first byte is 0x04"),
        (ZERO_KEY, "decodes to 32 bytes"),
        ("", "a public key is required"),
    ],
)
def test_unfunded_bad_pub_key(run, empty_home, pub_key, reason):
    outcome = _unfunded(run, empty_home, pub_key=pub_key)

    assert outcome.exit_code == 3
    assert "line 1" in outcome.stderr
    assert reason in outcome.stderr


def test_unfunded_existing_account(run, mainnet_home):
    outcome = _unfunded(run, mainnet_home)

    assert outcome.exit_code == 7
    assert f"an account already exists for {ALICE}" in outcome.stderr


# ----- handler-level rules ---------------------------------------------------------


def test_join_height_follows_block_height():
    from inferctl.flow.participants import apply_new_participant
    from inferctl.txs import TxContext

    state = {"prefix": "gonka", "participants": {}, "block_height": 40}
    ctx = TxContext(height=7, time_ns=1_500_000_000_123, home="unused")

    record = apply_new_participant(state, {"creator": ALICE}, ctx)

    assert record["join_height"] == 40
    assert record["join_time"] == 1_500_000


def test_join_height_ledger_at_genesis():
    from inferctl.flow.participants import apply_new_participant
    from inferctl.txs import TxContext

    state = {"prefix": "gonka", "participants": {}, "block_height": 0}

    record = apply_new_participant(
        state, {"creator": ALICE}, TxContext(height=7, time_ns=0, home="unused")
    )

    assert record["join_height"] == 7


def test_handler_rejects_unknown_key():
    from inferctl.errors import InvalidInput
    from inferctl.flow.participants import apply_new_participant
    from inferctl.txs import TxContext

    state = {"prefix": "gonka", "participants": {}}

    with pytest.raises(InvalidInput, match="unknown key 'replace'"):
        apply_new_participant(
            state,
            {"creator": ALICE, "replace": True},
            TxContext(height=2, time_ns=0, home="unused"),
        )
