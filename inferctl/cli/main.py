"""The `inferctl` command: a lazy command registry and the one place errors become exits.

Command modules are imported only when their command runs (or when `--help` lists
them by name), so `inferctl --help` and the read commands start fast.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

import inferctl
from inferctl import LEDGER_FORMAT, __version__, set_log_level
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


# Words a newcomer may type as a command, and the command that does it.
MISPLACED = {
    "init": "genesis init",
    "import": "genesis import",
    "export": "genesis export",
    "validate": "genesis validate",
    "verify": "ledger verify",
    "log": "ledger log",
    "propose": "model propose",
    "vote": "proposal vote",
    "tally": "proposal tally",
    "join": "participant join",
    "pick": "executor pick",
    "version": "--version",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            from inferctl.cli.common import suggest_command

            better = suggest_command(self.list_commands(ctx), args, exc, MISPLACED)
            if better is exc:
                raise
            raise better from None

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
        if "_INFERCTL_COMPLETE" in os.environ:
            from inferctl.cli.completion import attach_completers

            attach_completers(command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, summary) for name, (_m, _a, summary) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


# logging's level numbers, so that `logging` need not be imported to name them.
LOG_ERROR, LOG_WARNING, LOG_INFO, LOG_DEBUG = 40, 30, 20, 10


def configure_logging(verbose: int, quiet: bool) -> None:
    """Send library log records to stderr: warnings by default, more with -v."""
    if quiet:
        set_log_level(LOG_ERROR)
    elif verbose >= 2:
        set_log_level(LOG_DEBUG)
    elif verbose == 1:
        set_log_level(LOG_INFO)
    else:
        set_log_level(LOG_WARNING)


def _version_text() -> str:
    return f"inferctl {__version__} (ledger format {LEDGER_FORMAT})"


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", message=_version_text())
@click.option("-v", "--verbose", count=True,
              help="More detail on stderr: -v info, -vv debug (default: warnings).")
@click.option("-q", "--quiet", is_flag=True,
              help="Print nothing on stderr but errors; data still goes to stdout.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Run gonka's model-management flow offline, on a hash-chained JSON ledger.

    Commands read and write the ledger in --home DIR (env INFERCTL_HOME, default
    ./state). docs/guide.md walks through a whole testnet.

    \b
    Examples:
      bash samples/local-testnet.sh    # a 3-participant testnet in ./state
      inferctl status
      inferctl executor pick --model Qwen/QwQ-32B --seed 1
    """
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    ctx.obj["quiet"] = quiet
    configure_logging(verbose, quiet)


def _print_error(exc: InferctlError, verbose: bool) -> None:
    from inferctl.cli.output import error_prefix

    click.echo(f"{error_prefix()} {exc}", err=True)
    problems = getattr(exc, "problems", None) or []
    for problem in problems[1:] if len(problems) > 1 else []:
        click.echo(f"  {problem}", err=True)


def _print_internal_error(exc: Exception, verbose: bool) -> None:
    """Report an exception that no inferctl error class covers: a bug in inferctl.

    Every failure that input can cause should raise an InferctlError, so this prints
    one `error:` line that reports a bug, and the traceback only with -v. An exception
    inside a commit leaves the ledger as it was, because records are appended only
    after every transaction of the batch applied, and a failed snapshot write cuts
    them again. One raised after the commit, while printing, does not undo it.
    """
    click.echo(f"error: internal error ({type(exc).__name__}: {exc}); this is a bug "
               f"in inferctl: rerun with -v for the traceback and report it",
               err=True)
    if verbose:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)


def run(argv: list[str] | None = None) -> None:
    """Run the command line and exit with the code that fits the outcome."""
    import signal

    # A file-size limit must fail the write with EFBIG, not kill the process.
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    verbose = any(arg in ("-v", "-vv", "--verbose") for arg in (argv or sys.argv[1:]))
    # A command that runs once may keep a large parsed state out of the garbage
    # collector's scans for good (inferctl.ledger.snapshot); a server may not.
    inferctl.freeze_parsed_states = "serve" not in (argv or sys.argv[1:])
    try:
        code = cli.main(args=argv, prog_name="inferctl", standalone_mode=False)
    except InferctlError as exc:
        _print_error(exc, verbose)
        sys.exit(int(exc.exit_code))
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(int(ExitCode.FAILURE))
    except click.UsageError as exc:
        click.echo(f"error: {_usage_message(exc)}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
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
    except Exception as exc:  # noqa: BLE001 - the last resort for a bug
        _print_internal_error(exc, verbose)
        sys.exit(int(ExitCode.FAILURE))
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


def _usage_message(exc: click.UsageError) -> str:
    """Return a usage error as one line that ends with where to find help."""
    message = " ".join(exc.format_message().split()).rstrip(".")
    command_path = exc.ctx.command_path if exc.ctx is not None else "inferctl"
    return f"{message}; see `{command_path} --help`"
