"""docs/guide.md runs as written.

Every ```sh block runs, in order, in one bash process with `set -e`, in an empty
working directory and with INFERCTL_HOME pointing to a fresh temporary home. A
```text block that directly follows a ```sh block is that block's stdout, exactly.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO

GUIDE = REPO / "docs" / "guide.md"
BIN_DIR = str(Path(sys.executable).parent)
MARKER = "::guide-block-{}::"


@dataclass
class Block:
    lang: str
    text: str
    line: int
    expected: str | None = None


def parse_blocks(markdown: str) -> list[Block]:
    """Return the sh blocks, each with the text block that directly follows it."""
    fence = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)
    blocks: list[Block] = []
    previous_end = None
    for match in fence.finditer(markdown):
        lang, text = match[1], match[2]
        line = markdown.count("\n", 0, match.start()) + 1
        adjacent = previous_end is not None and not markdown[
            previous_end:match.start()].strip()
        if lang == "text" and adjacent and blocks and blocks[-1].expected is None:
            blocks[-1].expected = text
        elif lang == "sh":
            blocks.append(Block(lang, text, line))
        previous_end = match.end() if lang == "sh" else None
    return blocks


BLOCKS = parse_blocks(GUIDE.read_text(encoding="utf-8"))


def build_script(blocks: list[Block]) -> str:
    """Join the blocks into one script that prints a marker before each block."""
    parts = ["set -euo pipefail"]
    for index, block in enumerate(blocks):
        parts.append(f"echo '{MARKER.format(index)}'")
        parts.append(block.text)
    return "\n".join(parts) + "\n"


def split_output(stdout: str, count: int) -> list[str]:
    """Return the stdout of each block, cut at the markers."""
    pieces = re.split(r"^::guide-block-(\d+)::\n", stdout, flags=re.M)
    outputs = [""] * count
    for number, text in zip(pieces[1::2], pieces[2::2], strict=True):
        outputs[int(number)] = text
    return outputs


@pytest.fixture(scope="module")
def guide_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run the whole guide once; return the process and each block's stdout."""
    root = tmp_path_factory.mktemp("guide")
    workdir = root / "work"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("SOURCE_DATE_EPOCH", "NO_COLOR", "PAGER")}
    env["INFERCTL_HOME"] = str(root / "home")
    env["PATH"] = BIN_DIR + os.pathsep + env.get("PATH", "")
    result = subprocess.run(["bash", "-c", build_script(BLOCKS)], cwd=workdir, env=env,
                            capture_output=True, text=True, timeout=300)
    return result, split_output(result.stdout, len(BLOCKS))


def test_guide_has_blocks():
    assert len(BLOCKS) >= 10


def test_guide_runs(guide_run):
    result, _outputs = guide_run
    started = [int(n) for n in re.findall(r"^::guide-block-(\d+)::$", result.stdout,
                                          flags=re.M)]
    last = BLOCKS[max(started, default=0)]
    assert result.returncode == 0, (
        f"docs/guide.md: the block at line {last.line} failed:\n{result.stderr[-3000:]}")


def test_guide_no_traceback(guide_run):
    result, _outputs = guide_run
    assert "Traceback" not in result.stderr


EXPECTED = [(i, block) for i, block in enumerate(BLOCKS) if block.expected is not None]


@pytest.mark.parametrize(("index", "block"), EXPECTED,
                         ids=[f"line {b.line}" for _i, b in EXPECTED])
def test_guide_output(index, block, guide_run):
    _result, outputs = guide_run
    assert outputs[index] == block.expected
