"""Shared fixtures: run the real CLI in-process, and fresh ledger homes."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from inferctl.cli.main import cli

DATA = Path(__file__).parent / "data"
MAINNET_GENESIS = DATA / "genesis" / "mainnet-genesis.json"
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None


def invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None
           ) -> Outcome:
    """Run the CLI in-process the way `inferctl.cli.main.run` does."""
    from inferctl.errors import InferctlError

    runner = CliRunner()
    result = runner.invoke(cli, list(args), env=env, input=input, catch_exceptions=True)
    exc = result.exception
    code = result.exit_code
    stderr = result.stderr
    if isinstance(exc, InferctlError):
        code = int(exc.exit_code)
        stderr += f"error: {exc}\n"
        exc = None
    elif isinstance(exc, SystemExit):
        exc = None
    return Outcome(code, result.stdout, stderr, exc)


@pytest.fixture
def run():
    """Invoke the CLI in-process; unexpected Python exceptions fail the test."""

    def _run(*args: str, env: dict[str, str] | None = None,
             input: str | None = None) -> Outcome:
        outcome = invoke(*args, env=env, input=input)
        if outcome.exception is not None:
            raise outcome.exception
        assert "Traceback" not in outcome.stderr
        return outcome

    return _run


def run_process(*args: str, env: dict[str, str] | None = None, timeout: float = 120,
                cwd: str | None = None, input: bytes | None = None
                ) -> subprocess.CompletedProcess[str]:
    """Run `python -m inferctl ARGS` as a separate process."""
    full_env = dict(os.environ)
    full_env.pop("INFERCTL_HOME", None)
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, "-m", "inferctl", *args], capture_output=True,
                          text=True, env=full_env, timeout=timeout, cwd=cwd,
                          input=input.decode() if input is not None else None)


@pytest.fixture
def home(tmp_path: Path) -> str:
    """A path for a new ledger home (the directory does not exist yet)."""
    return str(tmp_path / "home")


_MAINNET_CACHE: dict[str, Path] = {}


@pytest.fixture
def mainnet_home(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A ledger imported from the mainnet genesis (copied from a per-session cache)."""
    cached = _MAINNET_CACHE.get("home")
    if cached is None:
        cached = tmp_path_factory.mktemp("mainnet-cache") / "home"
        outcome = invoke("genesis", "import", str(MAINNET_GENESIS), "--home", str(cached))
        assert outcome.exit_code == 0, outcome.stderr
        _MAINNET_CACHE["home"] = cached
    target = tmp_path / "mainnet-home"
    shutil.copytree(cached, target)
    return str(target)


def tree_digest(path: str) -> dict[str, str]:
    """Return {relative path: sha256} of every file under `path` (lock files excluded)."""
    digests = {}
    for root, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            rel = os.path.relpath(full, path)
            if name in ("lock", "lock.json"):
                continue
            with open(full, "rb") as handle:
                digests[rel] = hashlib.sha256(handle.read()).hexdigest()
    return digests
