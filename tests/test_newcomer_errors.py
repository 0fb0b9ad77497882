"""The mistakes a newcomer makes first, and errors that point to the fix.

Each test makes one mistake the way a first-time user would, then checks the exit
code, that the message names the bad value, and that it names the fix.
The last section covers terminal output: the coloured `error:` prefix, NO_COLOR,
-q and the pager.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, run_process

SAMPLES = REPO / "samples"
GENTX = next((SAMPLES / "ceremony" / "gentxs").glob("gentx-*.json"))
ALICE = "gonka190vqdjtlpcq27xslcveglfmr4ynfwg7gswlfh3"  # bech32 of sha256("alice")[:20]


@pytest.fixture
def testnet(tmp_path, run) -> str:
    """A ledger from samples/testnet.toml: alice, bob, carol and one model."""
    home = str(tmp_path / "testnet")
    outcome = run("genesis", "init", "--chain-id", "newcomer", "--genesis-time",
                  "2025-01-01T00:00:00Z", "--config", str(SAMPLES / "testnet.toml"),
                  "--home", home)
    assert outcome.exit_code == 0, outcome.stderr
    return home


# ----- the ten most likely mistakes --------------------------------------------------


def test_no_ledger_at_home(run, tmp_path):
    outcome = run("model", "list", "--home", str(tmp_path / "missing"))
    assert outcome.exit_code == 4
    assert f"no ledger at {tmp_path / 'missing'}" in outcome.stderr
    assert "inferctl genesis init" in outcome.stderr
    assert "--home" in outcome.stderr


def test_unknown_model(run, testnet):
    outcome = run("model", "show", "Qwen/QwQ-32B", "--home", testnet)
    assert outcome.exit_code == 4
    assert "'Qwen/QwQ-32B' is not registered" in outcome.stderr
    assert "inferctl model list" in outcome.stderr


def test_model_id_in_other_case(run, testnet):
    outcome = run("executor", "list", "--model", "qwen/qwen2.5-7b-instruct",
                  "--home", testnet)
    assert outcome.exit_code == 4
    assert "case-sensitive" in outcome.stderr
    assert "inferctl model list" in outcome.stderr


def test_address_bad_checksum(run, testnet):
    typo = ALICE[:-1] + "4"
    outcome = run("model", "propose", "--proposer", typo, "--id", "Qwen/QwQ-32B",
                  "--home", testnet)
    assert outcome.exit_code == 3
    assert f"'{typo}': bad checksum" in outcome.stderr
    assert "mistyped character" in outcome.stderr


def test_name_instead_of_address(run, testnet):
    outcome = run("participant", "join", "alice", "--home", testnet)
    assert outcome.exit_code == 3
    assert "'alice'" in outcome.stderr
    assert "inferctl address NAME" in outcome.stderr


def test_tally_in_voting_period(run, testnet):
    proposed = run("model", "propose", "--proposer", ALICE, "--id", "Qwen/QwQ-32B",
                   "--time", "2025-01-01T00:00:00Z", "--home", testnet)
    assert proposed.exit_code == 0, proposed.stderr
    outcome = run("proposal", "tally", "1", "--time", "2025-01-01T00:00:10Z",
                  "--home", testnet)
    assert outcome.exit_code == 3
    # samples/testnet.toml sets a 30 s voting period.
    assert "ends at 2025-01-01T00:00:30" in outcome.stderr
    assert "pass --time 2025-01-01T00:00:30" in outcome.stderr


def test_pick_without_effective_epoch(run, testnet):
    outcome = run("executor", "pick", "--model", "Qwen/Qwen2.5-7B-Instruct",
                  "--home", testnet)
    assert outcome.exit_code in (4, 9)
    assert "effective epoch 0" in outcome.stderr
    assert ("inferctl chain advance" in outcome.stderr
            or "inferctl epoch form" in outcome.stderr)


def test_activate_before_form(run, testnet):
    outcome = run("epoch", "activate", "--home", testnet)
    assert outcome.exit_code == 7
    assert "epoch 1" in outcome.stderr
    assert "inferctl chain advance" in outcome.stderr


def _pause_writer(home: str) -> subprocess.Popen[str]:
    """Start a writer that stops after its append, holding the lock."""
    env = {k: v for k, v in os.environ.items() if k != "INFERCTL_HOME"}
    env["INFERCTL_TEST_PAUSE_AT"] = "after-append"
    proc = subprocess.Popen(
        [sys.executable, "-m", "inferctl", "poc", "submit", ALICE, "--weight", "1",
         "--home", home], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    line = proc.stderr.readline() if proc.stderr else ""
    assert line.strip() == "paused at after-append", line
    return proc


def test_lock_held_by_other_process(testnet):
    holder = _pause_writer(testnet)
    try:
        outcome = run_process("poc", "submit", ALICE, "--weight", "2", "--home",
                              testnet, "--lock-timeout", "0")
    finally:
        holder.kill()
        holder.communicate()
    assert outcome.returncode == 6
    assert f"pid {holder.pid}" in outcome.stderr
    assert "--lock-timeout" in outcome.stderr


def test_gentx_as_node_config(run, testnet):
    outcome = run("node", "register", "--participant", ALICE, "--file", str(GENTX),
                  "--home", testnet)
    assert outcome.exit_code == 3
    assert f"{GENTX} is a signed gentx file, not a node-config file" in outcome.stderr
    assert "inferctl genesis collect" in outcome.stderr


def test_node_config_as_genesis(run, tmp_path):
    home = tmp_path / "home"
    outcome = run("genesis", "import", str(SAMPLES / "node-config.json"),
                  "--home", str(home))
    assert outcome.exit_code == 3
    assert "is a node-config file, not a genesis file" in outcome.stderr
    assert "inferctl node register" in outcome.stderr
    assert not home.exists()


def test_typo_in_command(run):
    outcome = run("modle", "list")
    assert outcome.exit_code == 2
    assert "No such command 'modle'" in outcome.stderr
    assert "Did you mean 'model'" in outcome.stderr


def test_typo_in_lazy_subcommand(run):
    outcome = run("genesis", "inti")
    assert outcome.exit_code == 2
    assert "Did you mean 'init'" in outcome.stderr


def test_subcommand_without_group(run):
    outcome = run("init", "--chain-id", "x")
    assert outcome.exit_code == 2
    assert "Did you mean 'inferctl genesis init'" in outcome.stderr


def test_home_is_a_file(run, tmp_path):
    path = tmp_path / "state.json"
    path.write_text("{}")
    outcome = run("status", "--home", str(path))
    assert outcome.exit_code == 3
    assert f"--home {path} is a file" in outcome.stderr
    assert "pass a directory" in outcome.stderr


def test_init_twice(run, testnet):
    outcome = run("genesis", "init", "--chain-id", "again", "--home", testnet)
    assert outcome.exit_code == 7
    assert f"a ledger already exists at {testnet}" in outcome.stderr
    assert "use another --home" in outcome.stderr


def test_time_without_clock(run, testnet):
    outcome = run("poc", "submit", ALICE, "--weight", "1", "--time", "2025-01-02",
                  "--home", testnet)
    assert outcome.exit_code == 3
    assert "'2025-01-02': not RFC 3339" in outcome.stderr
    assert "write e.g. 2025-" in outcome.stderr


# ----- terminal output ---------------------------------------------------------------


def _on_terminal(args: list[str], env: dict[str, str]) -> tuple[int, bytes]:
    """Run inferctl with stdout and stderr on a pseudo-terminal; return code, output."""
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("INFERCTL_HOME", "NO_COLOR")}
    full_env.update(env)
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "inferctl", *args], stdin=follower,
                            stdout=follower, stderr=follower, env=full_env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return proc.wait(timeout=60), b"".join(chunks)


def test_error_prefix_red_on_terminal(tmp_path):
    code, output = _on_terminal(["status", "--home", str(tmp_path / "none")], {})
    assert code == 4
    assert b"\x1b[31m" in output
    assert b"error:" in output


def test_no_color_plain_prefix(tmp_path):
    code, output = _on_terminal(["status", "--home", str(tmp_path / "none")],
                                {"NO_COLOR": "1"})
    assert code == 4
    assert b"\x1b[" not in output
    assert output.startswith(b"error: no ledger")


def test_pipe_plain_prefix(tmp_path):
    outcome = run_process("status", "--home", str(tmp_path / "none"))
    assert outcome.returncode == 4
    assert outcome.stderr.startswith("error: no ledger")


def test_quiet_drops_notes(run, tmp_path):
    home = str(tmp_path / "quiet")
    outcome = run("-q", "genesis", "init", "--chain-id", "q", "--genesis-time",
                  "2025-01-01T00:00:00Z", "--home", home)
    assert outcome.exit_code == 0
    assert outcome.stderr == ""
    assert outcome.stdout.startswith("1 blake3:")


def test_quiet_keeps_errors(run, tmp_path):
    outcome = run("-q", "status", "--home", str(tmp_path / "none"))
    assert outcome.exit_code == 4
    assert outcome.stderr.startswith("error: no ledger")


def test_pager_on_terminal(testnet, tmp_path):
    paged = tmp_path / "paged.txt"
    code, _output = _on_terminal(["ledger", "log", "--home", testnet],
                                 {"PAGER": f"tee {paged}", "LINES": "1"})
    assert code == 0
    assert "/inferctl.v1.Genesis" in paged.read_text()


def test_no_pager_on_pipe(testnet, tmp_path):
    paged = tmp_path / "paged.txt"
    outcome = run_process("ledger", "log", "--home", testnet,
                          env={"PAGER": f"tee {paged}", "LINES": "1"})
    assert outcome.returncode == 0
    assert "/inferctl.v1.Genesis" in outcome.stdout
    assert not Path(paged).exists()


def test_usage_error_is_one_line():
    from conftest import run_process

    outcome = run_process("ledger", "show", "0")
    assert outcome.returncode == 2
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert "inferctl ledger show --help" in lines[0]


def test_model_id_with_padding_rejected(run, mainnet_home):
    from inferctl.bech32 import module_address, test_address

    outcome = run("model", "register", "--authority", module_address("gov", "gonka"),
                  "--proposed-by", test_address("alice", "gonka"),
                  "--id", " Qwen/QwQ-32B", "--home", mainnet_home)
    assert outcome.exit_code == 3
    assert "whitespace" in outcome.stderr


def test_source_date_epoch_past_year_9999(run, mainnet_home):
    from inferctl.bech32 import module_address, test_address

    outcome = run("model", "register", "--authority", module_address("gov", "gonka"),
                  "--proposed-by", test_address("alice", "gonka"), "--id", "m",
                  "--home", mainnet_home, env={"SOURCE_DATE_EPOCH": "99999999999999"})
    assert outcome.exit_code == 3
    assert "SOURCE_DATE_EPOCH" in outcome.stderr


def test_url_with_bad_port_rejected(run, mainnet_home):
    from inferctl.bech32 import test_address

    outcome = run("participant", "join", test_address("newcomer", "gonka"),
                  "--url", "http://x:abc", "--home", mainnet_home)
    assert outcome.exit_code == 3
    assert "Port" in outcome.stderr
