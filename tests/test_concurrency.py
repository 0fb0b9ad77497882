"""Parallel writers, the writer lock, and readers that run while writers append.

Writers and readers are separate processes. Each runs the real command line
in-process (click's CliRunner) in a loop, so a test can run hundreds of commands
without paying the interpreter start-up for each one.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from conftest import REPO
from inferctl import bech32
from inferctl.timeutil import now_nanos, parse_rfc3339

TESTS = Path(__file__).parent
GOV = bech32.module_address("gov", "gonka")
ALICE = bech32.test_address("alice", "gonka")
BOB = bech32.test_address("bob", "gonka")
REGISTER_MODEL = "/inference.inference.MsgRegisterModel"
MAINNET_MODELS = 2  # Qwen/QwQ-32B and Qwen/Qwen2.5-7B-Instruct


def register_model(model_id: str, home: str) -> list[str]:
    return ["model", "register", "--authority", GOV, "--proposed-by", ALICE, "--id",
            model_id, "--units-of-compute-per-token", "1", "--home", home]


def register_node(participant: str, node_id: str, home: str) -> list[str]:
    return ["node", "register", "--participant", participant, "--id", node_id,
            "--host", "10.0.0.9", "--inference-port", "5000", "--poc-port", "8080",
            "--max-concurrent", "10", "--model", "Qwen/QwQ-32B", "--home", home]


# ----- code run in the worker processes ----------------------------------------------


def writer_main(kind: str, home: str, prefix: str, count: int) -> None:
    """Commit `count` model or node registrations; print one JSON summary line."""
    from click.testing import CliRunner

    from inferctl.cli.main import cli

    runner = CliRunner()
    failures = []
    for index in range(count):
        if kind == "model":
            args = register_model(f"{prefix}/{index}", home)
        else:
            args = register_node(prefix, f"n{index}", home)
        result = runner.invoke(cli, ["-q", *args, "--lock-timeout", "120"])
        if result.exit_code != 0:
            failures.append(f"{args}: {result.exception!r} {result.stderr}")
    print(json.dumps({"failures": failures}))


READS = (["ledger", "verify", "--json"], ["model", "list", "--json"],
         ["node", "list", "--json"])


def reader_main(home: str, stop: str, base_height: int, base_items: int) -> None:
    """Read until `stop` exists; check every read; print one JSON summary line."""
    from click.testing import CliRunner

    from inferctl.cli.main import cli
    from inferctl.ledger.session import read_state

    runner = CliRunner()
    reads, failures, heights = 0, [], []
    while not os.path.exists(stop):
        for args in READS:
            result = runner.invoke(cli, [*args, "--home", home])
            reads += 1
            try:
                assert result.exit_code == 0, (result.exception, result.stderr)
                json.loads(result.stdout)
            except (AssertionError, ValueError) as exc:
                failures.append(f"{args}: {exc!r}")
        state, head = read_state(home)
        items = len(state["models"]) + sum(len(n) for n in state["hardware"].values())
        # Every record after the base adds exactly one model or one node.
        if items - base_items != head.height - base_height:
            failures.append(f"height {head.height} but {items} models and nodes")
        heights.append(head.height)
    if heights != sorted(heights):
        failures.append("a later read saw a lower height")
    print(json.dumps({"reads": reads, "failures": failures,
                      "heights": [heights[0], heights[-1]] if heights else []}))


def spawn(function: str, *args: object) -> subprocess.Popen:
    """Start `function(*args)` of this module in a new Python process."""
    code = (f"import sys; sys.path.insert(0, {str(TESTS)!r}); "
            f"from test_concurrency import {function}; {function}(*{args!r})")
    env = {k: v for k, v in os.environ.items() if k != "INFERCTL_HOME"}
    return subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def summary(proc: subprocess.Popen, timeout: float = 240) -> dict:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def cli(*args: str, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("INFERCTL_HOME", "INFERCTL_TEST_PAUSE_AT")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "inferctl", *args], cwd=REPO,
                          capture_output=True, text=True, env=full_env, timeout=120)


def stored_model_ids(home: str) -> Counter:
    counts: Counter = Counter()
    for segment in sorted(Path(home, "segments").glob("*.jsonl")):
        for line in segment.read_bytes().split(b"\n")[:-1]:
            record = json.loads(line)
            if record["type"] == REGISTER_MODEL:
                counts[record["body"]["id"]] += 1
    return counts


# ----- many writers ------------------------------------------------------------------


def test_eight_writers_hundred_each(mainnet_home):
    writers = [spawn("writer_main", "model", mainnet_home, f"par{w}", 100)
               for w in range(8)]
    for proc in writers:
        assert summary(proc)["failures"] == []
    counts = stored_model_ids(mainnet_home)
    expected = {f"par{w}/{i}" for w in range(8) for i in range(100)}
    assert set(counts) == expected
    assert set(counts.values()) == {1}
    verified = cli("ledger", "verify", "--replay", "--json", "--home", mainnet_home)
    assert verified.returncode == 0, verified.stderr
    report = json.loads(verified.stdout)
    assert report["head_height"] == 1 + 800
    assert report["replay_matches_snapshot"] is True
    listed = json.loads(cli("model", "list", "--json", "--home", mainnet_home).stdout)
    assert len(listed["models"]) == MAINNET_MODELS + 800


def test_readers_during_writers(mainnet_home, tmp_path):
    for participant in (ALICE, BOB):
        joined = cli("participant", "join", participant, "--url",
                     "http://node.example.com:8000", "--home", mainnet_home)
        assert joined.returncode == 0, joined.stderr
    stop = str(tmp_path / "stop")
    readers = [spawn("reader_main", mainnet_home, stop, 3, MAINNET_MODELS)
               for _ in range(2)]
    writers = [spawn("writer_main", "model", mainnet_home, "rw0", 60),
               spawn("writer_main", "model", mainnet_home, "rw1", 60),
               spawn("writer_main", "node", mainnet_home, ALICE, 60),
               spawn("writer_main", "node", mainnet_home, BOB, 60)]
    for proc in writers:
        assert summary(proc)["failures"] == []
    Path(stop).touch()
    for proc in readers:
        result = summary(proc)
        assert result["failures"] == []
        assert result["reads"] > 30
        assert result["heights"][0] < result["heights"][1]


# ----- the lock ----------------------------------------------------------------------


def pause_writer(args: list[str], point: str = "after-append") -> subprocess.Popen:
    """Start a writer that stops, holding the lock, at the test hook `point`."""
    env = {k: v for k, v in os.environ.items() if k != "INFERCTL_HOME"}
    env["INFERCTL_TEST_PAUSE_AT"] = point
    proc = subprocess.Popen([sys.executable, "-m", "inferctl", *args], cwd=REPO,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    line = proc.stderr.readline()
    assert line.strip() == f"paused at {point}", line + proc.stderr.read()
    return proc


@pytest.fixture
def holder(mainnet_home):
    """A writer paused while it holds the lock of mainnet_home; killed afterwards."""
    proc = pause_writer(register_model("lock/holder", mainnet_home))
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


def test_locked_writer_times_out(mainnet_home, holder):
    started = time.monotonic()
    done = cli(*register_model("lock/waiter", mainnet_home), "--lock-timeout", "0.5")
    assert done.returncode == 6, done.stderr
    assert time.monotonic() - started >= 0.5
    assert done.stderr.count("error:") == 1
    assert "waited 0.5s" in done.stderr


def test_locked_message_names_holder(mainnet_home, holder):
    done = cli(*register_model("lock/waiter", mainnet_home), "--lock-timeout", "0")
    assert done.returncode == 6, done.stderr
    assert f"held by pid {holder.pid}" in done.stderr
    assert "(inferctl model register --authority" in done.stderr
    since = re.search(r"since ([0-9T:.-]+Z)", done.stderr).group(1)
    assert 0 <= now_nanos() - parse_rfc3339(since) < 60 * 10**9


def test_dead_holder_blocks_nobody(mainnet_home, holder):
    holder.send_signal(signal.SIGKILL)
    holder.communicate()
    done = cli(*register_model("lock/next", mainnet_home), "--lock-timeout", "0")
    assert done.returncode == 0, done.stderr
    assert not Path(mainnet_home, "lock.json").exists()


def test_waiter_proceeds_when_holder_dies(mainnet_home, holder):
    waiter = subprocess.Popen(
        [sys.executable, "-m", "inferctl", *register_model("lock/waiter", mainnet_home),
         "--lock-timeout", "30"], cwd=REPO, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    assert waiter.poll() is None  # still waiting for the lock
    holder.send_signal(signal.SIGKILL)
    out, err = waiter.communicate(timeout=30)
    assert waiter.returncode == 0, err
    counts = stored_model_ids(mainnet_home)
    assert counts["lock/waiter"] == 1
    # The holder was killed after its append: its complete record stays.
    assert counts["lock/holder"] == 1
