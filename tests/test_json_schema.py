"""Every command's --json output matches docs/json.md, both ways.

The doc's tables are parsed into a schema. Each command runs with --json on a ledger
built by samples/local-testnet.sh plus a few extra transactions, and its output is
checked against its table: no undocumented field, no missing field, no wrong type.
Across all runs every documented field must appear at least once, so a field that
no command prints any more fails too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click
import orjson
import pytest

from conftest import REPO, invoke
from inferctl.cli.main import cli

DOC = REPO / "docs" / "json.md"
BIN_DIR = str(Path(sys.executable).parent)
PRIMITIVES = {"string": str, "boolean": bool}


@dataclass
class Row:
    path: str
    type: str
    optional: bool


@dataclass
class Schema:
    commands: dict[str, dict[str, Row]] = field(default_factory=dict)
    types: dict[str, dict[str, Row]] = field(default_factory=dict)


def parse_doc(text: str) -> Schema:
    """Read the field tables under `## Commands` and `## Types`."""
    schema = Schema()
    part: dict[str, dict[str, Row]] | None = None
    table: dict[str, Row] | None = None
    for line in text.splitlines():
        if line.startswith("## "):
            part = {"## Commands": schema.commands,
                    "## Types": schema.types}.get(line.strip())
            table = None
        elif line.startswith("### ") and part is not None:
            name = line[4:].strip().strip("`").removeprefix("inferctl ").strip()
            table = part.setdefault(name, {})
        elif line.startswith("| `") and table is not None:
            row = _parse_row(line)
            table[row.path] = row
    return schema


def _parse_row(line: str) -> Row:
    cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
    path = cells[0].strip("`")
    optional = "*(optional)*" in cells[1]
    return Row(path, cells[1].replace("*(optional)*", "").strip(), optional)


def parent_of(path: str) -> str:
    """Return the path of the object that contains the field at `path`."""
    return path.rsplit(".", 1)[0] if "." in path else ""


def name_of(path: str) -> str:
    return path.rsplit(".", 1)[-1]


class Checker:
    """Check JSON values against the schema, remembering which rows matched."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.seen: set[tuple[str, str]] = set()

    def check_command(self, command: str, value: object) -> list[str]:
        if not isinstance(value, dict) or next(iter(value), None) != "schema_version":
            return ["output does not start with schema_version"]
        if value["schema_version"] != 1:
            return [f"schema_version is {value['schema_version']!r}"]
        rest = {k: v for k, v in value.items() if k != "schema_version"}
        errors, seen = self._object(rest, command, self.schema.commands[command], "")
        self.seen |= seen
        return errors

    def _value(self, value, texpr, table_name, table, path):
        attempts = []
        for alternative in texpr.split(" or "):
            errors, seen = self._alternative(value, alternative.strip(), table_name,
                                             table, path)
            if not errors:
                return [], seen
            attempts.append(errors)
        return min(attempts, key=len), set()

    def _alternative(self, value, texpr, table_name, table, path):
        where = f"{table_name}: {path or '(top)'}"
        if texpr == "any":
            return [], set()
        if texpr == "null":
            return ([] if value is None else [f"{where}: {value!r} is not null"]), set()
        if texpr == "integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
            return ([] if ok else [f"{where}: {value!r} is not an integer"]), set()
        if texpr in PRIMITIVES:
            ok = isinstance(value, PRIMITIVES[texpr])
            return ([] if ok else [f"{where}: {value!r} is not a {texpr}"]), set()
        if texpr.startswith(("array of ", "map of ")):
            return self._collection(value, texpr, table_name, table, path, where)
        if texpr == "object":
            if not isinstance(value, dict):
                return [f"{where}: {value!r} is not an object"], set()
            return self._object(value, table_name, table, path)
        if texpr in self.schema.types:
            if not isinstance(value, dict):
                return [f"{where}: {value!r} is not a {texpr}"], set()
            return self._object(value, texpr, self.schema.types[texpr], "")
        return [f"{where}: the doc uses unknown type {texpr!r}"], set()

    def _collection(self, value, texpr, table_name, table, path, where):
        is_array = texpr.startswith("array of ")
        item_type = texpr.split(" of ", 1)[1]
        if not isinstance(value, list if is_array else dict):
            return [f"{where}: {value!r} is not an {texpr.split()[0]}"], set()
        item_path = f"{path}[]" if is_array else f"{path}.*"
        errors: list[str] = []
        seen: set[tuple[str, str]] = set()
        for item in value if is_array else value.values():
            item_errors, item_seen = self._value(item, item_type, table_name, table,
                                                 item_path)
            errors += item_errors
            seen |= item_seen
        return errors, seen

    def _object(self, value, table_name, table, path):
        children = {name_of(p): row for p, row in table.items() if parent_of(p) == path}
        where = f"{table_name}: {path or '(top)'}"
        if not children:
            return [f"{where}: object without documented fields"], set()
        errors: list[str] = []
        seen: set[tuple[str, str]] = set()
        for key, item in value.items():
            row = children.get(key)
            if row is None:
                errors.append(f"{where}: field {key!r} is not documented")
                continue
            item_errors, item_seen = self._value(item, row.type, table_name, table,
                                                 row.path)
            errors += item_errors
            seen |= item_seen | {(table_name, row.path)}
        for key, row in children.items():
            if key not in value and not row.optional:
                errors.append(f"{where}: documented field {key!r} is missing")
        return errors, seen


SCHEMA = parse_doc(DOC.read_text(encoding="utf-8"))

ALICE = "gonka190vqdjtlpcq27xslcveglfmr4ynfwg7gswlfh3"  # bech32 of sha256("alice")[:20]
CAROL = "gonka1fsndjp6vylvfahjeyuxq4s2tw8s8rv2jjna3kn"  # bech32 of sha256("carol")[:20]
MAINNET = str(REPO / "samples" / "mainnet-genesis.json")
CEREMONY = REPO / "samples" / "ceremony"
DRAFT_OVERRIDES = str(CEREMONY / "draft-overrides.json")
GENPARTICIPANTS = str(CEREMONY / "genparticipants")
GENTXS = str(CEREMONY / "gentxs")

# Command (as headed in the doc) -> argument lists to run it with, on the testnet.
RUNS: dict[str, list[list[str]]] = {
    "status": [["status"]],
    "ledger verify": [["ledger", "verify"], ["ledger", "verify", "--replay"]],
    "ledger log": [["ledger", "log", "--limit", "0"]],
    "ledger show": [["ledger", "show", "2"]],
    "model list": [["model", "list"]],
    "model show": [["model", "show", "Qwen/QwQ-32B"]],
    "proposal list": [["proposal", "list"]],
    "proposal show": [["proposal", "show", "1"], ["proposal", "show", "2"]],
    "participant list": [["participant", "list"]],
    "participant show": [["participant", "show", ALICE]],
    "participant models": [["participant", "models", CAROL]],
    "node list": [["node", "list"]],
    "node show": [["node", "show", "carol-qwq", "--participant", CAROL]],
    "poc list": [["poc", "list", "--epoch", "1"]],
    "epoch list": [["epoch", "list"]],
    "epoch show": [["epoch", "show", "1"], ["epoch", "show", "0"]],
    "executor pick": [["executor", "pick", "--model", "Qwen/QwQ-32B", "--seed", "1",
                       "--count", "2"]],
    "executor list": [["executor", "list", "--model", "Qwen/QwQ-32B"]],
    "address": [["address", "alice"]],
    "validator-key": [["validator-key", "alice"]],
    "genesis validate": [["genesis", "validate", MAINNET]],
    "genesis diff": [["genesis", "diff", MAINNET, "{home}/exported-genesis.json"]],
    "genesis hash": [["genesis", "hash", MAINNET]],
    "epoch context": [["epoch", "context"], ["epoch", "context", "--height", "20"]],
    "genesis patch": [["genesis", "patch", MAINNET, "--overrides", DRAFT_OVERRIDES,
                       "--overrides", "{root}/no-accounts.json",
                       "-o", "{root}/draft.json"]],
    "genesis collect": [["genesis", "collect", "--genparticipant-dir", GENPARTICIPANTS,
                         "--gentx-dir", GENTXS, "-i", "{root}/draft.json",
                         "-o", "{root}/collected.json"]],
}
# Ledger-less commands take no --home.
NO_HOME = {"address", "validator-key", "genesis validate", "genesis diff",
           "genesis hash", "genesis patch", "genesis collect"}
RUN_IDS = [(name, args) for name, variants in RUNS.items() for args in variants]

RAW_HARDWARE_DIFF = orjson.dumps({
    "type": "/inference.inference.MsgSubmitHardwareDiff",
    "body": {"creator": ALICE, "removed": [], "newOrModified": [
        {"local_id": "raw-1", "status": "INFERENCE", "models": [],
         "hardware": [], "host": "10.9.9.9", "port": "8080"}]},
}).decode()


def _bash(script: str, cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "INFERCTL_HOME"}
    env["PATH"] = BIN_DIR + os.pathsep + env.get("PATH", "")
    result = subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def testnet(tmp_path_factory) -> str:
    """The local testnet, plus a proposal in its voting period and a raw node."""
    root = tmp_path_factory.mktemp("json")
    home = root / "state"
    _bash(f"bash {REPO / 'samples' / 'local-testnet.sh'} {home}", root)
    (root / "raw.jsonl").write_text(RAW_HARDWARE_DIFF + "\n")
    # Without accounts, collecting creates one for each grantee.
    (root / "no-accounts.json").write_text('{"app_state": {"auth": {"accounts": []}}}')
    _bash(f"inferctl model propose --proposer {ALICE} --id Extra/Model "
          f"--home {home}\ninferctl apply raw.jsonl --home {home}", root)
    return str(home)


def run_json(name: str, args: list[str], home: str) -> object:
    """Run one command with --json; {home} and {root} name the testnet's directories."""
    root = str(Path(home).parent)
    full = [arg.replace("{home}", home).replace("{root}", root) for arg in args]
    full.append("--json")
    if name not in NO_HOME:
        full += ["--home", home]
    outcome = invoke(*full)
    assert outcome.exception is None, outcome.exception
    assert outcome.exit_code in (0, 1), outcome.stderr
    return orjson.loads(outcome.stdout)


@pytest.fixture(scope="module")
def outputs(testnet) -> dict[tuple[str, int], object]:
    """Parsed --json output of every run, keyed by (command, variant number)."""
    found = {}
    for name, variants in RUNS.items():
        for number, args in enumerate(variants):
            found[(name, number)] = run_json(name, args, testnet)
    return found


# ----- the doc itself ---------------------------------------------------------------


def test_doc_parses():
    assert "model list" in SCHEMA.commands
    assert "Model" in SCHEMA.types


def _json_commands() -> list[tuple[str, bool]]:
    """Return (name, writes) for every command that takes --json."""
    found = []

    def walk(command: click.Command, path: tuple[str, ...], ctx: click.Context):
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None:
                    walk(sub, (*path, name), click.Context(sub, parent=ctx))
            return
        names = {param.name for param in command.params}
        if "as_json" in names:
            found.append((" ".join(path), "lock_timeout" in names))

    walk(cli, (), click.Context(cli))
    return found


def test_every_read_command_documented():
    reads = [name for name, writes in _json_commands() if not writes]
    assert [name for name in reads if name not in SCHEMA.commands] == []


def test_every_documented_command_runs():
    assert [name for name in SCHEMA.commands if name not in RUNS] == []


def test_rows_have_known_types():
    known = {"any", "null", "integer", "object", *PRIMITIVES, *SCHEMA.types}
    unknown = []
    for table in [*SCHEMA.commands.values(), *SCHEMA.types.values()]:
        for row in table.values():
            for alternative in row.type.split(" or "):
                base = re.sub(r"^(array|map) of ", "", alternative.strip())
                if base not in known:
                    unknown.append((row.path, row.type))
    assert unknown == []


# ----- outputs against the doc ------------------------------------------------------


@pytest.mark.parametrize(("name", "args"), RUN_IDS,
                         ids=[" ".join(args) for _name, args in RUN_IDS])
def test_output_matches_doc(name, args, outputs):
    number = RUNS[name].index(args)
    assert Checker(SCHEMA).check_command(name, outputs[(name, number)]) == []


def test_every_documented_field_appears(outputs, status_with_holder):
    checker = Checker(SCHEMA)
    for (name, _number), value in outputs.items():
        checker.check_command(name, value)
    checker.check_command("status", status_with_holder)
    documented = {(table_name, path)
                  for part in (SCHEMA.commands, SCHEMA.types)
                  for table_name, table in part.items()
                  for path in table}
    assert sorted(documented - checker.seen) == []


@pytest.fixture(scope="module")
def status_with_holder(testnet, tmp_path_factory) -> object:
    """`status --json` while another writer holds the lock in the middle of a batch.

    The writer is killed there, so it works on a copy of the testnet.
    """
    home = str(tmp_path_factory.mktemp("held") / "state")
    shutil.copytree(testnet, home)
    env = {k: v for k, v in os.environ.items() if k != "INFERCTL_HOME"}
    env["INFERCTL_TEST_PAUSE_AT"] = "after-append"
    holder = subprocess.Popen(
        [sys.executable, "-m", "inferctl", "poc", "submit", ALICE, "--weight", "5",
         "--home", home], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        line = holder.stderr.readline() if holder.stderr else ""
        assert line.strip() == "paused at after-append", line
        return run_json("status", ["status"], home)
    finally:
        holder.kill()
        holder.communicate()


def test_status_with_holder_matches_doc(status_with_holder):
    assert Checker(SCHEMA).check_command("status", status_with_holder) == []


def test_checker_rejects_extra_field():
    value = {"schema_version": 1, "name": "a", "validator_key": "k", "extra": 1}
    errors = Checker(SCHEMA).check_command("validator-key", value)
    assert errors == ["validator-key: (top): field 'extra' is not documented"]


def test_checker_rejects_missing_field():
    value = {"schema_version": 1, "name": "a"}
    errors = Checker(SCHEMA).check_command("validator-key", value)
    assert errors == ["validator-key: (top): documented field 'validator_key' is missing"]


def test_checker_rejects_wrong_type():
    value = {"schema_version": 1, "name": "a", "validator_key": 7}
    errors = Checker(SCHEMA).check_command("validator-key", value)
    assert errors == ["validator-key: validator_key: 7 is not a string"]
