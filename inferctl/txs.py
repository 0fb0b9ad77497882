"""The transaction types of the ledger and the one validate-and-apply function of each.

Each transaction type is named by a type URL. Where gonka has the message, the URL and
the body's field names are gonka's own (`/inference.inference.MsgRegisterModel`), so a
ledger can be replayed against the real chain. Steps that the chain performs itself in
EndBlock, or that only exist offline, use the `/inferctl.v1.` namespace.

A handler takes the current state, the body and the context, checks every rule, and
then changes the state. A handler that raises must not be followed by a write: the
ledger discards the in-memory state of a rejected transaction, so nothing reaches disk.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from inferctl.errors import InvalidInput

State = dict[str, Any]

GENESIS = "/inferctl.v1.Genesis"

# Type URL -> "module:function". Modules are imported on first use so that a command
# pays only for the handlers it runs.
HANDLERS: dict[str, str] = {
    GENESIS: "inferctl.flow.genesis_tx:apply_genesis",
    "/inference.inference.MsgRegisterModel": "inferctl.flow.models:apply_register_model",
    "/cosmos.gov.v1.MsgSubmitProposal": "inferctl.flow.gov:apply_submit_proposal",
    "/cosmos.gov.v1.MsgVote": "inferctl.flow.gov:apply_vote",
    "/inferctl.v1.TallyProposal": "inferctl.flow.gov:apply_tally",
    "/inference.inference.MsgSubmitHardwareDiff": "inferctl.flow.nodes:apply_hardware_diff",
    "/inferctl.v1.RegisterNodes": "inferctl.flow.nodes:apply_register_nodes",
    "/inferctl.v1.SetNodeAdminState": "inferctl.flow.nodes:apply_set_admin_state",
    "/inference.inference.MsgSubmitNewParticipant": (
        "inferctl.flow.participants:apply_new_participant"
    ),
    "/inference.inference.MsgSubmitNewUnfundedParticipant": (
        "inferctl.flow.participants:apply_new_unfunded_participant"
    ),
    "/inferctl.v1.SubmitPocResult": "inferctl.flow.epochs:apply_poc_result",
    "/inferctl.v1.FormEpoch": "inferctl.flow.epochs:apply_form_epoch",
    "/inferctl.v1.SetNewValidators": "inferctl.flow.epochs:apply_set_new_validators",
    "/inferctl.v1.StartEpoch": "inferctl.flow.epochs:apply_start_epoch",
    "/inferctl.v1.AdvanceBlocks": "inferctl.flow.chain:apply_advance_blocks",
}


@dataclass
class TxContext:
    """The record's height and time, which a handler may read besides the state."""

    height: int
    time_ns: int
    home: str
    # Messages for stderr (e.g. "replaced model X"); never part of the state.
    notes: list[str] = field(default_factory=list)


Handler = Callable[[State, dict[str, Any], TxContext], Any]
_loaded: dict[str, Handler] = {}


def handler_for(tx_type: str) -> Handler:
    """Return the validate-and-apply function of a transaction type."""
    handler = _loaded.get(tx_type)
    if handler is not None:
        return handler
    target = HANDLERS.get(tx_type)
    if target is None:
        raise InvalidInput(
            f"unknown transaction type {tx_type!r}",
            hint="see `inferctl apply --help` for the list of types",
        )
    module_name, function_name = target.split(":")
    handler = getattr(importlib.import_module(module_name), function_name)
    _loaded[tx_type] = handler
    return handler


def apply_tx(state: State, tx_type: str, body: Any, ctx: TxContext) -> Any:
    """Validate `body` against `state` and apply it; return the handler's result."""
    if not isinstance(body, dict):
        raise InvalidInput(f"{tx_type}: body must be a JSON object, got {body!r}")
    if tx_type != GENESIS and not state:
        raise InvalidInput(f"{tx_type}: the ledger has no genesis yet")
    return handler_for(tx_type)(state, body, ctx)


class Unchanged(Exception):
    """Raised by a handler when the transaction would change nothing.

    The ledger appends no record for it; the message is shown to the user.
    """
