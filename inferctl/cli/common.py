"""Options and output helpers shared by every command module."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

SCHEMA_VERSION = 1
DEFAULT_HOME = "./state"

F = TypeVar("F", bound=Callable[..., Any])


def home_option(function: F) -> F:
    """Add --home (env INFERCTL_HOME, default ./state) and a late -q/--quiet."""
    function = click.option(
        "-q", "--quiet", is_flag=True, expose_value=False, callback=_set_quiet,
        help="Print nothing but errors on stderr (also accepted before the command).",
    )(function)
    return click.option(
        "--home",
        envvar="INFERCTL_HOME",
        default=DEFAULT_HOME,
        show_default=True,
        metavar="DIR",
        help="Ledger directory (env INFERCTL_HOME).",
    )(function)


def _set_quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """Apply -q given after the command name, as the root option does."""
    if not value:
        return
    root = ctx.find_root()
    root.ensure_object(dict)
    root.obj["quiet"] = True
    from inferctl import set_log_level

    set_log_level(40)  # errors only, as `inferctl -q` sets it


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


def load_state(home: str, *, lazy: bool = False) -> tuple[dict[str, Any], Any]:
    """Return the latest state and head record for a read command (no lock).

    `lazy=True` suits commands that read a few keys of a possibly large state,
    such as `executor pick`: the state is then a read-only mapping that parses
    each top-level key of the snapshot on first use (inferctl.ledger.snapshot).
    """
    # The store alone, not inferctl.ledger.session: readers need no writer code.
    from inferctl.ledger.store import Ledger

    ledger = Ledger(home)
    ledger.require()
    return ledger.load_state(lazy=lazy)


def suggest_command(names: list[str], args: list[str], exc: click.UsageError,
                    misplaced: dict[str, str] | None = None) -> click.UsageError:
    """Return the unknown-command error with a "Did you mean" hint added, if any.

    `misplaced` maps words such as "init" to the full command ("genesis init").
    """
    import difflib

    name = click.utils.make_str(args[0]) if args else ""
    message = exc.format_message()
    if not name or "Did you mean" in message:
        return exc
    if misplaced and name in misplaced:
        hint = f"Did you mean 'inferctl {misplaced[name]}'?"
    else:
        matches = difflib.get_close_matches(name, names, n=3)
        if not matches:
            return exc
        hint = f"Did you mean {' or '.join(repr(m) for m in matches)}?"
    return click.UsageError(f"{message} {hint}", ctx=exc.ctx)


class ProgressBar:
    """A progress bar on stderr for long operations; silent unless stderr is a terminal.

    Call it with (done, total); close() ends the bar's line.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self.live = sys.stderr.isatty()
        self._bar: Any = None
        self._done = 0

    def __call__(self, done: int, total: int) -> None:
        if not self.live:
            return
        if self._bar is None:
            self._bar = click.progressbar(length=total, label=self.label,
                                          file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(done - self._done)
        self._done = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


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
        if "_INFERCTL_COMPLETE" in os.environ:
            from inferctl.cli.completion import attach_completers

            attach_completers(loaded)
        return loaded

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            better = suggest_command(self.list_commands(ctx), args, exc)
            if better is exc:
                raise
            raise better from None


def lazy_group(name: str, commands: dict[str, tuple[str, str, str]], **kwargs: Any):
    """Return a decorator that makes a LazySubgroup with the given lazy commands."""
    cls = type(f"LazySubgroup_{name}", (LazySubgroup,), {"lazy_commands": commands})
    return click.group(name=name, cls=cls, **kwargs)
