"""The genesis transaction: the state at height 1, read from the stored document."""

from __future__ import annotations

from typing import Any

from inferctl.errors import InvalidInput
from inferctl.txs import State, TxContext


def build_state(genesis: Any, document_digest: str) -> State:
    """Return the initial state for a parsed genesis document."""
    from inferctl.bech32 import module_address

    gov = genesis.doc.get("app_state", {}).get("gov", {})
    starting_id = gov.get("starting_proposal_id", "1") if isinstance(gov, dict) else "1"
    state: State = {
        "chain_id": genesis.chain_id,
        "genesis_time_ns": genesis.genesis_time_ns,
        "prefix": genesis.prefix,
        "authority": module_address("gov", genesis.prefix),
        "genesis_document": document_digest,
        "params": genesis.params,
        "genesis_only_params": genesis.genesis_only_params,
        "cosm_wasm_params": _without_wasm_code(genesis.cosm_wasm_params),
        "gov_params": genesis.gov_params,
        "models": {},
        "participants": {},
        "hardware": {},
        "proposals": {},
        "next_proposal_id": _int_or(starting_id, 1),
        "block_height": 0,
    }
    for model in genesis.models:
        stored = dict(model)
        stored["proposed_by"] = state["authority"]
        state["models"][model["id"]] = stored
    for participant in genesis.participants:
        state["participants"][participant["index"]] = participant
    from inferctl.flow import epochs

    epochs.init_genesis_epochs(state, genesis.doc)
    return state


def _without_wasm_code(params: dict[str, Any] | None) -> dict[str, Any] | None:
    """Drop the cw20 wasm blob (about 500 KB on mainnet) from the state.

    It never changes after genesis, and the export takes it from the stored genesis
    document, so keeping it out keeps the snapshot small and fast to load.
    """
    if params is None:
        return None
    return {key: value for key, value in params.items() if key != "cw20_code"}


def _int_or(value: Any, default: int) -> int:
    try:
        return int(str(value).replace("_", ""))
    except ValueError:
        return default


def apply_genesis(state: State, body: dict[str, Any], ctx: TxContext) -> State:
    """Start the state from the genesis document named in the body."""
    from inferctl.genesis.codec import parse_genesis
    from inferctl.ledger.store import Ledger

    if state:
        raise InvalidInput("the ledger already has a genesis record")
    document = body.get("document")
    if not isinstance(document, str):
        raise InvalidInput("genesis body needs a document digest")
    genesis = parsed_documents.pop(document, None)
    if genesis is None:
        data = Ledger(ctx.home).read_document(document)
        genesis = parse_genesis(data, f"genesis document {document}")
    state.update(build_state(genesis, document))
    return state


# Genesis documents that this process has already parsed and checked, by digest, so
# that `genesis import` and `genesis init` do not parse the document a second time
# when they apply the genesis record. Each entry is used once.
parsed_documents: dict[str, Any] = {}
