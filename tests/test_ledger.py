"""The ledger: import, verify, export, damage detection, recovery, reproducibility."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import MAINNET_GENESIS, invoke, tree_digest
from inferctl.ledger import store

SEGMENT = os.path.join("segments", "000000000001.jsonl")


_model_numbers = iter(range(1_000_000))


def _add_records(run, home: str, count: int) -> None:
    """Append `count` registrations of new models, each its own record."""
    from inferctl.bech32 import module_address, test_address

    gov = module_address("gov", "gonka")
    alice = test_address("alice", "gonka")
    for _ in range(count):
        i = next(_model_numbers)
        outcome = run("model", "register", "--authority", gov, "--proposed-by", alice,
                      "--id", f"test/model-{i}", "--units-of-compute-per-token", "1",
                      "--home", home)
        assert outcome.exit_code == 0, outcome.stderr


def test_import_verify_export_roundtrip(run, home, tmp_path):
    imported = run("genesis", "import", str(MAINNET_GENESIS), "--home", home)
    assert imported.exit_code == 0, imported.stderr
    assert imported.stdout.startswith("1 blake3:")

    verified = run("ledger", "verify", "--home", home)
    assert verified.exit_code == 0, verified.stderr
    assert "1 records" in verified.stdout

    first = tmp_path / "first.json"
    second = tmp_path / "second.json"
    assert run("genesis", "export", "--home", home, "-o", str(first)).exit_code == 0
    assert run("genesis", "export", "--home", home, "-o", str(second)).exit_code == 0
    assert first.read_bytes() == second.read_bytes()

    diff = run("genesis", "diff", str(MAINNET_GENESIS), str(first))
    assert diff.exit_code == 0, diff.stdout
    assert diff.stdout == ""


def test_export_reimports_byte_identical(run, tmp_path):
    home_a, home_b = str(tmp_path / "a"), str(tmp_path / "b")
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    assert run("genesis", "import", str(MAINNET_GENESIS), "--home", home_a).exit_code == 0
    assert run("genesis", "export", "--home", home_a, "-o", str(first)).exit_code == 0
    assert run("genesis", "import", str(first), "--home", home_b).exit_code == 0
    assert run("genesis", "export", "--home", home_b, "-o", str(second)).exit_code == 0
    assert first.read_bytes() == second.read_bytes()


def test_export_keeps_other_modules(run, mainnet_home, tmp_path):
    out = tmp_path / "out.json"
    assert run("genesis", "export", "--home", mainnet_home, "-o", str(out)).exit_code == 0
    original = json.loads(MAINNET_GENESIS.read_text())
    exported = json.loads(out.read_text())
    for module, value in original["app_state"].items():
        if module != "inference":
            assert exported["app_state"][module] == value, module
    for key, value in original.items():
        if key != "app_state":
            assert exported[key] == value, key


def test_export_writes_proposed_by_genesis(run, mainnet_home):
    outcome = run("genesis", "export", "--home", mainnet_home)
    assert outcome.exit_code == 0
    models = json.loads(outcome.stdout)["app_state"]["inference"]["model_list"]
    assert [m["proposed_by"] for m in models] == ["genesis", "genesis"]
    assert [m["id"] for m in models] == ["Qwen/QwQ-32B", "Qwen/Qwen2.5-7B-Instruct"]


def test_import_refuses_existing_ledger(run, mainnet_home):
    before = tree_digest(mainnet_home)
    outcome = run("genesis", "import", str(MAINNET_GENESIS), "--home", mainnet_home)
    assert outcome.exit_code == 7
    assert "already exists" in outcome.stderr
    assert tree_digest(mainnet_home) == before


def test_import_into_default_state_dir_keeps_readme(run, tmp_path):
    home = tmp_path / "state"
    home.mkdir()
    (home / "README.md").write_text("kept\n")
    assert run("genesis", "import", str(MAINNET_GENESIS), "--home", str(home)).exit_code == 0
    assert (home / "README.md").read_text() == "kept\n"


def test_failed_import_leaves_nothing(run, tmp_path):
    bad = tmp_path / "bad.json"
    doc = json.loads(MAINNET_GENESIS.read_text())
    del doc["genesis_time"]
    bad.write_text(json.dumps(doc))
    home = tmp_path / "home"
    outcome = run("genesis", "import", str(bad), "--home", str(home))
    assert outcome.exit_code == 3
    assert "genesis_time" in outcome.stderr
    assert not home.exists()


def test_no_ledger_message_points_to_fix(run, home):
    outcome = run("ledger", "verify", "--home", home)
    assert outcome.exit_code == 4
    assert "no ledger at" in outcome.stderr
    assert "genesis init" in outcome.stderr


def test_home_env_variable(run, mainnet_home):
    outcome = run("ledger", "verify", env={"INFERCTL_HOME": mainnet_home})
    assert outcome.exit_code == 0, outcome.stderr


def test_home_pointing_to_file(run, tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    outcome = run("ledger", "verify", "--home", str(target))
    assert outcome.exit_code != 0
    assert "is a file" in outcome.stderr


def test_log_and_show(run, mainnet_home):
    _add_records(run, mainnet_home, 2)
    log = run("ledger", "log", "--home", mainnet_home, "--json")
    assert log.exit_code == 0
    records = json.loads(log.stdout)["records"]
    assert [r["height"] for r in records] == [1, 2, 3]
    assert records[1]["type"] == "/inference.inference.MsgRegisterModel"
    shown = json.loads(run("ledger", "show", "2", "--home", mainnet_home, "--json").stdout)
    assert shown["record"]["prev_hash"] == records[0]["hash"]
    assert shown["record"]["body"]["id"].startswith("test/model-")


def test_show_missing_height(run, mainnet_home):
    outcome = run("ledger", "show", "9", "--home", mainnet_home)
    assert outcome.exit_code == 4
    assert "no record at height 9" in outcome.stderr


def test_read_does_not_replay_when_snapshot_current(run, mainnet_home):
    _add_records(run, mainnet_home, 3)
    store.replay_counter.update(full=0, records=0)
    assert run("model", "list", "--home", mainnet_home).exit_code == 0
    assert run("genesis", "export", "--home", mainnet_home).exit_code == 0
    assert store.replay_counter == {"full": 0, "records": 0}


def test_read_rebuilds_missing_snapshot(run, mainnet_home):
    _add_records(run, mainnet_home, 2)
    os.unlink(os.path.join(mainnet_home, "snapshot.json"))
    store.replay_counter.update(full=0, records=0)
    outcome = run("model", "list", "--home", mainnet_home)
    assert outcome.exit_code == 0, outcome.stderr
    assert store.replay_counter["full"] == 1


def test_torn_tail_dropped_with_warning(run, mainnet_home):
    _add_records(run, mainnet_home, 2)
    segment = os.path.join(mainnet_home, SEGMENT)
    data = Path(segment).read_bytes()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    Path(segment).write_bytes(data[: last_start + 40])  # cut the last record part-way

    verified = run("ledger", "verify", "--home", mainnet_home)
    assert verified.exit_code == 0, verified.stderr
    assert "torn" in verified.stderr

    _add_records(run, mainnet_home, 1)
    log = json.loads(run("ledger", "log", "--home", mainnet_home, "--json").stdout)
    assert [r["height"] for r in log["records"]] == [1, 2, 3]
    assert run("ledger", "verify", "--home", mainnet_home).exit_code == 0


def test_damage_blocks_writes(run, mainnet_home):
    _add_records(run, mainnet_home, 2)
    segment = os.path.join(mainnet_home, SEGMENT)
    data = Path(segment).read_bytes()
    lines = data.split(b"\n")
    lines[2] = lines[2].replace(b"test/model-", b"test/modelX")
    Path(segment).write_bytes(b"\n".join(lines))
    before = tree_digest(mainnet_home)
    outcome = invoke("model", "register", "--authority", "x", "--proposed-by", "y",
                     "--id", "z", "--home", mainnet_home)
    assert outcome.exit_code == 5
    assert "record 3" in outcome.stderr
    assert tree_digest(mainnet_home) == before


def test_same_source_date_epoch_same_bytes(tmp_path):
    from conftest import run_process

    homes = []
    for name in ("one", "two"):
        home = str(tmp_path / name)
        env = {"SOURCE_DATE_EPOCH": "1760000000"}
        assert run_process("genesis", "import", str(MAINNET_GENESIS), "--home", home,
                           env=env).returncode == 0
        from inferctl.bech32 import module_address, test_address

        result = run_process("model", "register", "--authority",
                             module_address("gov", "gonka"), "--proposed-by",
                             test_address("alice", "gonka"), "--id", "m",
                             "--home", home, env=env)
        assert result.returncode == 0, result.stderr
        homes.append(home)
    assert tree_digest(homes[0]) == tree_digest(homes[1])


def test_time_never_goes_backwards(run, mainnet_home):
    from inferctl.bech32 import module_address, test_address

    outcome = run("model", "register", "--authority", module_address("gov", "gonka"),
                  "--proposed-by", test_address("a", "gonka"), "--id", "m",
                  "--time", "2020-01-01T00:00:00Z", "--home", mainnet_home)
    assert outcome.exit_code == 3
    assert "before the last record" in outcome.stderr


_FLIP_CACHE: dict[str, str] = {}


def _flip_ledger(tmp_path_factory) -> str:
    cached = _FLIP_CACHE.get("home")
    if cached is None:
        from conftest import Outcome  # noqa: F401

        cached = str(tmp_path_factory.mktemp("flip") / "home")
        assert invoke("genesis", "import", str(MAINNET_GENESIS), "--home",
                      cached).exit_code == 0
        _add_records(lambda *a: invoke(*a), cached, 4)
        _FLIP_CACHE["home"] = cached
    return cached


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_flipped_byte_is_caught(tmp_path_factory, data):
    source = _flip_ledger(tmp_path_factory)
    segment_bytes = Path(source, SEGMENT).read_bytes()
    lines = segment_bytes.split(b"\n")[:-1]
    height = data.draw(st.integers(min_value=1, max_value=len(lines)))
    line = lines[height - 1]
    position = data.draw(st.integers(min_value=0, max_value=len(line) - 1))
    flip = data.draw(st.integers(min_value=1, max_value=255))
    changed = bytearray(line)
    changed[position] ^= flip
    if b"\n" in changed:
        return  # a newline would split the record in two: a different defect
    lines[height - 1] = bytes(changed)
    target = tmp_path_factory.mktemp("flipped")
    home = str(target / "home")
    shutil.copytree(source, home)
    Path(home, SEGMENT).write_bytes(b"\n".join(lines) + b"\n")

    outcome = invoke("ledger", "verify", "--home", home)
    assert outcome.exit_code == 5, (height, position, outcome.stdout)
    assert f"record {height} " in outcome.stderr or f"height {height}" in outcome.stderr \
        or f"position {height}" in outcome.stderr, outcome.stderr
    assert SEGMENT in outcome.stderr


@pytest.mark.parametrize("cut", [1, 10, 50])
def test_truncated_last_record_recovered(run, mainnet_home, cut):
    _add_records(run, mainnet_home, 1)
    segment = Path(mainnet_home, SEGMENT)
    data = segment.read_bytes()
    segment.write_bytes(data[:-cut])
    outcome = run("ledger", "repair", "--yes", "--home", mainnet_home)
    assert outcome.exit_code == 0, outcome.stderr
    log = json.loads(run("ledger", "log", "--home", mainnet_home, "--json").stdout)
    assert [r["height"] for r in log["records"]] == [1]
