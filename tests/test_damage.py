"""Damaged and tampered ledgers: each defect is found, named, and blocks or survives writes.

The ledgers under tests/ledgers/ come from tools/make-damaged-ledgers.py: a
six-record ledger (tests/ledgers/clean/) and one copy per defect. The verdicts in
VERDICTS were worked out by hand from the defect each script step makes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO, invoke, tree_digest
from inferctl.canonical import canonical_bytes
from inferctl.errors import ChainBroken
from inferctl.ledger.store import Ledger, verify_ledger

LEDGERS = Path(__file__).parent / "ledgers"
SEGMENT = os.path.join("segments", "000000000001.jsonl")
CAROL = "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le"


@dataclass(frozen=True)
class Verdict:
    verify_exit: int
    bad_height: int | None  # first bad height `ledger verify` names (exit 5 only)
    message: str  # part of the `error:` line, or of the warning when it passes
    writable: bool  # a write succeeds (torn tail or rebuildable snapshot)
    snapshot: str | None = None  # verify's snapshot status when it passes


VERDICTS = {
    "edited-body": Verdict(5, 3, "hash does not match its content", False),
    "edited-hash": Verdict(5, 3, "hash does not match its content", False),
    "deleted-record": Verdict(5, 3, "has height 4", False),
    "swapped-records": Verdict(5, 3, "has height 4", False),
    "duplicated-record": Verdict(5, 4, "has height 3", False),
    "truncated-mid-record": Verdict(0, None, "torn write", True, "stale"),
    "garbage-appended": Verdict(5, 7, "not JSON", False),
    "edited-snapshot": Verdict(0, None, "snapshot is damaged", True, "damaged"),
    "deleted-snapshot": Verdict(0, None, "snapshot is missing", True, "missing"),
    "wrong-genesis-document": Verdict(5, 1, "does not match its digest", False),
    "noncanonical-record": Verdict(5, 3, "not in canonical form", False),
    "rewritten-chain": Verdict(5, 6, "does not match the snapshot head", False),
    # A snapshot forged with valid digests passes the record checks. Only a full
    # replay (`ledger verify --replay`) detects it; see test_forged_snapshot_*.
    "forged-snapshot": Verdict(0, None, "", True, "current"),
}


@pytest.fixture
def damaged(tmp_path):
    """Copy a committed ledger into tmp_path and return its home."""

    def _copy(name: str) -> str:
        target = tmp_path / name
        shutil.copytree(LEDGERS / name, target)
        return str(target)

    return _copy


def _names_height(text: str, height: int) -> bool:
    return re.search(rf"\b(record|height|position) {height}\b", text) is not None


def test_every_defect_has_a_directory():
    committed = {p.name for p in LEDGERS.iterdir() if p.is_dir()}
    assert committed == set(VERDICTS) | {"clean"}


def test_clean_ledger_verifies(damaged):
    home = damaged("clean")
    outcome = invoke("ledger", "verify", "--replay", "--json", "--home", home)
    assert outcome.exit_code == 0, outcome.stderr
    report = json.loads(outcome.stdout)
    assert report["head_height"] == 6
    assert report["snapshot"] == "current"
    assert report["replay_matches_snapshot"] is True


@pytest.mark.parametrize("defect", sorted(VERDICTS))
def test_verify_verdict(damaged, defect):
    verdict = VERDICTS[defect]
    home = damaged(defect)
    outcome = invoke("ledger", "verify", "--home", home)
    assert outcome.exception is None
    assert outcome.exit_code == verdict.verify_exit, outcome.stderr
    assert verdict.message in outcome.stderr
    assert "Traceback" not in outcome.stderr
    if verdict.verify_exit:
        assert outcome.stderr.count("error:") == 1
        assert _names_height(outcome.stderr, verdict.bad_height), outcome.stderr
        assert outcome.stdout == ""


@pytest.mark.parametrize("defect", sorted(d for d, v in VERDICTS.items() if v.bad_height))
def test_verify_error_height(damaged, defect):
    home = damaged(defect)
    with pytest.raises(ChainBroken) as caught:
        verify_ledger(Ledger(home))
    assert caught.value.height == VERDICTS[defect].bad_height


@pytest.mark.parametrize("defect", sorted(d for d, v in VERDICTS.items()
                                          if v.snapshot))
def test_verify_snapshot_status(damaged, defect):
    outcome = invoke("ledger", "verify", "--json", "--home", damaged(defect))
    assert outcome.exit_code == 0, outcome.stderr
    assert json.loads(outcome.stdout)["snapshot"] == VERDICTS[defect].snapshot


def test_truncated_tail_bytes(damaged):
    home = damaged("truncated-mid-record")
    data = Path(home, SEGMENT).read_bytes()
    expected = len(data) - (data.rfind(b"\n") + 1)
    outcome = invoke("ledger", "verify", "--json", "--home", home)
    report = json.loads(outcome.stdout)
    assert report["torn_bytes"] == expected
    assert report["head_height"] == 5


def _write(home: str):
    return invoke("participant", "join", CAROL, "--url", "http://carol.example.com:8000",
                  "--home", home)


@pytest.mark.parametrize("defect", sorted(d for d, v in VERDICTS.items()
                                          if not v.writable))
def test_write_refused(damaged, defect):
    home = damaged(defect)
    before = tree_digest(home)
    outcome = _write(home)
    assert outcome.exception is None
    assert outcome.exit_code == 5, outcome.stderr
    assert outcome.stderr.count("error:") == 1
    assert _names_height(outcome.stderr, VERDICTS[defect].bad_height), outcome.stderr
    assert tree_digest(home) == before


@pytest.mark.parametrize("defect", ["truncated-mid-record", "edited-snapshot",
                                    "deleted-snapshot"])
def test_write_recovers(damaged, defect):
    home = damaged(defect)
    outcome = _write(home)
    assert outcome.exit_code == 0, outcome.stderr
    replay = invoke("ledger", "verify", "--replay", "--json", "--home", home)
    assert replay.exit_code == 0, replay.stderr
    assert json.loads(replay.stdout)["replay_matches_snapshot"] is True
    assert json.loads(replay.stdout)["snapshot"] == "current"


def test_write_after_torn_tail_heights(damaged):
    home = damaged("truncated-mid-record")
    assert _write(home).exit_code == 0
    log = json.loads(invoke("ledger", "log", "--json", "--home", home).stdout)
    assert [r["height"] for r in log["records"]] == [1, 2, 3, 4, 5, 6]
    participants = invoke("participant", "list", "--json", "--home", home)
    listed = [p["address"] for p in json.loads(participants.stdout)["participants"]]
    assert CAROL in listed
    assert invoke("address", "bob").stdout.strip() not in listed


@pytest.mark.parametrize("defect", ["edited-snapshot", "deleted-snapshot"])
def test_snapshot_defect_reads_replay(damaged, defect):
    home = damaged(defect)
    ledger = Ledger(home)
    state, head = ledger.load_state()
    replayed, last = Ledger(home).replay()
    assert canonical_bytes(state) == canonical_bytes(replayed)
    assert head.hash == last.hash


def test_forged_snapshot_caught_by_replay(damaged):
    home = damaged("forged-snapshot")
    outcome = invoke("ledger", "verify", "--replay", "--home", home)
    assert outcome.exit_code == 5
    assert "differs from a full replay" in outcome.stderr


def test_forged_snapshot_survives_write(damaged):
    # Documented limit: writers trust a snapshot whose digests all hold.
    home = damaged("forged-snapshot")
    assert _write(home).exit_code == 0
    outcome = invoke("ledger", "verify", "--replay", "--home", home)
    assert outcome.exit_code == 5


@pytest.mark.parametrize("defect", sorted(d for d, v in VERDICTS.items()
                                          if not v.writable))
def test_repair_refuses_damage(damaged, defect):
    home = damaged(defect)
    before = tree_digest(home)
    outcome = invoke("ledger", "repair", "--yes", "--home", home)
    assert outcome.exit_code == 5, outcome.stderr
    assert tree_digest(home) == before


@pytest.mark.parametrize("defect", ["truncated-mid-record", "edited-snapshot",
                                    "deleted-snapshot"])
def test_repair_fixes(damaged, defect):
    home = damaged(defect)
    outcome = invoke("ledger", "repair", "--yes", "--home", home)
    assert outcome.exit_code == 0, outcome.stderr
    report = json.loads(invoke("ledger", "verify", "--replay", "--json",
                               "--home", home).stdout)
    assert report["snapshot"] == "current"
    assert report["torn_bytes"] == 0
    assert report["replay_matches_snapshot"] is True


def test_generator_reproduces_ledgers(tmp_path):
    out = tmp_path / "ledgers"
    done = subprocess.run([sys.executable, str(REPO / "tools" /
                                               "make-damaged-ledgers.py"),
                           "--out", str(out)], capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    for name in [*VERDICTS, "clean"]:
        assert tree_digest(str(out / name)) == tree_digest(str(LEDGERS / name)), (
            f"{name}: run tools/make-damaged-ledgers.py to regenerate tests/ledgers")


# ----- any flipped byte, in any file ------------------------------------------------

CLEAN = LEDGERS / "clean"
CLEAN_FILES = sorted(str(p.relative_to(CLEAN)) for p in CLEAN.rglob("*") if p.is_file())


def _flip(data: bytes, position: int, mask: int) -> bytes:
    changed = bytearray(data)
    changed[position] ^= mask
    return bytes(changed)


def _segment_verdict(data: bytes, position: int, new_byte: int) -> tuple[int, int]:
    """Return (expected exit code, height) for a flipped byte in the segment."""
    height = data.count(b"\n", 0, position) + 1
    if position == len(data) - 1:
        return 0, height  # the last newline: the last record becomes a torn write
    return 5, height


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_flip_any_file(data):
    name = data.draw(st.sampled_from(CLEAN_FILES), label="file")
    original = (CLEAN / name).read_bytes()
    position = data.draw(st.integers(0, len(original) - 1), label="position")
    mask = data.draw(st.integers(1, 255), label="mask")
    with tempfile.TemporaryDirectory() as scratch:
        home = os.path.join(scratch, "home")
        shutil.copytree(CLEAN, home)
        Path(home, name).write_bytes(_flip(original, position, mask))
        _check_flip(home, name, original, position, original[position] ^ mask)


def _check_flip(home: str, name: str, original: bytes, position: int,
                new_byte: int) -> None:
    outcome = invoke("ledger", "verify", "--home", home)
    assert outcome.exception is None
    if name == "snapshot.json":
        _check_derived(home, outcome)
    elif name == SEGMENT:
        code, height = _segment_verdict(original, position, new_byte)
        assert outcome.exit_code == code, outcome.stderr
        if code:
            assert _names_height(outcome.stderr, height), (position, outcome.stderr)
        else:
            assert "torn write" in outcome.stderr
    elif name.startswith("documents"):
        assert outcome.exit_code == 5, outcome.stderr
        assert "named by record 1" in outcome.stderr
    else:
        assert name == "LEDGER"
        assert outcome.exit_code == 5, outcome.stderr
        assert "LEDGER" in outcome.stderr


def _check_derived(home: str, outcome) -> None:
    assert outcome.exit_code == 0, outcome.stderr
    state, head = Ledger(home).load_state()
    replayed, last = Ledger(home).replay()
    assert canonical_bytes(state) == canonical_bytes(replayed)
    assert head.hash == last.hash


# ----- a large snapshot with an index: any flipped byte -----------------------------

# Models with long launch arguments: few records (a replay is quick) but a state
# line past the size from which a snapshot gets an index.
LARGE_MODELS = 120
LARGE_ARGS = [f"--option-{i}={'x' * 50}" for i in range(40)]
_LARGE: dict[str, object] = {}


def _large_ledger() -> tuple[str, bytes, list[str]]:
    """Return a ledger with LARGE_MODELS models, its replayed state and the ids."""
    if not _LARGE:
        from inferctl import bech32

        root = Path(tempfile.mkdtemp(prefix="large-ledger-"))
        home = str(root / "home")
        assert invoke("genesis", "import", str(LEDGERS / "source-genesis.json"),
                      "--home", home).exit_code == 0
        gov = bech32.module_address("gov", "gonka")
        ids = [f"large/model-{i:04d}" for i in range(LARGE_MODELS)]
        lines = [json.dumps({"type": "/inference.inference.MsgRegisterModel",
                             "body": {"authority": gov, "proposed_by": gov, "id": i,
                                      "units_of_compute_per_token": 1,
                                      "model_args": LARGE_ARGS}})
                 for i in ids]
        batch = root / "batch.ndjson"
        batch.write_text("\n".join(lines) + "\n")
        outcome = invoke("apply", str(batch), "--home", home)
        assert outcome.exit_code == 0, outcome.stderr
        state, _last = Ledger(home).replay()
        _LARGE.update(home=home, state=canonical_bytes(state), ids=ids)
    return _LARGE["home"], _LARGE["state"], _LARGE["ids"]


def _plain(value):
    """Return a LazyState or LazyObject, recursively, as plain dicts."""
    from collections.abc import Mapping

    if isinstance(value, Mapping):
        return {key: _plain(value[key]) for key in value}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def test_large_snapshot_has_index():
    home, _state, _ids = _large_ledger()
    header = json.loads(Path(home, "snapshot.json").read_bytes().split(b"\n", 1)[0])
    assert "index_digest" in header


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_flip_large_snapshot(data):
    source, replayed, ids = _large_ledger()
    original = Path(source, "snapshot.json").read_bytes()
    position = data.draw(st.integers(0, len(original) - 1), label="position")
    mask = data.draw(st.integers(1, 255), label="mask")
    model_id = data.draw(st.sampled_from(ids), label="model")
    with tempfile.TemporaryDirectory() as scratch:
        home = os.path.join(scratch, "home")
        shutil.copytree(source, home)
        Path(home, "snapshot.json").write_bytes(_flip(original, position, mask))
        assert invoke("ledger", "verify", "--home", home).exit_code == 0
        lazy, _head = Ledger(home).load_state(lazy=True)
        model = lazy["models"][model_id]
        assert model == json.loads(replayed)["models"][model_id]
        assert canonical_bytes(_plain(lazy)) == replayed
        full, _head = Ledger(home).load_state()
        assert canonical_bytes(full) == replayed
