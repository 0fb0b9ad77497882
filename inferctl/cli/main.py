"""The `inferctl` command: a lazy command registry and the one place errors become exits.

Command modules are imported only when their command runs (or when `--help` lists
them by name), so `inferctl --help` and the read commands start fast.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import Any

import click

from inferctl import LEDGER_FORMAT, __version__
from inferctl.errors import ExitCode, InferctlError

# Command name -> (module, attribute, one-line summary). The summary is repeated here
# so that `inferctl --help` can list every command without importing any of them.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "genesis": ("inferctl.cli.genesis", "genesis",
                "Import, create, validate, export, diff and patch genesis files."),
    "ledger": ("inferctl.cli.ledger", "ledger",
               "Verify, inspect and repair the hash-chained ledger."),
    "status": ("inferctl.cli.status", "status",
               "Show the chain, ledger, epoch and lock state at a glance."),
    "address": ("inferctl.cli.identity", "address",
                "Print a deterministic test account address for a name."),
    "validator-key": ("inferctl.cli.identity", "validator_key",
                      "Print a deterministic test validator key for a name."),
    "model": ("inferctl.cli.models", "model",
              "Register, propose, list and show models."),
    "proposal": ("inferctl.cli.proposals", "proposal",
                 "Vote on, tally, list and show governance proposals."),
    "node": ("inferctl.cli.nodes", "node",
             "Register, remove, list and show ML nodes (hardware)."),
    "participant": ("inferctl.cli.participants", "participant",
                    "Join, list and show participants."),
    "poc": ("inferctl.cli.epochs", "poc", "Record PoC results for the upcoming epoch."),
    "epoch": ("inferctl.cli.epochs", "epoch",
              "Form, activate, list and show epochs and their groups."),
    "executor": ("inferctl.cli.executor", "executor",
                 "Pick executors for a model, as the chain's query does."),
    "chain": ("inferctl.cli.chain", "chain",
              "Move the chain block height forward, running EndBlock steps."),
    "apply": ("inferctl.cli.apply", "apply_command",
              "Apply newline-delimited JSON transactions as one batch."),
    "serve": ("inferctl.cli.serve", "serve",
              "Serve gonka's admin and query HTTP API over the ledger."),
    "completion": ("inferctl.cli.completion", "completion",
                   "Print a shell completion script for bash, zsh or fish."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attribute, _summary = entry
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        command: click.Command = getattr(module, attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, summary) for name, (_m, _a, summary) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


class _StderrFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


def configure_logging(verbose: int, quiet: bool) -> None:
    """Send library log records to stderr: warnings by default, more with -v."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_StderrFormatter())
    root = logging.getLogger("inferctl")
    root.handlers[:] = [handler]
    root.propagate = False
    if quiet:
        root.setLevel(logging.ERROR)
    elif verbose >= 2:
        root.setLevel(logging.DEBUG)
    elif verbose == 1:
        root.setLevel(logging.INFO)
    else:
        root.setLevel(logging.WARNING)


def _version_text() -> str:
    return f"inferctl {__version__} (ledger format {LEDGER_FORMAT})"


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", message=_version_text())
@click.option("-v", "--verbose", count=True, help="More detail on stderr (-vv: debug).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors on stderr.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Run gonka's model-management flow offline, on a hash-chained JSON ledger.

    \b
    Examples:
      inferctl genesis init --chain-id demo --genesis-time 2025-01-01T00:00:00Z
      inferctl model list --json
      inferctl executor pick --model Qwen/QwQ-32B --seed 1
    """
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    ctx.obj["quiet"] = quiet
    configure_logging(verbose, quiet)


def _print_error(exc: InferctlError, verbose: bool) -> None:
    click.echo(f"error: {exc}", err=True)
    problems = getattr(exc, "problems", None) or []
    for problem in problems[1:] if len(problems) > 1 else []:
        click.echo(f"  {problem}", err=True)


def run(argv: list[str] | None = None) -> None:
    """Run the command line and exit with the code that fits the outcome."""
    import signal

    # A file-size limit must fail the write with EFBIG, not kill the process.
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    verbose = any(arg in ("-v", "-vv", "--verbose") for arg in (argv or sys.argv[1:]))
    try:
        code = cli.main(args=argv, prog_name="inferctl", standalone_mode=False)
    except InferctlError as exc:
        _print_error(exc, verbose)
        sys.exit(int(exc.exit_code))
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(int(ExitCode.FAILURE))
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        _silence_broken_pipe()
        sys.exit(int(ExitCode.OK))
    except RecursionError:
        click.echo("error: input nests too deeply to process", err=True)
        sys.exit(int(ExitCode.INVALID_INPUT))
    except MemoryError:
        click.echo("error: out of memory; the input is too large", err=True)
        sys.exit(int(ExitCode.INVALID_INPUT))
    except OSError as exc:
        click.echo(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
                   err=True)
        sys.exit(int(ExitCode.IO_ERROR))
    _flush_stdout()
    sys.exit(code if isinstance(code, int) else 0)


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_broken_pipe()


def _silence_broken_pipe() -> None:
    # Readers such as `head` may close the pipe early; that is not an error.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main_entry(*args: Any) -> None:
    run()
