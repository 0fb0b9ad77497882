"""The sample local-testnet script: the README's main job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO, tree_digest


def _run_script(home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env["PATH"]
    env.pop("INFERCTL_HOME", None)
    return subprocess.run(["bash", str(REPO / "samples" / "local-testnet.sh"), str(home)],
                          capture_output=True, text=True, env=env, timeout=300)


def test_script_builds_testnet_twice(tmp_path):
    home = tmp_path / "state"
    first = _run_script(home)
    assert first.returncode == 0, first.stderr
    digest = tree_digest(str(home))

    second = _run_script(home)
    assert second.returncode == 0, second.stderr
    assert tree_digest(str(home)) == digest  # fixed times: the same bytes again

    exported = json.loads((home / "exported-genesis.json").read_text())
    inference = exported["app_state"]["inference"]
    assert [m["id"] for m in inference["model_list"]] == [
        "Qwen/QwQ-32B", "Qwen/Qwen2.5-7B-Instruct"]
    assert len(inference["participant_list"]) == 3
    assert "Traceback" not in first.stderr


def test_script_picks_a_member_for_each_model(tmp_path):
    home = tmp_path / "state"
    result = _run_script(home)
    assert result.returncode == 0, result.stderr
    picks = [line for line in result.stdout.splitlines() if "weight" in line]
    assert len(picks) == 2
    assert all(line.startswith("gonka1") for line in picks)


def test_script_runs_epoch_steps_at_their_blocks(tmp_path):
    # samples/testnet.toml: 50-block epochs, so epoch 1 starts PoC at 50, forms at
    # 50 + 4 + 1 + 4 = 59 and becomes effective at 60.
    result = _run_script(tmp_path / "state")
    assert result.returncode == 0, result.stderr
    assert "block 50: epoch 1 starts its PoC" in result.stderr
    assert "block 59: epoch 1 formed with 3 members" in result.stderr
    assert "block 60: epoch 1 is effective" in result.stderr
    assert "the chain is at block 61" in result.stderr
