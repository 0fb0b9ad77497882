"""Measure inferctl against its speed goals: `python -m inferctl.bench`.

Each scenario builds the ledgers it needs in a temporary directory and runs the
command as a user would: the installed `inferctl` script, else `python -m
inferctl`. Where the goal is a ratio, the reference command runs in the same loop,
alternating with it, so both see the same machine load. A row reports medians and
shows whether the goal is met. docs/benchmarks.md lists the goals and the results
on one machine.

Options:
  --quick        tiny sizes and 3 runs: checks that every scenario works
  --only NAME    run one scenario (repeatable); names as in the table
  --runs N       timed runs of each command (default 7; medians)
  --keep DIR     build the ledgers in DIR and keep them
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

GENESIS_TIME = "2025-01-01T00:00:00Z"
START_SECONDS = 1735689600  # GENESIS_TIME as seconds since 1970
CHAIN_ID = "inferctl-bench"
BATCH = 5000  # transactions per commit while building ledgers

JOIN = "/inference.inference.MsgSubmitNewParticipant"
REGISTER_NODES = "/inferctl.v1.RegisterNodes"
POC_RESULT = "/inferctl.v1.SubmitPocResult"
FORM_EPOCH = "/inferctl.v1.FormEpoch"
SET_NEW_VALIDATORS = "/inferctl.v1.SetNewValidators"
ADMIN_STATE = "/inferctl.v1.SetNodeAdminState"


# ----- sizes -------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    """The input sizes of every scenario; --quick shrinks them."""

    runs: int = 7
    pick_large_txs: int = 20_000
    verify_records: tuple[int, int] = (10_000, 100_000)
    apply_lines: int = 50_000
    form_participants: int = 10_000
    form_nodes: int = 4
    form_models: int = 8


FULL = Sizes()
QUICK = Sizes(runs=3, pick_large_txs=200, verify_records=(100, 1_000),
              apply_lines=500, form_participants=100)


# ----- synthetic ledgers -------------------------------------------------------------


def name_of(index: int) -> str:
    return f"bench-{index:07d}"


def address_of(index: int) -> str:
    from inferctl.bech32 import test_address

    return test_address(name_of(index), "gonka")


def ed25519_key_of(index: int) -> str:
    """Return a 32-byte base64 key derived from the participant's name."""
    raw = hashlib.sha256(f"validator/{name_of(index)}".encode()).digest()
    return base64.b64encode(raw).decode()


def model_id(index: int) -> str:
    return f"bench/model-{index}"


def config_toml(models: int) -> str:
    """Return a genesis config with `models` models and a short epoch schedule."""
    lines = [
        "[params.epoch_params]",
        "epoch_length = 50",
        "epoch_shift = 0",
        "poc_stage_duration = 4",
        "poc_exchange_duration = 1",
        "poc_validation_delay = 1",
        "poc_validation_duration = 4",
        "set_new_validators_delay = 1",
        "[genesis_only_params]",
        'max_individual_power_percentage = "0.25"',
        "genesis_guardian_enabled = false",
    ]
    for index in range(models):
        lines += [
            "[[models]]",
            f'id = "{model_id(index)}"',
            "units_of_compute_per_token = 100",
            f'hf_repo = "{model_id(index)}"',
            'hf_commit = "a09a35458c702b33eeacc393d103063234e8bc28"',
            "v_ram = 24",
            "throughput_per_nonce = 10000",
            'validation_threshold = "0.98"',
        ]
    return "\n".join(lines) + "\n"


def node_entry(participant: int, node: int, models: int) -> dict[str, Any]:
    """Return a node-config entry serving two models, spread over the registry."""
    first = (participant + node) % models
    served = sorted({model_id(first), model_id((first + 1) % models)})
    return {
        "id": f"node-{node}",
        "host": f"10.{participant // 65536 % 256}.{participant // 256 % 256}."
                f"{participant % 256}",
        "inference_port": 5000,
        "poc_port": 8080 + node,
        "max_concurrent": 500,
        "models": {model: {"args": ["--quantization", "fp8"]} for model in served},
        "hardware": [{"type": "H100", "count": 8}],
    }


def join_tx(index: int) -> tuple[str, dict[str, Any]]:
    return (JOIN, {"creator": address_of(index),
                   "url": f"http://{name_of(index)}.example:8000",
                   "validator_key": ed25519_key_of(index), "worker_key": ""})


def nodes_tx(index: int, nodes: int, models: int) -> tuple[str, dict[str, Any]]:
    entries = [node_entry(index, node, models) for node in range(nodes)]
    return (REGISTER_NODES, {"participant": address_of(index), "nodes": entries})


def poc_tx(index: int) -> tuple[str, dict[str, Any]]:
    return (POC_RESULT, {"participant": address_of(index), "epoch_index": 1,
                         "weight": 100 + index % 900})


def admin_tx(index: int, enabled: bool) -> tuple[str, dict[str, Any]]:
    return (ADMIN_STATE, {"participant": address_of(index), "node_id": "node-0",
                          "enabled": enabled})


def record_time(offset: int) -> str:
    from inferctl.timeutil import format_rfc3339

    return format_rfc3339((START_SECONDS + offset) * 1_000_000_000)


class Builder:
    """Builds a synthetic ledger through the library's commit(), batch by batch."""

    def __init__(self, home: str, models: int, progress: Callable[[int], None]) -> None:
        self.home = home
        self.models = models
        self.progress = progress
        self.clock = 1
        self.height = 0

    def genesis(self, command: list[str]) -> None:
        """Create the ledger with `inferctl genesis init` and a bench config."""
        config = os.path.join(os.path.dirname(self.home),
                              os.path.basename(self.home) + ".toml")
        with open(config, "w", encoding="utf-8") as handle:
            handle.write(config_toml(self.models))
        subprocess.run([*command, "genesis", "init", "--chain-id", CHAIN_ID,
                        "--genesis-time", GENESIS_TIME, "--config", config,
                        "--home", self.home], check=True, capture_output=True)
        self.height = 1

    def commit(self, txs: Iterator[tuple[str, dict[str, Any]]] | list[Any]) -> None:
        """Commit transactions in batches of BATCH, one ledger second apart."""
        import gc

        from inferctl.ledger.session import commit

        batch: list[Any] = []
        gc.disable()
        try:
            for tx in txs:
                batch.append(tx)
                if len(batch) == BATCH:
                    self._commit_batch(commit, batch)
                    batch = []
            if batch:
                self._commit_batch(commit, batch)
        finally:
            gc.enable()

    def _commit_batch(self, commit: Callable[..., Any], batch: list[Any]) -> None:
        result = commit(self.home, batch, explicit_time=record_time(self.clock))
        self.clock += 1
        self.height += len(result.records)
        self.progress(len(batch))

    def participants(self, count: int, nodes: int, *, sorted_joins: bool = True) -> None:
        """Join `count` participants, register their nodes and record PoC weights.

        Joins go in address order when `sorted_joins`, so the builder measures no
        re-sorting of the participant map.
        """
        order = list(range(count))
        if sorted_joins:
            order.sort(key=address_of)
        self.commit(join_tx(i) for i in order)
        self.commit(nodes_tx(i, nodes, self.models) for i in order)
        self.commit(poc_tx(i) for i in order)

    def form_and_activate(self) -> None:
        self.commit([(FORM_EPOCH, {"epoch_index": 1})])
        self.commit([(SET_NEW_VALIDATORS, {"epoch_index": 1})])

    def admin_toggles(self, count: int, participants: int) -> None:
        """Disable and enable node-0 of participants in turn: `count` transactions."""
        self.commit(admin_tx(i // 2 % participants, i % 2 == 1) for i in range(count))


# ----- running commands ----------------------------------------------------------------


def inferctl_command() -> list[str]:
    """Return the command a user would type: the installed script, else -m."""
    script = os.path.join(os.path.dirname(sys.executable), "inferctl")
    if os.path.isfile(script) and os.access(script, os.X_OK):
        return [script]
    return [sys.executable, "-m", "inferctl"]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("INFERCTL_HOME", None)
    env.pop("SOURCE_DATE_EPOCH", None)
    return env


def run_timed(command: list[str], *, stdout: Any = subprocess.DEVNULL
              ) -> tuple[float, int]:
    """Run a command to its end; return (wall seconds, peak RSS in KiB)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE,
                               env=child_env())
    assert process.stderr is not None
    errors = process.stderr.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed with exit code "
                           f"{process.returncode}: {errors.decode(errors='replace')}")
    return elapsed, usage.ru_maxrss


@dataclass
class Timing:
    """Wall times (seconds) and peak RSS (KiB) of the runs of one command."""

    seconds: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak_rss(self) -> int:
        return max(self.rss)


def alternate(commands: list[list[str]], runs: int,
              before: Callable[[int], None] | None = None) -> list[Timing]:
    """Run the commands in turn, `runs` rounds; `before(i)` runs untimed first."""
    timings = [Timing() for _ in commands]
    for _round in range(runs):
        for position, command in enumerate(commands):
            if before is not None:
                before(position)
            seconds, rss = run_timed(command)
            timings[position].seconds.append(seconds)
            timings[position].rss.append(rss)
    return timings


# ----- results -----------------------------------------------------------------------


@dataclass
class Row:
    scenario: str
    measured: str
    reference: str
    ratio: str
    goal: str
    met: bool | None  # None: nothing to judge (e.g. strace missing)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def print_rows(rows: list[Row]) -> None:
    header = ("scenario", "measured", "reference", "ratio", "goal", "met")
    table = [header] + [(r.scenario, r.measured, r.reference, r.ratio, r.goal,
                         {True: "yes", False: "NO", None: "-"}[r.met]) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths,
                                                                 strict=True)))


def machine_lines() -> list[str]:
    """Describe the machine and versions, as docs/benchmarks.md records them."""
    from importlib import metadata

    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = ", ".join(f"{name} {metadata.version(name)}"
                         for name in ("click", "orjson", "blake3"))
    return [f"cores: {os.cpu_count()}; CPU: {cpu}",
            f"Python {sys.version.split()[0]}; {versions}",
            f"inferctl: {' '.join(inferctl_command())} ({install_kind()})"]


def install_kind() -> str:
    """Say whether the children import inferctl from site-packages or a source tree.

    An editable install puts an import hook in front of every interpreter start,
    the reference commands' too, which shifts the start-up ratios.
    """
    probe = subprocess.run(
        [sys.executable, "-c", "import inferctl; print(inferctl.__file__)"],
        capture_output=True, text=True, env=child_env(), cwd=tempfile.gettempdir())
    location = probe.stdout.strip()
    if "site-packages" in location:
        return "regular install"
    return f"source tree {os.path.dirname(os.path.dirname(location))} (editable)"


class Progress:
    """A one-line progress count on stderr when it is a terminal; silent otherwise."""

    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.live = sys.stderr.isatty()

    def __call__(self, count: int) -> None:
        self.done += count
        if self.live:
            sys.stderr.write(f"\r{self.label}: {self.done}/{self.total}")
            sys.stderr.flush()

    def finish(self) -> None:
        if self.live:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


# ----- ledgers for the scenarios -------------------------------------------------------


def in_child(work: Callable[[], None]) -> None:
    """Run `work` in a forked child where the system has fork, else here.

    Building a ledger loads large states. Done in this process, that memory would
    count in the peak RSS of every command started later, because Linux carries a
    process's peak RSS across fork and exec.
    """
    if not hasattr(os, "fork"):
        work()
        return
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            work()
            code = 0
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _pid, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("building a benchmark ledger failed (see above)")


class Workspace:
    """The temporary directory with the ledgers the scenarios share."""

    def __init__(self, root: str, sizes: Sizes) -> None:
        self.root = root
        self.sizes = sizes
        self.command = inferctl_command()
        self._built: dict[str, str] = {}

    def path(self, name: str) -> str:
        return os.path.join(self.root, name)

    def ledger(self, name: str, build: Callable[[Builder], None], models: int = 8,
               total: int = 0) -> str:
        """Return the home of a ledger, building it once."""
        home = self._built.get(name)
        if home is not None:
            return home
        home = self.path(name)
        done = home + ".built"
        if not os.path.exists(done):
            # --keep reuses ledgers that a previous run finished building.
            shutil.rmtree(home, ignore_errors=True)

            def work() -> None:
                progress = Progress(f"building {name}", total)
                builder = Builder(home, models, progress)
                builder.genesis(self.command)
                build(builder)
                progress.finish()

            in_child(work)
            with open(done, "w", encoding="utf-8") as handle:
                handle.write("built\n")
        self._built[name] = home
        return home

    def copy(self, source: str, target: str) -> None:
        """Replace `target` with a copy of the ledger at `source`."""
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target)

    def small(self) -> str:
        """Return the 10-record ledger: 2 participants, an active epoch, one toggle."""

        def build(builder: Builder) -> None:
            builder.participants(2, 4)
            builder.form_and_activate()
            builder.admin_toggles(1, 2)

        return self.ledger("small-10tx", build, total=10)

    def large(self) -> str:
        """Return the large ledger for executor pick: participants, epoch, toggles."""
        total = self.sizes.pick_large_txs
        participants = max(2, total // 4)

        def build(builder: Builder) -> None:
            builder.participants(participants, 4)
            builder.form_and_activate()
            builder.admin_toggles(total - builder.height, participants)

        return self.ledger(f"pick-{total}tx", build, total=total)

    def long(self, records: int) -> str:
        """Return a ledger of `records` records, mostly small node enable/disable ones."""
        participants = max(2, min(1000, records // 10))

        def build(builder: Builder) -> None:
            builder.participants(participants, 4)
            builder.form_and_activate()
            builder.admin_toggles(records - builder.height, participants)

        return self.ledger(f"verify-{records}", build, total=records)

    def formable(self, participants: int) -> str:
        """Return a ledger of participants with nodes and PoC weights, ready to form."""
        sizes = self.sizes

        def build(builder: Builder) -> None:
            builder.participants(participants, sizes.form_nodes)

        return self.ledger(f"form-{participants}", build, sizes.form_models,
                           total=participants * 3)


def served_model(home: str) -> str:
    """Return a model of the effective epoch that has members, for picks."""
    from inferctl.ledger.store import Ledger

    state, _head = Ledger(home).load_state()
    models = [m for m in state["routing"]["models"] if m]
    if not models:
        raise RuntimeError(f"no model has members in {home}")
    return sorted(models)[0]


# ----- scenarios -------------------------------------------------------------------------

CLICK = [sys.executable, "-c", "import click"]


def startup_runs(ws: Workspace) -> int:
    """Return the runs for start-up scenarios: three times --runs.

    A run takes well under a second, and on a shared machine a few milliseconds
    of noise move these ratios by a tenth, so more runs steady the medians.
    """
    return ws.sizes.runs * 3


def ratio_row(name: str, measured: Timing, reference: Timing, reference_name: str,
              limit: float) -> Row:
    ratio = measured.median / reference.median
    return Row(name, ms(measured.median), f"{ms(reference.median)} ({reference_name})",
               f"{ratio:.2f}x", f"<= {limit}x", ratio <= limit)


def scenario_pick_start(ws: Workspace) -> list[Row]:
    home = ws.small()
    pick = [*ws.command, "executor", "pick", "--model", served_model(home), "--seed",
            "1", "--phase", "inference", "--home", home]
    measured, reference = alternate([pick, CLICK], startup_runs(ws))
    return [ratio_row("pick-start", measured, reference, "python -c 'import click'",
                      1.6)]


def scenario_help(ws: Workspace) -> list[Row]:
    measured, reference = alternate([[*ws.command, "--help"], CLICK],
                                    startup_runs(ws))
    return [ratio_row("help", measured, reference, "python -c 'import click'", 1.3)]


def scenario_pick_scale(ws: Workspace) -> list[Row]:
    small, large = ws.small(), ws.large()
    model = served_model(small)

    def pick(home: str) -> list[str]:
        return [*ws.command, "executor", "pick", "--model", model, "--seed", "1",
                "--phase", "inference", "--home", home]

    measured, reference = alternate([pick(large), pick(small)], startup_runs(ws))
    return [ratio_row("pick-scale", measured, reference,
                      f"same pick, 10-record ledger; large: "
                      f"{ws.sizes.pick_large_txs} records", 1.15)]


BARE_LOOP = """
import os, sys, orjson, blake3
segments = os.path.join(sys.argv[1], "segments")
for name in sorted(os.listdir(segments)):
    with open(os.path.join(segments, name), "rb") as handle:
        for line in handle:
            orjson.loads(line)
            blake3.blake3(line).hexdigest()
"""


def scenario_verify(ws: Workspace) -> list[Row]:
    short_records, long_records = ws.sizes.verify_records
    long_home = ws.long(long_records)
    short_home = ws.long(short_records)
    verify = [*ws.command, "ledger", "verify", "--home", long_home]
    bare = [sys.executable, "-c", BARE_LOOP, long_home]
    measured, reference = alternate([verify, bare], ws.sizes.runs)
    throughput = reference.median / measured.median
    rows = [Row("verify", f"{long_records / measured.median:,.0f} records/s",
                f"{long_records / reference.median:,.0f} records/s (orjson.loads + "
                f"blake3 per line)", f"{throughput:.2f}x", ">= 0.5x",
                throughput >= 0.5)]
    short = alternate([[*ws.command, "ledger", "verify", "--home", short_home]],
                      ws.sizes.runs)[0]
    growth = measured.peak_rss / short.peak_rss
    rows.append(Row("verify-memory", f"{measured.peak_rss / 1024:.1f} MiB at "
                    f"{long_records:,} records", f"{short.peak_rss / 1024:.1f} MiB at "
                    f"{short_records:,} records", f"{growth:.2f}x", "<= 1.1x",
                    growth <= 1.1))
    return rows


def apply_lines(participants: int, lines: int, *, shuffled: bool) -> list[str]:
    """Return RegisterNodes lines, one node each, grouped by participant.

    Participants come in a fixed shuffled order, or in address order, the order
    in which the participant and hardware maps keep their keys.
    """
    import json
    import random

    order = sorted(range(participants), key=address_of)
    if shuffled:
        random.Random(7).shuffle(order)
    nodes = lines // participants
    result = []
    for index in order:
        for node in range(nodes):
            body = {"participant": address_of(index),
                    "nodes": [node_entry(index, node, 8)]}
            result.append(json.dumps({"type": REGISTER_NODES, "body": body}))
    return result


def scenario_apply(ws: Workspace) -> list[Row]:
    lines = ws.sizes.apply_lines
    participants = max(1, lines // 4)

    def build(builder: Builder) -> None:
        builder.commit(join_tx(i) for i in sorted(range(participants), key=address_of))

    base = ws.ledger(f"apply-base-{participants}", build, total=participants)
    home = ws.path("apply-run")

    def reset(_position: int) -> None:
        ws.copy(base, home)

    rows = []
    for name, shuffled in (("apply", True), ("apply-sorted", False)):
        batch = ws.path(f"{name}.ndjson")

        def write_batch(batch: str = batch, shuffled: bool = shuffled) -> None:
            with open(batch, "w", encoding="utf-8") as handle:
                text = apply_lines(participants, lines, shuffled=shuffled)
                handle.write("\n".join(text) + "\n")

        in_child(write_batch)
        command = [*ws.command, "-q", "apply", batch, "--home", home]
        timing = alternate([command], ws.sizes.runs, before=reset)[0]
        rate = lines / timing.median
        order = "shuffled order" if shuffled else "address order"
        rows.append(Row(name, f"{rate:,.0f} tx/s ({ms(timing.median)} for {lines:,} "
                        f"lines, {participants:,} participants in {order})", "-", "-",
                        ">= 10,000 tx/s", rate >= 10_000))
    return rows


def genesis_file() -> str | None:
    """Return the mainnet genesis shipped with the sources, if it can be found.

    It is looked up under the current directory and the source tree that this
    module sits in. A regular install has no such tree, so run it from a checkout.
    """
    source_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for base in (os.getcwd(), source_root):
        for relative in ("samples/mainnet-genesis.json",
                         "tests/data/genesis/mainnet-genesis.json"):
            path = os.path.join(base, relative)
            if os.path.isfile(path):
                return path
    return None


def scenario_genesis(ws: Workspace) -> list[Row]:
    source = genesis_file()
    jq = shutil.which("jq")
    if source is None or jq is None:
        missing = "samples/mainnet-genesis.json" if source is None else "jq"
        return [Row("genesis", f"skipped: {missing} not found", "-", "-", "<= 2.5x",
                    None)]
    home = ws.path("genesis-run")
    exported = ws.path("genesis-export.json")
    steps = [[*ws.command, "genesis", "import", source, "--home", home],
             [*ws.command, "genesis", "export", "--home", home, "-o", exported],
             [jq, "-S", ".", source]]

    def before(position: int) -> None:
        if position == 0:
            shutil.rmtree(home, ignore_errors=True)

    runs = alternate(steps, ws.sizes.runs, before=before)
    combined = Timing([a + b for a, b in zip(runs[0].seconds, runs[1].seconds,
                                             strict=True)])
    row = ratio_row("genesis", combined, runs[2], "jq -S . genesis.json", 2.5)
    row.measured += (f" (import {ms(runs[0].median)} + export "
                     f"{ms(runs[1].median)})")
    return [row]


def scenario_epoch_form(ws: Workspace) -> list[Row]:
    count = ws.sizes.form_participants
    homes = [ws.formable(count), ws.formable(count * 2)]
    run_home = ws.path("form-run")
    commands = [[*ws.command, "-q", "epoch", "form", "--at-any-height", "--home",
                 run_home]] * 2

    def before(position: int) -> None:
        ws.copy(homes[position], run_home)

    once, twice = alternate(commands, ws.sizes.runs, before=before)
    sizes = ws.sizes
    growth = twice.median / once.median
    shape = f"{sizes.form_nodes} nodes x {sizes.form_models} models"
    return [Row("epoch-form", f"{ms(once.median)} ({count:,} participants x {shape})",
                "-", "-", "<= 1000 ms", once.median <= 1.0),
            Row("epoch-form-scale", f"{ms(twice.median)} ({count * 2:,} participants)",
                f"{ms(once.median)} ({count:,} participants)", f"{growth:.2f}x",
                "<= 2.2x", growth <= 2.2)]


def count_fsyncs(command: list[str], workdir: str) -> tuple[int, int] | None:
    """Count (file, directory) fsyncs of a command under strace; None without it."""
    strace = shutil.which("strace")
    if strace is None:
        return None
    log = os.path.join(workdir, "strace.log")
    subprocess.run([strace, "-f", "-y", "-qq", "-e", "trace=fsync,fdatasync", "-o",
                    log, *command], check=True, capture_output=True, env=child_env())
    return classify_fsyncs(log)


def classify_fsyncs(log: str) -> tuple[int, int]:
    """Count the fsync lines of a `strace -y` log by the kind of the fd's path."""
    files = directories = 0
    with open(log, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if "fsync(" not in line and "fdatasync(" not in line:
                continue
            start, end = line.find("<"), line.find(">")
            path = line[start + 1:end] if 0 <= start < end else ""
            if path and os.path.isdir(path):
                directories += 1
            else:
                files += 1
    return files, directories


def scenario_fsync(ws: Workspace) -> list[Row]:
    home = ws.path("fsync-run")
    ws.copy(ws.small(), home)
    command = [*ws.command, "-q", "node", "disable", "node-1", "--participant",
               address_of(0), "--home", home]
    counted = count_fsyncs(command, ws.root)
    if counted is None:
        return [Row("fsync", "skipped: strace not found", "-", "-",
                    "<= 2 file + 1 dir fsyncs", None)]
    files, directories = counted
    return [Row("fsync", f"{files} file + {directories} dir fsyncs for 1 record",
                "-", "-", "<= 2 file + 1 dir fsyncs", files <= 2 and directories <= 1)]


SCENARIOS: dict[str, Callable[[Workspace], list[Row]]] = {
    "pick-start": scenario_pick_start,
    "help": scenario_help,
    "pick-scale": scenario_pick_scale,
    "verify": scenario_verify,
    "apply": scenario_apply,
    "genesis": scenario_genesis,
    "epoch-form": scenario_epoch_form,
    "fsync": scenario_fsync,
}


# ----- command line ----------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m inferctl.bench",
        description="Measure inferctl against its speed goals; prints one row per "
                    "measurement.")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and 3 runs: checks that every scenario works")
    parser.add_argument("--only", action="append", choices=sorted(SCENARIOS),
                        metavar="SCENARIO",
                        help=f"run only this scenario (repeatable): "
                             f"{', '.join(SCENARIOS)}")
    parser.add_argument("--runs", type=int, default=None, metavar="N",
                        help="timed runs per command, medians reported (default 7; "
                             "3 with --quick)")
    parser.add_argument("--keep", metavar="DIR", default=None,
                        help="build the ledgers in DIR and keep them")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen scenarios and print the results table; return the exit code."""
    import dataclasses

    options = parse_args(argv)
    sizes = QUICK if options.quick else FULL
    if options.runs is not None:
        sizes = dataclasses.replace(sizes, runs=max(1, options.runs))
    for line in machine_lines():
        print(line)
    root = options.keep or tempfile.mkdtemp(prefix="inferctl-bench-")
    os.makedirs(root, exist_ok=True)
    workspace = Workspace(root, sizes)
    rows: list[Row] = []
    try:
        for name in options.only or list(SCENARIOS):
            rows.extend(SCENARIOS[name](workspace))
    finally:
        if options.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print_rows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
