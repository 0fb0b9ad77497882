#!/usr/bin/env python3
"""Kill inferctl writers at random moments and check that no acknowledged write is lost.

Worker processes register models back to back in one ledger, as single
`model register` commands and as `apply` batches of three. Each worker prints
`try IDS` before a command and `ack IDS` after the command returned success.
The harness kills workers with SIGKILL, either at a random moment or at a
named step of the write path (the INFERCTL_TEST_PAUSE_AT test hook), and
starts new ones. At the end it runs one more writer, which cuts what the last
killed writer left, and checks:

- every acknowledged model id is in the records exactly once;
- every batch is in the records completely or not at all;
- `ledger verify` passes, and `ledger verify --replay` finds that the snapshot
  equals a full replay;
- `model list --json` lists every acknowledged model.

Usage:
  .venv/bin/python tools/crash-run.py --kills 200
  .venv/bin/python tools/crash-run.py --kills 2000 --workers 4 --json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MAINNET_GENESIS = REPO / "tests" / "data" / "genesis" / "mainnet-genesis.json"
REGISTER_MODEL = "/inference.inference.MsgRegisterModel"
PAUSE_POINTS = ("mid-append", "after-append", "mid-snapshot", "after-snapshot")
BATCH_SIZE = 3


# ----- worker ------------------------------------------------------------------------


def model_body(model_id: str) -> dict:
    """Return a MsgRegisterModel body as `model register` writes it."""
    from inferctl.bech32 import module_address, test_address

    return {
        "authority": module_address("gov", "gonka"), "hf_commit": "", "hf_repo": "",
        "id": model_id, "model_args": [],
        "proposed_by": test_address("crash", "gonka"), "throughput_per_nonce": 0,
        "units_of_compute_per_token": 1, "v_ram": 0, "validation_threshold": None,
    }


def zygote_main(home: str) -> None:
    """Fork one worker per request line on stdin; print each worker's pid.

    A request is `PREFIX POINT OUT ERR`: the model id prefix, the test hook point
    (`-` for none) and the files for the worker's try/ack lines and its stderr.
    The zygote imports inferctl once, so a forked worker starts writing at once
    instead of paying the interpreter's start-up for every kill.
    """
    import inferctl.cli.apply  # noqa: F401 - loaded once, before the forks
    import inferctl.cli.main  # noqa: F401
    import inferctl.cli.models  # noqa: F401
    import inferctl.flow.models  # noqa: F401
    import inferctl.ledger.recovery  # noqa: F401
    import inferctl.ledger.session  # noqa: F401

    # Killed workers are reaped by the kernel, so none is left as a zombie.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    for line in sys.stdin:
        prefix, point, out_path, err_path = line.split()
        pid = os.fork()
        if pid == 0:
            _forked_worker(home, prefix, point, out_path, err_path)
        print(pid, flush=True)


def _forked_worker(home: str, prefix: str, point: str, out_path: str,
                   err_path: str) -> None:
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.environ.pop("INFERCTL_TEST_PAUSE_AT", None)
        if point != "-":
            os.environ["INFERCTL_TEST_PAUSE_AT"] = point
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
        acks = open(out_path, "w", buffering=1)  # noqa: SIM115 - open until killed
        # The commands print on stdout too; only the try/ack lines go to `acks`.
        os.dup2(devnull, 1)
        write_until_killed(home, prefix, acks)
    finally:
        os._exit(1)


def write_until_killed(home: str, prefix: str, acks) -> None:
    """Commit model registrations until killed; write `try` and `ack` lines."""
    from inferctl.cli.main import cli
    from inferctl.errors import InferctlError

    batch_dir = tempfile.mkdtemp(prefix="crash-batch-")
    first_is_batch = os.environ.get("INFERCTL_TEST_PAUSE_AT") == "mid-append"
    for index in range(10**9):
        as_batch = index % 3 == (0 if first_is_batch else 2)
        ids, args = _next_command(home, prefix, index, as_batch, batch_dir)
        acks.write("try " + " ".join(ids) + "\n")
        try:
            cli.main(args, prog_name="inferctl", standalone_mode=False)
        except InferctlError as exc:
            acks.write(f"error {exc}\n")
            continue
        acks.write("ack " + " ".join(ids) + "\n")


def _next_command(home: str, prefix: str, index: int, as_batch: bool,
                  batch_dir: str) -> tuple[list[str], list[str]]:
    common = ["--home", home, "--lock-timeout", "120"]
    if not as_batch:
        model_id = f"{prefix}-{index}"
        body = model_body(model_id)
        return [model_id], ["model", "register", "--authority",
                            body["authority"], "--proposed-by", body["proposed_by"],
                            "--id", model_id, "--units-of-compute-per-token", "1",
                            *common]
    ids = [f"{prefix}-{index}-{k}" for k in range(BATCH_SIZE)]
    path = os.path.join(batch_dir, f"{index}.ndjson")
    with open(path, "w") as handle:
        for model_id in ids:
            handle.write(json.dumps({"type": REGISTER_MODEL,
                                     "body": model_body(model_id)}) + "\n")
    return ids, ["apply", path, *common]


# ----- harness -----------------------------------------------------------------------


@dataclass
class Tally:
    """Counts and model ids that the workers reported, shared by harness threads."""

    kills: int = 0
    kills_at: Counter = field(default_factory=Counter)
    attempted: list[list[str]] = field(default_factory=list)
    acked: list[list[str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Warnings of writers that cut what a killed writer left.
    torn_writes_cut: int = 0
    batches_cut: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def inferctl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `python -m inferctl ARGS` and return the finished process."""
    env = {k: v for k, v in os.environ.items() if k != "INFERCTL_TEST_PAUSE_AT"}
    done = subprocess.run([sys.executable, "-m", "inferctl", *args], cwd=REPO,
                          capture_output=True, text=True, env=env, timeout=300)
    if check and done.returncode != 0:
        raise RuntimeError(f"inferctl {' '.join(args)} exited {done.returncode}: "
                           f"{done.stderr.strip()}")
    return done


def make_home(home: str) -> None:
    """Create a ledger at `home` from the mainnet genesis."""
    inferctl("genesis", "import", str(MAINNET_GENESIS), "--home", home)


class Slot:
    """One harness thread's zygote, and the kills it makes with it."""

    def __init__(self, home: str, number: int, seed: int, scratch: str) -> None:
        env = {k: v for k, v in os.environ.items() if k != "INFERCTL_TEST_PAUSE_AT"}
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        self.zygote = subprocess.Popen(
            [sys.executable, __file__, "zygote", "--home", home],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self.number = number
        self.rng = random.Random(seed * 1000 + number)
        self.scratch = scratch

    def kill_once(self, generation: int, point: str | None, max_delay: float,
                  tally: Tally) -> None:
        """Fork a worker, let it write, SIGKILL it, and tally what it reported."""
        prefix = f"crash/s{self.number}g{generation}"
        out = os.path.join(self.scratch, f"s{self.number}g{generation}.out")
        err = os.path.join(self.scratch, f"s{self.number}g{generation}.err")
        self.zygote.stdin.write(f"{prefix} {point or '-'} {out} {err}\n")
        self.zygote.stdin.flush()
        pid = int(self.zygote.stdout.readline())
        if point:
            _wait_for_line(err, f"paused at {point}", pid)
        else:
            # Kill during steady writing, not during start-up: wait for the first
            # acknowledged command, then a random time.
            _wait_for_line(out, "ack ", pid)
            time.sleep(self.rng.uniform(0, max_delay))
        alive = _kill(pid)
        _collect(_read(out), _read(err), point, alive, tally)

    def close(self) -> None:
        self.zygote.stdin.close()
        self.zygote.wait(timeout=60)


def _read(path: str) -> str:
    try:
        with open(path, errors="replace") as handle:
            return handle.read()
    except FileNotFoundError:
        return ""


def _wait_for_line(path: str, start: str, pid: int, timeout: float = 120) -> None:
    """Wait until a line of `path` starts with `start`, or the worker is gone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(line.startswith(start) for line in _read(path).splitlines()):
            return
        if not _alive(pid):
            return
        time.sleep(0.005)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _kill(pid: int) -> bool:
    """SIGKILL `pid` and wait until it is gone; return whether it was still alive."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    while _alive(pid):
        time.sleep(0.001)
    return True


def _collect(out: str, err: str, point: str | None, alive: bool,
             tally: Tally) -> None:
    with tally.lock:
        tally.kills += 1
        tally.kills_at[point or "random"] += 1
        for line in out.splitlines():
            kind, _, rest = line.partition(" ")
            if kind == "try":
                tally.attempted.append(rest.split())
            elif kind == "ack":
                tally.acked.append(rest.split())
            elif kind == "error":
                tally.errors.append(rest)
        tally.torn_writes_cut += err.count("of a torn write at the end of the ledger")
        tally.batches_cut += err.count("of an unfinished batch")
        if not alive:
            tally.errors.append(f"worker ended before its kill: {err.strip()[-500:]}")


def _run_slot(slot: Slot, kills: int, max_delay: float, hook_every: int,
              tally: Tally) -> None:
    try:
        for generation in range(kills):
            point = None
            if hook_every and generation % hook_every == hook_every - 1:
                turn = generation // hook_every + slot.number
                point = PAUSE_POINTS[turn % len(PAUSE_POINTS)]
            slot.kill_once(generation, point, max_delay, tally)
    finally:
        slot.close()


def run_crashes(home: str, *, kills: int = 200, workers: int = 3, seed: int = 1,
                max_delay: float = 0.1, hook_every: int = 5) -> Tally:
    """Kill `kills` workers (spread over `workers` parallel slots) and tally them."""
    tally = Tally()
    scratch = tempfile.mkdtemp(prefix="crash-run-workers-")
    per_slot = [kills // workers + (1 if i < kills % workers else 0)
                for i in range(workers)]
    threads = [threading.Thread(target=_run_slot,
                                args=(Slot(home, i, seed, scratch), n, max_delay,
                                      hook_every, tally))
               for i, n in enumerate(per_slot)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    shutil.rmtree(scratch, ignore_errors=True)
    return tally


# ----- checks ------------------------------------------------------------------------


def stored_model_ids(home: str) -> Counter:
    """Count the model ids of MsgRegisterModel records, parsing the segments directly."""
    counts: Counter = Counter()
    for segment in sorted(Path(home, "segments").glob("*.jsonl")):
        for line in segment.read_bytes().split(b"\n")[:-1]:
            record = json.loads(line)
            if record["type"] == REGISTER_MODEL:
                counts[record["body"]["id"]] += 1
    return counts


def check_ledger(home: str, tally: Tally) -> dict:
    """Finish with one clean write, then check the ledger against the tally."""
    body = model_body("crash/final")
    inferctl("model", "register", "--authority", body["authority"], "--proposed-by",
             body["proposed_by"], "--id", "crash/final", "--home", home)
    counts = stored_model_ids(home)
    acked_ids = [i for ids in tally.acked for i in ids]
    verify = json.loads(inferctl("ledger", "verify", "--json", "--home", home).stdout)
    replay = json.loads(inferctl("ledger", "verify", "--replay", "--json",
                                 "--home", home).stdout)
    listed = json.loads(inferctl("model", "list", "--json", "--home", home).stdout)
    listed_ids = {m["id"] for m in listed["models"]}
    partial = [ids for ids in tally.attempted
               if len(ids) > 1 and 0 < sum(counts[i] > 0 for i in ids) < len(ids)]
    return {
        "kills": tally.kills,
        "kills_at": dict(sorted(tally.kills_at.items())),
        "acknowledged": len(acked_ids),
        "acknowledged_found_once": sum(counts[i] == 1 for i in acked_ids),
        "acknowledged_missing": [i for i in acked_ids if counts[i] == 0],
        "duplicated": sorted(i for i, n in counts.items() if n > 1),
        "unacknowledged_found": sum(1 for ids in tally.attempted for i in ids
                                    if counts[i] and i not in set(acked_ids)),
        "batches_attempted": sum(len(ids) > 1 for ids in tally.attempted),
        "torn_writes_cut": tally.torn_writes_cut,
        "unfinished_batches_cut": tally.batches_cut,
        "partial_batches": partial,
        "records": verify["head_height"],
        "verify_ok": verify["ok"],
        "replay_matches_snapshot": replay.get("replay_matches_snapshot"),
        "acknowledged_not_listed": [i for i in acked_ids if i not in listed_ids],
        "worker_errors": tally.errors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode")
    zygote = sub.add_parser("zygote")
    zygote.add_argument("--home", required=True)
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--home", help="ledger home (default: a new temporary one)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.mode == "zygote":
        zygote_main(args.home)
        return 0

    home = args.home or os.path.join(tempfile.mkdtemp(prefix="crash-run-"), "home")
    make_home(home)
    started = time.monotonic()
    tally = run_crashes(home, kills=args.kills, workers=args.workers, seed=args.seed)
    figures = check_ledger(home, tally)
    figures["seconds"] = round(time.monotonic() - started, 1)
    figures["home"] = home

    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")

    bad = (figures["acknowledged_missing"] or figures["duplicated"]
           or figures["partial_batches"] or figures["worker_errors"]
           or figures["acknowledged_not_listed"]
           or figures["replay_matches_snapshot"] is not True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
