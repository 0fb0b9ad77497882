"""`inferctl completion` scripts, and ledger values through click's completion protocol.

The shell runs `inferctl` with _INFERCTL_COMPLETE=bash_complete, COMP_WORDS and
COMP_CWORD set, and reads one `type,value` line per candidate. These tests do the
same in a subprocess.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, run_process

ALICE = "gonka190vqdjtlpcq27xslcveglfmr4ynfwg7gswlfh3"  # bech32 of sha256("alice")[:20]
BOB = "gonka1sxmr0k8u6trd5c6eu6trzyapzux7090ypfnn63"  # bech32 of sha256("bob")[:20]
CAROL = "gonka1fsndjp6vylvfahjeyuxq4s2tw8s8rv2jjna3kn"  # bech32 of sha256("carol")[:20]
GOV = "gonka10d07y265gmmuvt4z0w9aw880jnsr700j2h5m33"  # bech32 of sha256("gov")[:20]


def complete(words: str, home: str | None = None) -> subprocess.CompletedProcess[str]:
    """Ask for the candidates of the last word of `words`, as bash does."""
    parts = words.split(" ")
    env = {"_INFERCTL_COMPLETE": "bash_complete", "COMP_WORDS": words,
           "COMP_CWORD": str(len(parts) - 1)}
    if home is not None:
        env["INFERCTL_HOME"] = home
    return run_process(env=env)


def values(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if line]


@pytest.fixture(scope="module")
def testnet(tmp_path_factory) -> str:
    """A ledger with alice, bob, carol, one model and two nodes of carol."""
    home = str(tmp_path_factory.mktemp("completion") / "state")
    setup = [
        ["genesis", "init", "--chain-id", "completion", "--genesis-time",
         "2025-01-01T00:00:00Z", "--config", str(REPO / "samples" / "testnet.toml")],
        ["node", "register", "--participant", CAROL, "--file",
         str(REPO / "samples" / "node_payload_mock-server_genesis_2_nodes.json")],
        ["model", "propose", "--proposer", ALICE, "--id", "Qwen/QwQ-32B"],
    ]
    for args in setup:
        result = run_process(*args, "--home", home)
        assert result.returncode == 0, result.stderr
    return home


# ----- scripts ------------------------------------------------------------------------


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_script_names_protocol(shell):
    result = run_process("completion", shell)
    assert result.returncode == 0, result.stderr
    assert "_INFERCTL_COMPLETE" in result.stdout
    assert f"{shell}_complete" in result.stdout


def test_bash_script_registers():
    bash = shutil.which("bash")
    assert bash is not None
    script = (f'eval "$({sys.executable} -m inferctl completion bash)"\n'
              "complete -p inferctl\n")
    result = subprocess.run([bash, "-c", script], capture_output=True, text=True,
                            timeout=60, env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert "_inferctl_completion" in result.stdout


def test_unknown_shell_rejected():
    result = run_process("completion", "tcsh")
    assert result.returncode == 2
    assert "'tcsh' is not one of" in result.stderr


# ----- candidates ---------------------------------------------------------------------


def test_commands_complete():
    result = complete("inferctl gen")
    assert result.returncode == 0, result.stderr
    assert values(result) == ["genesis"]


def test_lazy_subcommands_complete():
    assert values(complete("inferctl genesis i")) == ["import", "init"]


def test_model_ids_from_ledger(testnet):
    result = complete("inferctl model show ", testnet)
    assert result.returncode == 0, result.stderr
    assert values(result) == ["Qwen/Qwen2.5-7B-Instruct"]


def test_model_option_from_ledger(testnet):
    assert values(complete("inferctl executor pick --model Q", testnet)) == [
        "Qwen/Qwen2.5-7B-Instruct"]


def test_home_option_read(testnet):
    words = f"inferctl model show --home {testnet} "
    assert values(complete(words)) == ["Qwen/Qwen2.5-7B-Instruct"]


def test_addresses_from_ledger(testnet):
    assert values(complete("inferctl participant show ", testnet)) == sorted(
        [ALICE, BOB, CAROL])


def test_address_prefix_filters(testnet):
    assert values(complete("inferctl poc submit gonka1fs", testnet)) == [CAROL]


def test_authority_is_gov_address(testnet):
    assert values(complete("inferctl model register --authority ", testnet)) == [GOV]


def test_node_ids_of_participant(testnet):
    words = f"inferctl node show --participant {CAROL} "
    assert values(complete(words, testnet)) == ["wiremock", "wiremock-2"]


def test_node_ids_of_other_participant(testnet):
    words = f"inferctl node show --participant {ALICE} "
    assert values(complete(words, testnet)) == []


def test_proposal_ids(testnet):
    assert values(complete("inferctl proposal vote ", testnet)) == ["1"]


def test_choice_keeps_own_values(testnet):
    assert values(complete("inferctl proposal vote 1 ", testnet)) == [
        "yes", "no", "abstain", "no_with_veto"]


def test_names_not_completed(testnet):
    assert values(complete("inferctl address ", testnet)) == []


def test_no_ledger_no_error(tmp_path):
    result = complete("inferctl model show ", str(tmp_path / "none"))
    assert result.returncode == 0
    assert values(result) == []
    assert result.stderr == ""


def test_home_is_file_no_error(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    result = complete("inferctl model show ", str(path))
    assert result.returncode == 0
    assert values(result) == []
    assert result.stderr == ""


def test_damaged_snapshot_no_error(testnet, tmp_path):
    home = tmp_path / "state"
    shutil.copytree(testnet, home)
    (home / "snapshot.json").write_text("not json\n")
    result = complete("inferctl model show ", str(home))
    assert result.returncode == 0
    assert values(result) == []
    assert result.stderr == ""


def test_conversion_unchanged(run, testnet):
    outcome = run("proposal", "show", "1", "--home", testnet)
    assert outcome.exit_code == 0
    assert "id: 1" in outcome.stdout
