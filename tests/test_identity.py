"""`inferctl address` and `inferctl validator-key`: deterministic test identities."""

from __future__ import annotations

import base64
import hashlib
import json

from conftest import run_process

# The gov module account is bech32 of sha256("gov")[:20]. These are the gov
# authority addresses used by gonka and by the Cosmos SDK's own tests and docs.
GONKA_GOV = "gonka10d07y265gmmuvt4z0w9aw880jnsr700j2h5m33"
COSMOS_GOV = "cosmos10d07y265gmmuvt4z0w9aw880jnsr700j6zn9kn"


def test_address_matches_gonka_gov(run):
    outcome = run("address", "gov")
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout == GONKA_GOV + "\n"


def test_address_with_cosmos_prefix(run):
    outcome = run("address", "gov", "--prefix", "cosmos")
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout == COSMOS_GOV + "\n"


def test_address_is_deterministic(run):
    first = run("address", "alice")
    second = run("address", "alice")
    other = run("address", "bob")
    assert first.stdout == second.stdout
    assert first.stdout != other.stdout
    assert first.stdout.startswith("gonka1")


def test_address_json(run):
    outcome = run("address", "gov", "--json")
    assert outcome.exit_code == 0, outcome.stderr
    document = json.loads(outcome.stdout)
    assert document["address"] == GONKA_GOV
    assert document["name"] == "gov"
    assert document["prefix"] == "gonka"
    assert document["schema_version"] == 1


def test_validator_key_value(run):
    outcome = run("validator-key", "alice")
    expected = base64.b64encode(hashlib.sha256(b"validator-key:alice").digest())
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout == expected.decode() + "\n"


def test_validator_key_is_32_bytes(run):
    outcome = run("validator-key", "bob")
    assert len(base64.b64decode(outcome.stdout.strip(), validate=True)) == 32


def test_identity_needs_no_ledger(tmp_path):
    missing = str(tmp_path / "no-ledger-here")
    env = {"INFERCTL_HOME": missing}
    address = run_process("address", "alice", env=env, cwd=str(tmp_path))
    key = run_process("validator-key", "alice", env=env, cwd=str(tmp_path))
    assert address.returncode == 0, address.stderr
    assert key.returncode == 0, key.stderr
    assert address.stderr == ""
    assert key.stderr == ""
    assert not (tmp_path / "no-ledger-here").exists()
    assert not (tmp_path / "state").exists()


def test_empty_name_rejected(run):
    outcome = run("address", "")
    assert outcome.exit_code == 3
    assert outcome.stdout == ""
    assert "name must not be empty" in outcome.stderr


def test_bad_prefix_rejected(run):
    outcome = run("address", "alice", "--prefix", "Gonka")
    assert outcome.exit_code == 3
    assert outcome.stdout == ""
    assert "--prefix" in outcome.stderr


def test_help_says_test_identity(run):
    for command in ("address", "validator-key"):
        outcome = run(command, "--help")
        text = " ".join(outcome.stdout.split())  # help text is wrapped
        assert outcome.exit_code == 0
        assert "test identity" in text
        assert "can never sign" in text or "no one can sign" in text
        assert "Example:" in text
