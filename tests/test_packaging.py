"""The package installs into a fresh virtual environment and runs from there.

The source is copied first (pyproject.toml, README.md, inferctl/), because
setuptools builds in the source tree and would leave build/ and *.egg-info in the
working copy. Dependencies come from the package registry. When the registry
cannot be reached, the install tests are skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import REPO

NETWORK_ERRORS = ("NewConnectionError", "Max retries exceeded", "Temporary failure in "
                  "name resolution", "No matching distribution found",
                  "Could not find a version")


def project_version() -> str:
    """Return the version that pyproject.toml declares."""
    with open(REPO / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]["version"]


def ledger_format() -> str:
    """Return the ledger format number that docs/ledger.md documents."""
    text = (REPO / "docs" / "ledger.md").read_text(encoding="utf-8")
    match = re.search(r"^## Layout \(format (\d+)\)", text, flags=re.M)
    assert match, "docs/ledger.md names no ledger format"
    return match[1]


def copy_source(target: Path) -> Path:
    """Copy what a build needs into `target` and return it."""
    target.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, target / name)
    shutil.copytree(REPO / "inferctl", target / "inferctl",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


def run(args: list[str], cwd: Path, timeout: float = 300,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("INFERCTL_HOME", "PYTHONPATH", "VIRTUAL_ENV")}
    full_env.update(env or {})
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=full_env)


def install_or_skip(pip: Path, *args: str, cwd: Path) -> None:
    """Run `pip install ARGS`; skip the test when the registry is unreachable."""
    result = run([str(pip), "install", "--quiet", *args], cwd=cwd)
    if result.returncode != 0 and any(e in result.stderr for e in NETWORK_ERRORS):
        pytest.skip(f"package registry unreachable: {result.stderr[-300:]}")
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with inferctl installed by `pip install <source>`; its bin dir."""
    root = tmp_path_factory.mktemp("packaging")
    source = copy_source(root / "source")
    created = run([sys.executable, "-m", "venv", str(root / "venv")], cwd=root)
    assert created.returncode == 0, created.stderr
    bin_dir = root / "venv" / "bin"
    install_or_skip(bin_dir / "pip", str(source), cwd=root)
    return bin_dir


def test_version_line(installed, tmp_path):
    result = run([str(installed / "inferctl"), "--version"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    expected = f"inferctl {project_version()} (ledger format {ledger_format()})\n"
    assert result.stdout == expected


def test_validates_mainnet_sample(installed, tmp_path):
    sample = REPO / "samples" / "mainnet-genesis.json"
    result = run([str(installed / "inferctl"), "genesis", "validate", str(sample)],
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "valid (gonka-mainnet, 2 models, 11 participants)" in result.stdout


def test_template_is_package_data(installed, tmp_path):
    python = installed / "python"
    code = ("import importlib.resources as r; "
            "print(r.files('inferctl').joinpath('genesis/template.json').is_file())")
    result = run([str(python), "-c", code], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_init_uses_installed_template(installed, tmp_path):
    result = run([str(installed / "inferctl"), "genesis", "init", "--chain-id",
                  "packaged", "--genesis-time", "2025-01-01T00:00:00Z", "--home",
                  str(tmp_path / "home")], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1 blake3:")


def test_installed_from_copy_not_repo(installed, tmp_path):
    code = "import inferctl, sys; sys.stdout.write(inferctl.__file__)"
    result = run([str(installed / "python"), "-c", code], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not result.stdout.startswith(str(REPO))


def test_pipx_install(tmp_path):
    """`pipx install <source>`, with pipx itself put in a temporary venv."""
    source = copy_source(tmp_path / "source")
    pipx = shutil.which("pipx")
    if pipx is None:
        created = run([sys.executable, "-m", "venv", str(tmp_path / "pipx-venv")],
                   cwd=tmp_path)
        assert created.returncode == 0, created.stderr
        install_or_skip(tmp_path / "pipx-venv" / "bin" / "pip", "pipx", cwd=tmp_path)
        pipx = str(tmp_path / "pipx-venv" / "bin" / "pipx")
    env = {"PIPX_HOME": str(tmp_path / "pipx-home"),
           "PIPX_BIN_DIR": str(tmp_path / "pipx-bin"),
           "PIPX_MAN_DIR": str(tmp_path / "pipx-man")}
    result = run([pipx, "install", str(source)], cwd=tmp_path, env=env)
    if result.returncode != 0 and any(e in result.stderr for e in NETWORK_ERRORS):
        pytest.skip("package registry unreachable")
    assert result.returncode == 0, result.stderr[-3000:]
    version = run([str(tmp_path / "pipx-bin" / "inferctl"), "--version"], cwd=tmp_path)
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith(f"inferctl {project_version()} ")
