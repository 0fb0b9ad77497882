"""`inferctl completion`: shell completion scripts, and ledger values to complete.

The scripts use click's protocol: the shell runs `inferctl` again with
_INFERCTL_COMPLETE set, and inferctl prints the candidates. Model ids, participant
addresses and node ids come from the snapshot of the ledger at --home (else
INFERCTL_HOME, else ./state). Completion never prints an error: without a readable
snapshot there are simply no candidates.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import click
from click.shell_completion import CompletionItem

from inferctl.cli.common import DEFAULT_HOME, echo

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_INFERCTL_COMPLETE"

Values = Callable[[click.Context, dict[str, Any]], list[str]]


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print a shell completion script for bash, zsh or fish.

    Commands, options, model ids, participant addresses and node ids complete
    with TAB. The ids come from the ledger at --home, else INFERCTL_HOME, else
    ./state. Bash needs version 4.4 or newer.

    \b
    Examples:
      eval "$(inferctl completion bash)"     # this bash session; add it to ~/.bashrc
      eval "$(inferctl completion zsh)"      # this zsh session; add it to ~/.zshrc
      inferctl completion fish > ~/.config/fish/completions/inferctl.fish
    """
    from click.shell_completion import get_completion_class

    from inferctl.cli.main import cli

    script_class = get_completion_class(shell)
    if script_class is None:
        raise click.UsageError(f"click has no completion for shell {shell!r}")
    echo(script_class(cli, {}, "inferctl", COMPLETE_VAR).source())


# ----- values from the ledger ----------------------------------------------------


def read_completion_state(ctx: click.Context) -> dict[str, Any]:
    """Return the snapshot state of the ledger the command line names, or {}."""
    home = ctx.params.get("home") or os.environ.get("INFERCTL_HOME") or DEFAULT_HOME
    # A damaged snapshot logs a warning; during completion that would garble the
    # shell's prompt. This process only completes, so muting it whole is safe.
    logging.disable(logging.CRITICAL)
    try:
        from inferctl.ledger.store import Ledger

        snapshot = Ledger(str(home)).read_snapshot()
    except Exception:
        return {}
    finally:
        logging.disable(logging.NOTSET)
    if snapshot is None or not isinstance(snapshot.state, dict):
        return {}
    return snapshot.state


def model_ids(ctx: click.Context, state: dict[str, Any]) -> list[str]:
    """Return the registered model ids."""
    return sorted(state.get("models") or {})


def participant_addresses(ctx: click.Context, state: dict[str, Any]) -> list[str]:
    """Return the participant addresses."""
    return sorted(state.get("participants") or {})


def authority_address(ctx: click.Context, state: dict[str, Any]) -> list[str]:
    """Return the gov module address, the only valid --authority."""
    authority = state.get("authority")
    return [authority] if isinstance(authority, str) else []


def node_ids(ctx: click.Context, state: dict[str, Any]) -> list[str]:
    """Return the node ids of --participant, or of every participant without it."""
    hardware = state.get("hardware") or {}
    owner = ctx.params.get("participant")
    owners = [owner] if owner else list(hardware)
    found: set[str] = set()
    for address in owners:
        nodes = hardware.get(address)
        if isinstance(nodes, dict):
            found.update(nodes)
    return sorted(found)


def proposal_ids(ctx: click.Context, state: dict[str, Any]) -> list[str]:
    """Return the proposal ids in numeric order."""
    proposals = state.get("proposals") or {}
    return sorted((key for key in proposals if key.isdigit()), key=int)


class LedgerValue(click.ParamType):
    """A parameter type whose shell candidates come from the ledger.

    Conversion is left to the type it replaces, so checks such as an integer range
    still apply.
    """

    def __init__(self, name: str, values: Values,
                 base: click.ParamType = click.STRING) -> None:
        self.name = name
        self.values = values
        self.base = base

    def with_base(self, base: click.ParamType) -> LedgerValue:
        """Return a copy of this type that converts values as `base` does."""
        return LedgerValue(self.name, self.values, base)

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        return self.base.convert(value, param, ctx)

    def shell_complete(self, ctx: click.Context, param: click.Parameter,
                       incomplete: str) -> list[CompletionItem]:
        try:
            candidates = self.values(ctx, read_completion_state(ctx))
        except Exception:
            return []
        return [CompletionItem(value) for value in candidates
                if value.startswith(incomplete)]


# Parameter name -> the ledger values it completes to. The rules apply only in a
# process that computes completions for a shell, so commands keep their own types.
RULES: dict[str, LedgerValue] = {
    "model_id": LedgerValue("model id", model_ids),
    "models": LedgerValue("model id", model_ids),
    "participant": LedgerValue("address", participant_addresses),
    "address": LedgerValue("address", participant_addresses),
    "voter": LedgerValue("address", participant_addresses),
    "proposer": LedgerValue("address", participant_addresses),
    "proposed_by": LedgerValue("address", participant_addresses),
    "authority": LedgerValue("address", authority_address),
    "node_id": LedgerValue("node id", node_ids),
    "node_ids": LedgerValue("node id", node_ids),
    "proposal_id": LedgerValue("proposal id", proposal_ids),
}


def attach_completers(command: click.Command) -> None:
    """Give the parameters of `command` and its loaded subcommands ledger candidates.

    Only parameters named in RULES change. `address` and `validator-key` take a
    NAME and `serve --host` a network address, so their names are not in RULES.
    A Choice keeps its own candidates.
    """
    for param in command.params:
        rule = RULES.get(param.name or "")
        if rule is None or isinstance(param.type, (click.Choice, LedgerValue)):
            continue
        param.type = rule.with_base(param.type)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            attach_completers(sub)

