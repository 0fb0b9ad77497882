"""Options and output helpers shared by every command module."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

SCHEMA_VERSION = 1
DEFAULT_HOME = "./state"

F = TypeVar("F", bound=Callable[..., Any])


def home_option(function: F) -> F:
    """Add --home (env INFERCTL_HOME, default ./state)."""
    return click.option(
        "--home",
        envvar="INFERCTL_HOME",
        default=DEFAULT_HOME,
        show_default=True,
        metavar="DIR",
        help="Ledger directory (env INFERCTL_HOME).",
    )(function)


def write_options(function: F) -> F:
    """Add --home, --time and --lock-timeout for commands that append transactions."""
    function = click.option(
        "--lock-timeout",
        type=click.FloatRange(min=0),
        default=10.0,
        show_default=True,
        metavar="SECONDS",
        help="How long to wait for another writer to release the ledger lock.",
    )(function)
    function = click.option(
        "--time",
        "tx_time",
        metavar="RFC3339",
        default=None,
        help="Ledger time of the transaction (default: SOURCE_DATE_EPOCH, else now).",
    )(function)
    return home_option(function)


def json_option(function: F) -> F:
    """Add --json: machine-readable output on stdout."""
    return click.option(
        "--json", "as_json", is_flag=True,
        help="Print JSON with a schema_version field instead of text.",
    )(function)


def emit_json(payload: dict[str, Any]) -> None:
    """Print one JSON object with schema_version first, on stdout."""
    import orjson

    document = {"schema_version": SCHEMA_VERSION, **payload}
    sys.stdout.buffer.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")


def echo(text: str = "") -> None:
    """Print data on stdout."""
    click.echo(text)


def note(ctx_or_none: click.Context | None, text: str) -> None:
    """Print a diagnostic on stderr unless -q was given."""
    ctx = ctx_or_none or click.get_current_context(silent=True)
    root = ctx.find_root() if ctx else None
    if root is not None and root.obj and root.obj.get("quiet"):
        return
    click.echo(text, err=True)


def commit_txs(home: str, txs: Any, *, tx_time: str | None, lock_timeout: float,
               create: bool = False) -> Any:
    """Commit transactions and print the handlers' notes on stderr."""
    from inferctl.ledger.session import commit

    result = commit(home, txs, explicit_time=tx_time, lock_timeout=lock_timeout,
                    create=create)
    for text in result.notes:
        note(None, text)
    return result


def load_state(home: str) -> tuple[dict[str, Any], Any]:
    """Return the latest state and head record for a read command (no lock)."""
    from inferctl.ledger.session import read_state

    return read_state(home)


class LazySubgroup(click.Group):
    """A command group whose subcommands live in other modules, imported on use.

    Set `lazy_commands` to {name: (module, attribute, summary)}; commands defined
    directly on the group with @group.command() work as usual.
    """

    lazy_commands: dict[str, tuple[str, str, str]] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy_commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in self.lazy_commands:
            return command
        import importlib

        module_name, attribute, _summary = self.lazy_commands[cmd_name]
        loaded: click.Command = getattr(importlib.import_module(module_name), attribute)
        return loaded


def lazy_group(name: str, commands: dict[str, tuple[str, str, str]], **kwargs: Any):
    """Return a decorator that makes a LazySubgroup with the given lazy commands."""
    cls = type(f"LazySubgroup_{name}", (LazySubgroup,), {"lazy_commands": commands})
    return click.group(name=name, cls=cls, **kwargs)
