"""Terminal-aware output: colour and a pager, only on a terminal.

Colour follows the NO_COLOR convention (https://no-color.org): any non-empty value
turns it off. Output that goes to a pipe or a file is never coloured or paged, so
scripts always read plain text.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable
from typing import TextIO

import click


def colour_enabled(stream: TextIO) -> bool:
    """Return whether to colour text written to `stream`."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def error_prefix(stream: TextIO | None = None) -> str:
    """Return `error:`, in bold red when `stream` (default stderr) takes colour."""
    target = stream if stream is not None else sys.stderr
    if colour_enabled(target):
        return click.style("error:", fg="red", bold=True)
    return "error:"


def is_quiet() -> bool:
    """Return whether -q was given to the running command line."""
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    return bool(root is not None and root.obj and root.obj.get("quiet"))


def page_lines(lines: Iterable[str]) -> None:
    """Print lines on stdout, through a pager when they overflow a terminal screen.

    The pager is $PAGER, else `less`. It runs only when stdout is a terminal and
    the text is longer than the screen, so pipes and files get plain lines.
    `PAGER=cat` turns it off.
    """
    if not _stdout_is_terminal():
        for line in lines:
            click.echo(line)
        return
    text = list(lines)
    screen_rows = shutil.get_terminal_size().lines
    if len(text) < screen_rows:
        for line in text:
            click.echo(line)
        return
    click.echo_via_pager("\n".join(text) + "\n")


def _stdout_is_terminal() -> bool:
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty())
