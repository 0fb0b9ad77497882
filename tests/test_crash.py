"""Crashes and full disks: acknowledged writes survive, failed writes leave no trace.

Writers are real processes killed with SIGKILL, at random moments (tools/crash-run.py)
and at named steps of the write path through the INFERCTL_TEST_PAUSE_AT test hook.
"""

from __future__ import annotations

import importlib.util
import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MAINNET_GENESIS, REPO, tree_digest
from inferctl import bech32

GOV = bech32.module_address("gov", "gonka")
ALICE = bech32.test_address("alice", "gonka")
REGISTER_MODEL = "/inference.inference.MsgRegisterModel"
SEGMENT = os.path.join("segments", "000000000001.jsonl")


def _load_crash_run():
    spec = importlib.util.spec_from_file_location("crash_run",
                                                  REPO / "tools" / "crash-run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["crash_run"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


crash_run = _load_crash_run()


def cli(*args: str, env: dict[str, str] | None = None, input: str | None = None,
        file_limit: int | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m inferctl` in a new process, optionally with RLIMIT_FSIZE."""
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("INFERCTL_HOME", "INFERCTL_TEST_PAUSE_AT")}
    full_env.update(env or {})

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    return subprocess.run([sys.executable, "-m", "inferctl", *args], cwd=REPO,
                          capture_output=True, text=True, env=full_env, input=input,
                          timeout=120, preexec_fn=limit if file_limit else None)


def register_args(model_id: str, home: str) -> list[str]:
    return ["model", "register", "--authority", GOV, "--proposed-by", ALICE,
            "--id", model_id, "--units-of-compute-per-token", "1", "--home", home]


def write_batch(path: Path, ids: list[str]) -> str:
    lines = [json.dumps({"type": REGISTER_MODEL, "body": crash_run.model_body(i)})
             for i in ids]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def kill_at(point: str, args: list[str]) -> None:
    """Start a writer, let it run to the test hook `point`, and SIGKILL it there."""
    env = {k: v for k, v in os.environ.items() if k != "INFERCTL_HOME"}
    env["INFERCTL_TEST_PAUSE_AT"] = point
    proc = subprocess.Popen([sys.executable, "-m", "inferctl", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    line = proc.stderr.readline()
    assert line.strip() == f"paused at {point}", line + proc.stderr.read()
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL


def stored_ids(home: str) -> list[str]:
    """Return the model ids of complete MsgRegisterModel lines, read directly."""
    data = Path(home, SEGMENT).read_bytes()
    ids = []
    for line in data.split(b"\n")[:-1]:
        record = json.loads(line)
        if record["type"] == REGISTER_MODEL:
            ids.append(record["body"]["id"])
    return ids


def listed_ids(home: str) -> set[str]:
    done = cli("model", "list", "--json", "--home", home)
    assert done.returncode == 0, done.stderr
    return {m["id"] for m in json.loads(done.stdout)["models"]}


def verify_replay(home: str) -> dict:
    done = cli("ledger", "verify", "--replay", "--json", "--home", home)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


BATCH = ["batch/a", "batch/b", "batch/c"]


@pytest.fixture
def batch_file(tmp_path) -> str:
    return write_batch(tmp_path / "batch.ndjson", BATCH)


# ----- random kills ------------------------------------------------------------------


def test_random_kills_keep_acknowledged(mainnet_home):
    tally = crash_run.run_crashes(mainnet_home, kills=200, workers=3, seed=7)
    figures = crash_run.check_ledger(mainnet_home, tally)
    assert figures["kills"] == 200
    # Every randomly killed worker had one command acknowledged before its kill.
    assert figures["acknowledged"] >= figures["kills_at"]["random"]
    assert figures["acknowledged_found_once"] == figures["acknowledged"]
    assert figures["acknowledged_missing"] == []
    assert figures["duplicated"] == []
    assert figures["partial_batches"] == []
    assert figures["worker_errors"] == []
    assert figures["verify_ok"] is True
    assert figures["replay_matches_snapshot"] is True
    assert figures["acknowledged_not_listed"] == []


# ----- kills at named steps ----------------------------------------------------------


def test_kill_mid_append_leaves_part(mainnet_home, batch_file):
    kill_at("mid-append", ["apply", batch_file, "--home", mainnet_home])
    assert stored_ids(mainnet_home) == ["batch/a"]  # half a batch: one record and a half
    verified = cli("ledger", "verify", "--home", mainnet_home)
    assert verified.returncode == 0, verified.stderr
    assert "torn write" in verified.stderr


def test_kill_mid_append_readers_skip_batch(mainnet_home, batch_file):
    kill_at("mid-append", ["apply", batch_file, "--home", mainnet_home])
    assert listed_ids(mainnet_home).isdisjoint(BATCH)


def test_kill_mid_append_next_write_cuts_batch(mainnet_home, batch_file):
    kill_at("mid-append", ["apply", batch_file, "--home", mainnet_home])
    done = cli(*register_args("after/crash", mainnet_home))
    assert done.returncode == 0, done.stderr
    assert "1 record of an unfinished batch" in done.stderr
    assert stored_ids(mainnet_home) == ["after/crash"]
    assert verify_replay(mainnet_home)["replay_matches_snapshot"] is True


def test_kill_after_append_keeps_batch(mainnet_home, batch_file):
    kill_at("after-append", ["apply", batch_file, "--home", mainnet_home])
    report = json.loads(cli("ledger", "verify", "--json", "--home",
                            mainnet_home).stdout)
    assert report["snapshot"] == "stale"
    assert set(BATCH) <= listed_ids(mainnet_home)
    assert cli(*register_args("after/crash", mainnet_home)).returncode == 0
    assert stored_ids(mainnet_home) == [*BATCH, "after/crash"]
    assert verify_replay(mainnet_home)["replay_matches_snapshot"] is True


def test_kill_mid_snapshot_cleans_temp(mainnet_home, batch_file):
    kill_at("mid-snapshot", ["apply", batch_file, "--home", mainnet_home])
    temps = [p.name for p in Path(mainnet_home).iterdir() if p.name.startswith(".tmp.")]
    assert any(name.startswith(".tmp.snapshot.json.") for name in temps)
    assert set(BATCH) <= listed_ids(mainnet_home)
    assert cli(*register_args("after/crash", mainnet_home)).returncode == 0
    assert [p for p in Path(mainnet_home).iterdir() if p.name.startswith(".tmp.")] == []
    assert stored_ids(mainnet_home) == [*BATCH, "after/crash"]


def test_kill_after_snapshot_keeps_all(mainnet_home, batch_file):
    kill_at("after-snapshot", ["apply", batch_file, "--home", mainnet_home])
    assert cli(*register_args("after/crash", mainnet_home)).returncode == 0
    assert stored_ids(mainnet_home) == [*BATCH, "after/crash"]
    assert verify_replay(mainnet_home)["replay_matches_snapshot"] is True


def test_kill_single_record_mid_append(mainnet_home):
    kill_at("mid-append", register_args("single/one", mainnet_home))
    assert stored_ids(mainnet_home) == []
    assert cli(*register_args("single/two", mainnet_home)).returncode == 0
    assert stored_ids(mainnet_home) == ["single/two"]


# ----- repair ------------------------------------------------------------------------


def test_repair_asks_first(mainnet_home, batch_file):
    kill_at("mid-append", ["apply", batch_file, "--home", mainnet_home])
    before = tree_digest(mainnet_home)
    done = cli("ledger", "repair", "--home", mainnet_home, input="n\n")
    assert done.returncode == 1
    assert "1 record of an unfinished batch" in done.stderr
    assert "cancelled" in done.stderr
    assert tree_digest(mainnet_home) == before


def test_repair_declined_keeps_batch_note(mainnet_home, batch_file):
    kill_at("mid-append", ["apply", batch_file, "--home", mainnet_home])
    assert cli("ledger", "repair", "--home", mainnet_home, input="n\n").returncode == 1
    assert cli(*register_args("after/crash", mainnet_home)).returncode == 0
    assert stored_ids(mainnet_home) == ["after/crash"]


def test_repair_confirmed(mainnet_home, batch_file):
    kill_at("mid-append", ["apply", batch_file, "--home", mainnet_home])
    done = cli("ledger", "repair", "--home", mainnet_home, input="y\n")
    assert done.returncode == 0, done.stderr
    assert stored_ids(mainnet_home) == []


def test_repair_yes_reports(mainnet_home, batch_file):
    kill_at("mid-append", ["apply", batch_file, "--home", mainnet_home])
    torn = Path(mainnet_home, SEGMENT).read_bytes().rsplit(b"\n", 1)[1]
    done = cli("ledger", "repair", "--yes", "--json", "--home", mainnet_home)
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["dropped_records"] == 1
    assert outcome["dropped_bytes"] == len(torn)
    assert outcome["height"] == 1
    report = verify_replay(mainnet_home)
    assert report["torn_bytes"] == 0
    assert report["snapshot"] == "current"


def test_repair_refuses_tampering(mainnet_home):
    assert cli(*register_args("t/one", mainnet_home)).returncode == 0
    assert cli(*register_args("t/two", mainnet_home)).returncode == 0
    segment = Path(mainnet_home, SEGMENT)
    segment.write_bytes(segment.read_bytes().replace(b"t/one", b"t/sne"))
    before = tree_digest(mainnet_home)
    done = cli("ledger", "repair", "--yes", "--home", mainnet_home)
    assert done.returncode == 5
    assert "record 2" in done.stderr
    assert tree_digest(mainnet_home) == before


# ----- full disk ---------------------------------------------------------------------


def _size(home: str, name: str) -> int:
    return os.path.getsize(os.path.join(home, name))


def _check_disk_full(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 8, done.stderr
    assert done.stderr.count("error:") == 1
    assert "File too large" in done.stderr
    assert "the ledger is unchanged" in done.stderr
    assert "Traceback" not in done.stderr


def test_disk_full_during_append(mainnet_home):
    before = tree_digest(mainnet_home)
    limit = _size(mainnet_home, SEGMENT) + 100  # less than one record
    done = cli(*register_args("full/one", mainnet_home), file_limit=limit)
    _check_disk_full(done)
    assert tree_digest(mainnet_home) == before


def test_disk_full_mid_batch(mainnet_home, batch_file):
    before = tree_digest(mainnet_home)
    record = len(json.dumps({"body": crash_run.model_body("batch/a")})) + 300
    limit = _size(mainnet_home, SEGMENT) + record * 3 // 2  # one record and a half
    done = cli("apply", batch_file, "--home", mainnet_home, file_limit=limit)
    _check_disk_full(done)
    assert tree_digest(mainnet_home) == before


def test_disk_full_during_snapshot(mainnet_home):
    before = tree_digest(mainnet_home)
    limit = _size(mainnet_home, "snapshot.json") - 1000  # the records fit, the state not
    assert limit > _size(mainnet_home, SEGMENT) + 2000
    done = cli(*register_args("full/one", mainnet_home), file_limit=limit)
    _check_disk_full(done)
    assert tree_digest(mainnet_home) == before


def test_disk_full_then_write(mainnet_home):
    limit = _size(mainnet_home, SEGMENT) + 100
    cli(*register_args("full/one", mainnet_home), file_limit=limit)
    assert cli(*register_args("full/two", mainnet_home)).returncode == 0
    assert stored_ids(mainnet_home) == ["full/two"]


def test_disk_full_during_import(tmp_path):
    home = tmp_path / "home"
    done = cli("genesis", "import", str(MAINNET_GENESIS), "--home", str(home),
               file_limit=100_000)
    _check_disk_full(done)
    assert not home.exists()


# ----- a batch across two segments ---------------------------------------------------


def test_kill_between_segments(tmp_path, monkeypatch):
    # Segments of 4 records, so a batch of three from height 4 spans two files. The
    # writer dies after the first file's part, leaving complete records and no torn
    # bytes: only the batch note in lock.json shows the batch is unfinished.
    from conftest import invoke
    from inferctl.ledger import store

    monkeypatch.setattr(store, "SEGMENT_RECORDS", 4)
    home = str(tmp_path / "home")
    genesis = Path(__file__).parent / "ledgers" / "source-genesis.json"
    assert invoke("genesis", "import", str(genesis), "--home", home).exit_code == 0
    first = write_batch(tmp_path / "first.ndjson", ["seg/a", "seg/b"])
    assert invoke("apply", first, "--home", home).exit_code == 0
    second = write_batch(tmp_path / "second.ndjson", ["seg/c", "seg/d", "seg/e"])
    pid = os.fork()
    if pid == 0:  # the writer that dies between its two segment writes
        original = store.Ledger._append_lines
        calls = []

        def die_on_second(self, path, data, *, created):
            calls.append(path)
            if len(calls) == 2:
                os._exit(9)
            original(self, path, data, created=created)

        store.Ledger._append_lines = die_on_second
        invoke("apply", second, "--home", home)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 9
    segments = sorted(p.name for p in Path(home, "segments").iterdir())
    assert segments == ["000000000001.jsonl"]
    assert stored_ids(home) == ["seg/a", "seg/b", "seg/c"]
    outcome = invoke(*register_args("seg/after", home))
    assert outcome.exit_code == 0, outcome.stderr
    assert "1 record of an unfinished batch" in outcome.stderr
    assert stored_ids(home) == ["seg/a", "seg/b", "seg/after"]
    assert invoke("ledger", "verify", "--replay", "--home", home).exit_code == 0
