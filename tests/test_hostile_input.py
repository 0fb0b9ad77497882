"""Hostile and broken input: every file-reading command fails cleanly on each case.

For each command that reads a file, and each broken input, the command must exit
non-zero with exactly one `error:` line, print no traceback, and leave the ledger
byte for byte as it was. The commands run in-process through
`inferctl.cli.main.run`, the same error boundary as the installed `inferctl`. The
100 MB file and the read-only ledger cases run in a separate process.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import DATA, MAINNET_GENESIS, REPO, tree_digest
from inferctl import bech32
from inferctl.cli import main

GOV = bech32.module_address("gov", "gonka")
ALICE = bech32.test_address("alice", "gonka")
GENPARTICIPANT = next((DATA / "ceremony" / "gonka-1").glob("genparticipant-*.json"))
NODE_CONFIG = [{"id": "node1", "host": "10.0.0.5", "inference_port": 5000,
                "poc_port": 8080, "max_concurrent": 500,
                "models": {"Qwen/QwQ-32B": {"args": []}}}]
MODEL_FILE = {"id": "test/hostile", "units_of_compute_per_token": 100}
MODEL_TOML = 'id = "test/hostile"\nunits_of_compute_per_token = 100\n'
INIT_TOML = "[params.epoch_params]\nepoch_length = 50\n"
APPLY_LINE = {"type": "/inference.inference.MsgRegisterModel",
              "body": {"authority": GOV, "proposed_by": ALICE, "id": "test/hostile",
                       "units_of_compute_per_token": 100}}
BIG = 2**70  # more than 64 bits
DEEP = 100_000


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str) -> Outcome:
    """Run the command line in-process through its real error boundary."""
    runner = CliRunner()
    with runner.isolation() as (stdout, stderr, _output):
        try:
            main.run(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return Outcome(code, stdout.getvalue().decode(errors="replace"),
                   stderr.getvalue().decode(errors="replace"))


# ----- the commands ------------------------------------------------------------------


@dataclass
class Target:
    """A command that reads one file, and how to make a valid file for it."""

    name: str
    argv: Callable[[str, str, Path], list[str]]  # (file, home, scratch) -> arguments
    valid: Callable[[], bytes]
    form: str  # "json", "ndjson" or "toml"
    number_key: tuple[str | int, ...] | None  # an integer field, for BIG and 1.5
    home: bool  # takes --home and writes the ledger
    dir_file: bool = False  # the file goes into a directory the command reads


def _mainnet() -> bytes:
    return MAINNET_GENESIS.read_bytes()


def _json(value: object) -> Callable[[], bytes]:
    return lambda: json.dumps(value).encode()


def _text(value: str) -> Callable[[], bytes]:
    return lambda: value.encode()


def _collect_argv(file: str, home: str, scratch: Path) -> list[str]:
    return ["genesis", "collect", "--genparticipant-dir", str(Path(file).parent),
            "-i", str(MAINNET_GENESIS), "-o", str(scratch / "out.json")]


EPOCH_LENGTH = ("app_state", "inference", "params", "epoch_params", "epoch_length")
# A genparticipant file contains no integers, so the nearest case is a number where
# its URL string belongs.
GENPARTICIPANT_URL = ("body", "messages", 0, "url")

TARGETS = [
    Target("genesis-import", lambda f, h, s: ["genesis", "import", f, "--home", h],
           _mainnet, "json", EPOCH_LENGTH, True),
    Target("genesis-validate", lambda f, h, s: ["genesis", "validate", f],
           _mainnet, "json", EPOCH_LENGTH, False),
    Target("genesis-diff", lambda f, h, s: ["genesis", "diff", f, str(MAINNET_GENESIS)],
           _mainnet, "json", EPOCH_LENGTH, False),
    Target("genesis-patch", lambda f, h, s: ["genesis", "patch", f, "--overrides",
                                             str(s / "overrides.json"), "-o",
                                             str(s / "out.json")],
           _mainnet, "json", EPOCH_LENGTH, False),
    Target("genesis-patch-overrides",
           lambda f, h, s: ["genesis", "patch", str(MAINNET_GENESIS), "--overrides", f,
                            "-o", str(s / "out.json")],
           _json({"app_state": {"inference": {"params": {"epoch_params": {
               "epoch_length": 100}}}}}), "json", EPOCH_LENGTH[:5], False),
    Target("genesis-collect-input",
           lambda f, h, s: ["genesis", "collect", "--genparticipant-dir",
                            str(s / "genparticipants"), "-i", f, "-o",
                            str(s / "out.json")],
           _mainnet, "json", EPOCH_LENGTH, False),
    Target("genesis-collect-genparticipant", _collect_argv,
           lambda: GENPARTICIPANT.read_bytes(), "json", GENPARTICIPANT_URL, False,
           dir_file=True),
    Target("node-register", lambda f, h, s: ["node", "register", "--participant",
                                             ALICE, "--file", f, "--home", h],
           _json(NODE_CONFIG), "json", (0, "max_concurrent"), True),
    Target("participant-join", lambda f, h, s: ["participant", "join", "--replace",
                                                "--genparticipant", f, "--home", h],
           lambda: GENPARTICIPANT.read_bytes(), "json", GENPARTICIPANT_URL, True),
    Target("model-propose-json",
           lambda f, h, s: ["model", "propose", "--proposer", ALICE, "--file", f,
                            "--home", h],
           _json(MODEL_FILE), "json", ("units_of_compute_per_token",), True),
    Target("model-propose-toml",
           lambda f, h, s: ["model", "propose", "--proposer", ALICE, "--file", f,
                            "--home", h],
           _text(MODEL_TOML), "toml", ("units_of_compute_per_token",), True),
    Target("apply", lambda f, h, s: ["apply", f, "--home", h],
           _json(APPLY_LINE), "ndjson", ("body", "units_of_compute_per_token"), True),
    Target("genesis-init-config",
           lambda f, h, s: ["genesis", "init", "--chain-id", "hostile", "--genesis-time",
                            "2025-01-01T00:00:00Z", "--config", f, "--home", h],
           _text(INIT_TOML), "toml", ("epoch_length",), True),
]
BY_NAME = {t.name: t for t in TARGETS}


def _suffix(target: Target) -> str:
    return {"json": ".json", "ndjson": ".ndjson", "toml": ".toml"}[target.form]


# ----- the broken inputs -------------------------------------------------------------


def _set(value: object, key: tuple[str | int, ...], new: object) -> object:
    node = value
    for part in key[:-1]:
        node = node[part]
    node[key[-1]] = new
    return value


def _with_number(target: Target, literal: str) -> bytes:
    """Return the valid file with its integer field replaced by `literal` text."""
    if target.form == "toml":
        name = target.number_key[-1]
        text = target.valid().decode()
        start = text.index(f"{name} = ")
        end = text.index("\n", start)
        return (text[:start] + f"{name} = {literal}" + text[end:]).encode()
    marker = "__NUMBER__"
    value = _set(json.loads(target.valid()), target.number_key, marker)
    return json.dumps(value).replace(f'"{marker}"', literal).encode()


def _duplicate_key(target: Target) -> bytes:
    text = target.valid().decode()
    if target.form == "toml":
        line = next(x for x in text.splitlines() if " = " in x)
        return (text + line + "\n").encode()
    brace = text.index("{")
    end = text.index('"', text.index('"', brace) + 1)
    first_key = text[brace + 1:end + 1]
    return (text[:brace + 1] + f"{first_key}: null, " + text[brace + 1:]).encode()


def _invalid_utf8(target: Target) -> bytes:
    data = target.valid()
    if target.form == "toml":
        return b'# \xff\xfe\xc3\x28\n' + data
    quote = data.index(b'"') + 1
    return data[:quote] + b"\xff\xfe\xc3\x28" + data[quote:]


def _deep(target: Target) -> bytes:
    return _with_number(target, "[" * DEEP + "]" * DEEP)


CASES: dict[str, Callable[[Target], bytes | None]] = {
    "missing-file": lambda t: None,
    "directory": lambda t: None,
    "empty-file": lambda t: b"",
    "invalid-utf8": _invalid_utf8,
    "duplicate-keys": _duplicate_key,
    "integer-over-64-bits": lambda t: _with_number(t, str(BIG)),
    "float-for-integer": lambda t: _with_number(t, "1.5"),
    "nested-100000-deep": _deep,
}


@pytest.fixture
def scratch(tmp_path) -> Path:
    """A directory with the side files some commands need."""
    (tmp_path / "overrides.json").write_text('{"app_state": {}}')
    (tmp_path / "genparticipants").mkdir()
    shutil.copy(GENPARTICIPANT, tmp_path / "genparticipants")
    return tmp_path


def _place(target: Target, case: str, scratch: Path) -> str:
    """Write the broken input of `case` for `target`; return its path.

    A target that reads a directory of files gets, for the first two cases, a
    missing directory and a file where the directory belongs.
    """
    folder = scratch / "input"
    folder.mkdir()
    path = folder / f"genparticipant-hostile{_suffix(target)}"
    if target.dir_file and case == "missing-file":
        return str(scratch / "no-such-dir" / path.name)
    if target.dir_file and case == "directory":
        blocker = scratch / "a-file"
        blocker.write_bytes(b"{}")
        return str(blocker / path.name)
    if case == "directory":
        path.mkdir()
    elif case != "missing-file":
        path.write_bytes(CASES[case](target))
    return str(path)


def _check_failure(outcome: Outcome) -> None:
    assert outcome.exit_code not in (0, None), outcome.stdout[:300]
    # Usage errors keep click's own "Error:" line (exit 2).
    error_lines = [line for line in outcome.stderr.splitlines()
                   if line.lower().startswith("error:")]
    assert len(error_lines) == 1, outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert "internal error" not in outcome.stderr  # the last-resort handler: a bug


NUMBER_CASES = ("integer-over-64-bits", "float-for-integer")
PATCH_READS_NO_VALUES = ("patch merges JSON without reading the values; "
                         "`genesis validate` rejects the result")
# Cases where success is the right outcome, and why. Every other case must fail.
SUCCEEDS = {
    ("apply", "empty-file"): "an empty file is a batch of no transactions",
    ("genesis-init-config", "empty-file"): "an empty TOML document sets nothing",
    **{("genesis-patch", c): PATCH_READS_NO_VALUES for c in NUMBER_CASES},
    **{("genesis-patch-overrides", c): PATCH_READS_NO_VALUES for c in NUMBER_CASES},
    **{("genesis-collect-input", c): "collect changes participants and grants "
       "only; it does not read the params" for c in NUMBER_CASES},
    **{("genesis-diff", c): "diff reports the value it cannot decode and "
       "compares it as JSON (exit 1: the files differ)" for c in NUMBER_CASES},
}


def _home(target: Target, mainnet_home: str, scratch: Path) -> str:
    if target.name == "genesis-import" or target.name == "genesis-init-config":
        return str(scratch / "new-home")
    return mainnet_home


@pytest.mark.parametrize("name", sorted(n for n in BY_NAME if "collect" not in n))
def test_valid_input_passes(mainnet_home, scratch, name):
    # The broken inputs below are only meaningful if the valid one passes.
    # (genesis collect needs a draft genesis and a signed set of the same ceremony;
    # tests/test_ceremony.py covers its valid inputs.)
    target = BY_NAME[name]
    path = scratch / f"valid{_suffix(target)}"
    path.write_bytes(target.valid())
    home = _home(target, mainnet_home, scratch)
    outcome = run_cli(*target.argv(str(path), home, scratch))
    assert outcome.exit_code in (0, 1), outcome.stderr  # diff exits 1 on differences
    assert "Traceback" not in outcome.stderr


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_broken_input(mainnet_home, scratch, name, case):
    target = BY_NAME[name]
    path = _place(target, case, scratch)
    home = _home(target, mainnet_home, scratch)
    before = tree_digest(mainnet_home)
    outcome = run_cli(*target.argv(path, home, scratch))
    assert "Traceback" not in outcome.stderr
    assert "internal error" not in outcome.stderr
    assert tree_digest(mainnet_home) == before
    if (name, case) in SUCCEEDS:
        assert outcome.exit_code in (0, 1), outcome.stderr
        return
    _check_failure(outcome)
    assert not (scratch / "new-home").exists()
    assert not (scratch / "out.json").exists()


# ----- --home problems ---------------------------------------------------------------

WRITERS = sorted(t.name for t in TARGETS if t.home)


@pytest.mark.parametrize("name", WRITERS)
def test_home_is_a_file(scratch, name):
    target = BY_NAME[name]
    path = scratch / f"valid{_suffix(target)}"
    path.write_bytes(target.valid())
    home = scratch / "home-file"
    home.write_bytes(b"not a ledger")
    outcome = run_cli(*target.argv(str(path), str(home), scratch))
    _check_failure(outcome)
    assert home.read_bytes() == b"not a ledger"


def _read_only_prefix() -> list[str]:
    """Return a command prefix under which the current user cannot bypass modes."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file modes do not stop root")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner",
            "--inh-caps=-all", "--"]


def _make_read_only(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _make_writable(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


@pytest.mark.parametrize("name", [n for n in WRITERS if n not in (
    "genesis-import", "genesis-init-config")])
def test_read_only_home(mainnet_home, scratch, name):
    target = BY_NAME[name]
    prefix = _read_only_prefix()
    path = scratch / f"valid{_suffix(target)}"
    path.write_bytes(target.valid())
    before = tree_digest(mainnet_home)
    _make_read_only(Path(mainnet_home))
    try:
        done = subprocess.run([*prefix, sys.executable, "-m", "inferctl",
                               *target.argv(str(path), mainnet_home, scratch)],
                              cwd=REPO, capture_output=True, text=True, timeout=60)
    finally:
        _make_writable(Path(mainnet_home))
    _check_failure(Outcome(done.returncode, done.stdout, done.stderr))
    assert done.returncode == 8, done.stderr
    assert tree_digest(mainnet_home) == before


@pytest.mark.parametrize("name", ["genesis-import", "genesis-init-config"])
def test_read_only_parent(scratch, name):
    target = BY_NAME[name]
    prefix = _read_only_prefix()
    path = scratch / f"valid{_suffix(target)}"
    path.write_bytes(target.valid())
    parent = scratch / "locked"
    parent.mkdir()
    _make_read_only(parent)
    try:
        done = subprocess.run([*prefix, sys.executable, "-m", "inferctl",
                               *target.argv(str(path), str(parent / "home"), scratch)],
                              cwd=REPO, capture_output=True, text=True, timeout=60)
    finally:
        _make_writable(parent)
    _check_failure(Outcome(done.returncode, done.stdout, done.stderr))
    assert list(parent.iterdir()) == []


# ----- a 100 MB file -----------------------------------------------------------------

HUGE_BYTES = 100 * 1024 * 1024
MAX_RSS_KIB = 400 * 1024  # the 64 MiB read limit plus the interpreter, with room


@pytest.fixture(scope="module")
def huge_file(tmp_path_factory) -> Path:
    """A 100 MB JSON document: one long string in an object (valid JSON)."""
    path = tmp_path_factory.mktemp("huge") / "huge.json"
    chunk = b"a" * (1024 * 1024)
    with open(path, "wb") as handle:
        handle.write(b'{"x": "')
        for _ in range(100):
            handle.write(chunk)
        handle.write(b'"}')
    return path


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_huge_file(mainnet_home, scratch, huge_file, name):
    target = BY_NAME[name]
    folder = scratch / "input"
    folder.mkdir()
    path = folder / f"genparticipant-huge{_suffix(target)}"
    os.link(huge_file, path)
    home = _home(target, mainnet_home, scratch)
    before = tree_digest(mainnet_home)
    code = ("import resource, subprocess, sys; "
            "p = subprocess.run([sys.executable, '-m', 'inferctl'] + sys.argv[1:], "
            "capture_output=True, text=True); "
            "sys.stderr.write(p.stderr); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
            "sys.exit(p.returncode)")
    done = subprocess.run([sys.executable, "-c", code,
                           *target.argv(str(path), home, scratch)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    peak_kib = int(done.stdout.strip().splitlines()[-1])
    _check_failure(Outcome(done.returncode, "", done.stderr))
    assert peak_kib < MAX_RSS_KIB
    assert tree_digest(mainnet_home) == before
    assert not (scratch / "out.json").exists()


# ----- ids are never paths, and no code runs from the state directory ---------------

LAYOUT = {"LEDGER", "lock", "lock.json", "snapshot.json", "segments", "documents"}
HOSTILE_IDS = ["../../escape", "a/../../b", "/abs/path", "..", "x/./y", "nul\\x"]


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_ids_are_not_paths(mainnet_home):
    home = Path(mainnet_home)
    outside = _files(home.parent)
    for hostile in HOSTILE_IDS:
        model = run_cli("model", "register", "--authority", GOV, "--proposed-by", ALICE,
                        "--id", hostile, "--home", mainnet_home)
        assert model.exit_code == 0, model.stderr
        node = run_cli("node", "register", "--participant",
                       "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le", "--id", hostile,
                       "--host", "10.0.0.1", "--inference-port", "5000", "--poc-port",
                       "8080", "--max-concurrent", "1", "--model", "Qwen/QwQ-32B",
                       "--home", mainnet_home)
        assert node.exit_code == 0, node.stderr
    assert {p.name for p in home.iterdir()} <= LAYOUT
    assert [p.name for p in (home / "segments").iterdir()] == ["000000000001.jsonl"]
    assert len(list((home / "documents").iterdir())) == 1
    assert _files(home.parent) - outside <= {f"mainnet-home/{n}" for n in LAYOUT}
    assert run_cli("ledger", "verify", "--home", mainnet_home).exit_code == 0


PLANTED = "import pathlib; pathlib.Path({marker!r}).write_text('ran')\n"


def test_state_dir_code_not_run(mainnet_home, tmp_path):
    entry = shutil.which("inferctl", path=os.path.dirname(sys.executable))
    if entry is None:
        pytest.skip("the inferctl console script is not installed in this environment")
    home = Path(mainnet_home)
    marker = tmp_path / "ran"
    for name in ("sitecustomize.py", "usercustomize.py", "click.py", "orjson.py",
                 "snapshot.py", "documents/evil.py"):
        (home / name).write_text(PLANTED.format(marker=str(marker)))
    (home / "inferctl").mkdir()
    (home / "inferctl" / "__init__.py").write_text(PLANTED.format(marker=str(marker)))
    for args in (["model", "list"], ["ledger", "verify"], ["participant", "join",
                 bech32.test_address("zed", "gonka"), "--url", "http://z.example.com:1"]):
        done = subprocess.run([entry, *args, "--home", "."], cwd=home,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    assert not marker.exists()
