"""Every command's --help: a one-line summary, option defaults, and examples that work.

The command tree is walked through the lazy groups, so a new command is checked as
soon as it is registered. Each example line is parsed by click. Then each command's
examples run together in bash, against a ledger imported from the mainnet genesis,
after the setup they need.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from conftest import MAINNET_GENESIS, REPO, invoke
from inferctl.cli.main import cli

BIN_DIR = str(Path(sys.executable).parent)
MAINNET_ADDRESS = "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le"


UNLOADABLE: list[str] = []


def walk(command: click.Command, path: tuple[str, ...], ctx: click.Context):
    """Yield (path, command) for `command` and every subcommand, loading lazy ones.

    Names that a group lists but cannot load go to UNLOADABLE.
    """
    yield path, command
    if not isinstance(command, click.Group):
        return
    for name in command.list_commands(ctx):
        sub = command.get_command(ctx, name)
        if sub is None:
            UNLOADABLE.append(" ".join((*path, name)))
            continue
        yield from walk(sub, (*path, name), click.Context(sub, parent=ctx, info_name=name))


COMMANDS = list(walk(cli, ("inferctl",), click.Context(cli, info_name="inferctl")))
IDS = [" ".join(path) for path, _ in COMMANDS]


def example_lines(help_text: str) -> list[str]:
    """Return the command lines of the Example(s) blocks, continuations joined."""
    lines = help_text.splitlines()
    found: list[str] = []
    index = 0
    while index < len(lines):
        if re.fullmatch(r"\s*Examples?:\s*", lines[index]):
            index += 1
            current = ""
            while index < len(lines) and lines[index].strip():
                current += lines[index].strip()
                if current.endswith("\\"):
                    current = current[:-1] + " "
                else:
                    found.append(current)
                    current = ""
                index += 1
        index += 1
    return found


EXAMPLES = [
    (" ".join(path), line)
    for path, command in COMMANDS
    for line in example_lines(command.help or "")
]


# ----- summaries, examples and option help ------------------------------------------


def test_every_listed_command_loads():
    assert UNLOADABLE == []


def test_tree_has_every_family():
    top = {path[1] for path, _ in COMMANDS if len(path) > 1}
    assert {"genesis", "ledger", "model", "node", "epoch", "completion"} <= top


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_one_line_summary(path, command):
    summary = (command.help or "").strip().splitlines()[0] if command.help else ""
    assert summary, f"{' '.join(path)} has no help text"
    assert summary.endswith("."), f"{' '.join(path)}: summary {summary!r} is no sentence"
    assert len(summary) <= 88, f"{' '.join(path)}: summary is {len(summary)} characters"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_example_section(path, command):
    assert example_lines(command.help or ""), f"{' '.join(path)} has no Example section"


def _options(command: click.Command) -> list[click.Option]:
    return [p for p in command.params
            if isinstance(p, click.Option) and p.name != "help"]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_options_have_help(path, command):
    missing = [p.opts[-1] for p in _options(command) if not p.help]
    assert missing == [], f"{' '.join(path)}: options without help"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_options_state_default(path, command):
    vague = []
    for option in _options(command):
        if option.is_flag or option.required or option.show_default:
            continue
        text = (option.help or "").lower()
        if "default" not in text and "required" not in text:
            vague.append(option.opts[-1])
    assert vague == [], f"{' '.join(path)}: options whose help gives no default"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_numeric_options_name_unit(path, command):
    numeric = (click.types.IntParamType, click.types.FloatParamType)
    bare = [
        option.opts[-1] for option in _options(command)
        if isinstance(option.type, numeric) and not (option.is_flag or option.count)
        if not option.metavar
    ]
    assert bare == [], f"{' '.join(path)}: numeric options without a unit metavar"


# ----- examples parse -----------------------------------------------------------------


def inferctl_segments(line: str) -> list[list[str]]:
    """Split an example into the argument lists of its `inferctl` commands.

    `"$(inferctl address NAME)"` becomes the address, so call it before any
    callback is replaced.
    """
    line = re.sub(r'"\$\(inferctl address (\w+)\)"', lambda m: _address(m[1]), line)
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    segments: list[list[str]] = [[]]
    for token in lexer:
        if token in ("&&", "||", "|", ";"):
            segments.append([])
        else:
            segments[-1].append(token)
    commands = []
    for tokens in segments:
        if ">" in tokens:
            tokens = tokens[: tokens.index(">")]
        if tokens and tokens[0] == "inferctl":
            commands.append(tokens[1:])
    return commands


def _address(name: str) -> str:
    outcome = invoke("address", name)
    assert outcome.exit_code == 0, outcome.stderr
    return outcome.stdout.strip()


@pytest.fixture
def parse_only(monkeypatch):
    """Replace every leaf command's callback so that invoking only parses."""
    called: list[str] = []
    for path, command in COMMANDS:
        if not isinstance(command, click.Group) and command.callback is not None:
            name = " ".join(path)
            monkeypatch.setattr(command, "callback",
                                lambda *a, _name=name, **k: called.append(_name))
    return called


@pytest.mark.parametrize(("owner", "line"), EXAMPLES,
                         ids=[f"{o}: {line[:50]}" for o, line in EXAMPLES])
def test_example_parses(owner, line, request):
    segments = inferctl_segments(line)
    parse_only = request.getfixturevalue("parse_only")
    for args in segments:
        parse_only.clear()
        outcome = invoke(*args)
        assert outcome.exit_code == 0, f"{line!r}: {outcome.stderr}"
        assert len(parse_only) == 1, f"{line!r} runs no command"


# ----- examples run -------------------------------------------------------------------

VOTE_SETUP = (f"inferctl model propose --proposer {MAINNET_ADDRESS} --id Qwen/Qwen3-8B "
              "--time 2025-09-01T00:00:00Z")
NODE_SETUP = (f"inferctl node register --participant {MAINNET_ADDRESS} --id node1 "
              "--host 10.0.0.5 --inference-port 5000 --poc-port 8080 "
              "--max-concurrent 500 --model Qwen/Qwen2.5-7B-Instruct")
QWQ_NODE_SETUP = (f"inferctl node register --participant {MAINNET_ADDRESS} --id qwq "
                  "--host 10.0.0.6 --inference-port 5000 --poc-port 8080 "
                  "--max-concurrent 500 --model Qwen/QwQ-32B")
POC_SETUP = f"inferctl poc submit {MAINNET_ADDRESS} --weight 100"
# Through the switch to epoch 1, and one block on, after which picks use every member.
EPOCH_SETUP = [QWQ_NODE_SETUP, POC_SETUP, "inferctl chain advance --to next-epoch",
               "inferctl chain advance --blocks 1"]

# What each command's examples need before they run, on top of the mainnet ledger.
SETUP: dict[str, list[str]] = {
    "inferctl": [],
    "inferctl proposal vote": [VOTE_SETUP],
    "inferctl proposal tally": [
        VOTE_SETUP,
        f"inferctl proposal vote 1 yes --voter {MAINNET_ADDRESS} "
        "--time 2025-09-01T01:00:00Z",
    ],
    "inferctl proposal show": [VOTE_SETUP],
    "inferctl proposal": [VOTE_SETUP],
    "inferctl node show": [NODE_SETUP],
    "inferctl node enable": [NODE_SETUP],
    "inferctl node disable": [NODE_SETUP],
    "inferctl node remove": [NODE_SETUP],
    "inferctl participant models": [NODE_SETUP],
    "inferctl epoch form": [POC_SETUP],
    "inferctl epoch activate": [POC_SETUP, "inferctl epoch form --at-any-height"],
    "inferctl epoch show": [POC_SETUP, "inferctl chain advance --to next-epoch"],
    "inferctl executor": EPOCH_SETUP,
    "inferctl executor pick": EPOCH_SETUP,
    "inferctl executor list": EPOCH_SETUP,
}
# Commands whose examples start a ledger, so they run without one.
NO_LEDGER = {"inferctl", "inferctl genesis init", "inferctl genesis import",
             "inferctl genesis"}
# Examples that cannot run here: a server that runs until stopped, other shells.
NOT_RUN = ("inferctl serve ", "completion zsh", "completion fish")
# `genesis diff` exits 1 when the files differ, which its example may show.
ALLOWED_EXIT = {"inferctl genesis diff": {0, 1}}


@pytest.fixture(scope="module")
def mainnet_state(tmp_path_factory) -> Path:
    """A ledger imported from the mainnet genesis, to copy for each example."""
    home = tmp_path_factory.mktemp("help-mainnet") / "state"
    outcome = invoke("genesis", "import", str(MAINNET_GENESIS), "--home", str(home))
    assert outcome.exit_code == 0, outcome.stderr
    return home


def _workdir(tmp_path: Path, owner: str, state: Path) -> Path:
    """Return a directory like a fresh clone: samples/, plus ./state unless the
    examples create it."""
    shutil.copytree(REPO / "samples", tmp_path / "samples")
    if owner not in NO_LEDGER:
        shutil.copytree(state, tmp_path / "state")
    return tmp_path


def _run_bash(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "INFERCTL_HOME"}
    env["PATH"] = BIN_DIR + os.pathsep + env.get("PATH", "")
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=120)


def _runnable_sections() -> list[tuple[str, list[str]]]:
    sections: dict[str, list[str]] = {}
    for owner, line in EXAMPLES:
        if not any(marker in line + " " for marker in NOT_RUN):
            sections.setdefault(owner, []).append(line)
    return list(sections.items())


RUNNABLE = _runnable_sections()


@pytest.mark.parametrize(("owner", "lines"), RUNNABLE, ids=[o for o, _ in RUNNABLE])
def test_examples_run(owner, lines, tmp_path, mainnet_state):
    """Run a command's examples in order, as a reader pastes the whole block."""
    cwd = _workdir(tmp_path, owner, mainnet_state)
    script = "\n".join([*SETUP.get(owner, []), *lines])
    result = _run_bash(script, cwd)
    allowed = ALLOWED_EXIT.get(owner, {0})
    assert result.returncode in allowed, (
        f"{owner} examples exited {result.returncode}: {result.stderr[-2000:]}")
    assert "Traceback" not in result.stderr


def test_only_listed_examples_skip():
    run = {line for _owner, lines in RUNNABLE for line in lines}
    skipped = [line for _owner, line in EXAMPLES if line not in run]
    assert all("serve" in line or "completion" in line for line in skipped)
