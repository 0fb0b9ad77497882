"""The API node's admin endpoints (`/admin/v1/...`), for the participant it acts for.

Each write builds the same transaction as the matching CLI command and commits it
through the ledger; see docs/serve.md for bodies, responses and status codes.
"""

from __future__ import annotations

import copy
from typing import Any

from inferctl.errors import InferctlError
from inferctl.server import render
from inferctl.server.app import HttpError, Request, Response
from inferctl.server.writes import commit, read, require_object, require_participant

# The fixed deposit and texts of the proposal that gonka's admin API submits.
MODEL_PROPOSAL_DEPOSIT = [{"denom": "ngonka", "amount": "100000000"}]
MODEL_PROPOSAL_METADATA = "Created via decentralized-api"
# Response header naming the new proposal's id. gonka's response has no body at all.
PROPOSAL_ID_HEADER = "X-Inferctl-Proposal-Id"


# ----- models ----------------------------------------------------------------------


def post_model(request: Request) -> Response:
    """Submit a governance proposal that registers a model, as gonka's admin API does."""
    from inferctl.flow.gov import SUBMIT_PROPOSAL

    proposer = require_participant(request)
    body = require_object(request.json(), "model body")
    model_id, units = _model_fields(body)

    def build(state: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        return [(SUBMIT_PROPOSAL, model_proposal_body(state, proposer, model_id, units))]

    result = commit(request, build)
    headers = {PROPOSAL_ID_HEADER: str(result.results[0])} if result.results else {}
    return Response(200, empty=True, headers=headers)


def _model_fields(body: dict[str, Any]) -> tuple[str, int]:
    model_id = body.get("id")
    if not isinstance(model_id, str) or not model_id:
        raise HttpError(400, f"model body: id must be a non-empty string, got "
                             f"{model_id!r}")
    units = body.get("units_of_compute_per_token", 0)
    if isinstance(units, bool) or not isinstance(units, int) or not 0 <= units < 2**64:
        raise HttpError(400, "model body: units_of_compute_per_token must be a JSON "
                             f"integer from 0 to {2**64 - 1}, got {units!r}")
    return model_id, units


def model_proposal_body(state: dict[str, Any], proposer: str, model_id: str,
                        units: int) -> dict[str, Any]:
    """Build the MsgSubmitProposal that gonka's admin API sends for a model.

    The wrapped MsgRegisterModel sets only id and units; every other model field is
    empty and the validation threshold is null, exactly as upstream sends it.
    """
    from inferctl.flow import gov

    return gov.model_proposal(
        state, proposer, model_id, {"units_of_compute_per_token": units},
        deposit=[dict(coin) for coin in MODEL_PROPOSAL_DEPOSIT],
        metadata=MODEL_PROPOSAL_METADATA,
    )


# ----- nodes -----------------------------------------------------------------------


def post_node(request: Request) -> Response:
    """Register (or replace) one node entry and return 200 with the stored entry."""
    participant = require_participant(request)
    entry = request.json()
    if isinstance(entry, list):
        raise HttpError(400, "node body: expected one node entry object, got an "
                             "array; POST arrays to /admin/v1/nodes/batch")
    entry = require_object(entry, "node body")
    return _register_one(request, participant, entry)


def put_node(request: Request) -> Response:
    """Register or replace the node named in the path; the body's id must match."""
    participant = require_participant(request)
    entry = require_object(request.json(), "node body")
    node_id = request.params["id"]
    if entry.setdefault("id", node_id) != node_id:
        raise HttpError(400, f"node body: id {entry['id']!r} does not match the path "
                             f"id {node_id!r}")
    return _register_one(request, participant, entry)


def _register_one(request: Request, participant: str, entry: dict[str, Any]
                  ) -> Response:
    from inferctl.flow.nodes import REGISTER_NODES

    body = {"participant": participant, "nodes": [entry]}
    result = commit(request, [(REGISTER_NODES, body)])
    stored = _stored_config(result.state, participant, entry.get("id"))
    return Response(200, render.node_entry_json(stored))


def _stored_config(state: dict[str, Any], participant: str, node_id: Any
                   ) -> dict[str, Any]:
    node = state["hardware"][participant][node_id]
    return node["config"] or render.config_from_chain(node["chain"])


def post_nodes_batch(request: Request) -> Response:
    """Register a list of node entries, each on its own merits, in one commit.

    201 with the stored entries when all succeed; 206 with {nodes, errors, results}
    when some fail; 400 with {error, errors, results} when all fail.
    """
    participant = require_participant(request)
    entries = request.json()
    if not isinstance(entries, list):
        raise HttpError(400, "batch body: expected a JSON array of node entries, got a "
                             f"JSON {render.json_type_name(entries)}")
    if not entries:
        return Response(201, [])
    outcomes: list[dict[str, Any]] = []
    result = commit(request, lambda state: _batch_txs(state, participant, entries,
                                                      outcomes))
    return _batch_response(result.state, participant, outcomes)


def _batch_txs(state: dict[str, Any], participant: str, entries: list[Any],
               outcomes: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Try each entry on a scratch copy of the state; return one tx of those that pass.

    The entries that pass are committed together as one RegisterNodes, the same
    transaction that `inferctl node register --file` commits for the same file.
    """
    from inferctl.flow.nodes import REGISTER_NODES

    scratch = copy.deepcopy(state)
    accepted: list[Any] = []
    first_index: dict[str, int] = {}
    for index, entry in enumerate(entries):
        outcome = _try_entry(scratch, participant, index, entry, first_index)
        outcomes.append(outcome)
        if outcome["ok"]:
            accepted.append(entry)
            first_index[outcome["id"]] = index
    if not accepted:
        return []
    return [(REGISTER_NODES, {"participant": participant, "nodes": accepted})]


def _try_entry(scratch: dict[str, Any], participant: str, index: int, entry: Any,
               first_index: dict[str, int]) -> dict[str, Any]:
    from inferctl.flow.nodes import REGISTER_NODES
    from inferctl.txs import TxContext, Unchanged, apply_tx

    node_id = entry.get("id") if isinstance(entry, dict) else None
    outcome: dict[str, Any] = {"index": index, "id": node_id, "ok": False}
    if isinstance(node_id, str) and node_id in first_index:
        outcome["error"] = (f"duplicate node id {node_id!r}, already used by entry "
                            f"[{first_index[node_id]}] of this batch")
        return outcome
    body = {"participant": participant, "nodes": [entry]}
    try:
        apply_tx(scratch, REGISTER_NODES, body, TxContext(0, 0, ""))
    except Unchanged:
        pass
    except InferctlError as exc:
        outcome["error"] = str(exc)
        return outcome
    outcome["ok"] = True
    return outcome


def _batch_response(state: dict[str, Any], participant: str,
                    outcomes: list[dict[str, Any]]) -> Response:
    nodes = [render.node_entry_json(_stored_config(state, participant, o["id"]))
             for o in outcomes if o["ok"]]
    errors = [f"node[{o['index']}] (id: {o['id']}): {o['error']}"
              for o in outcomes if not o["ok"]]
    if not errors:
        return Response(201, nodes)
    if not nodes:
        return Response(400, {"error": "all nodes failed validation", "errors": errors,
                              "results": outcomes})
    return Response(206, {"nodes": nodes, "errors": errors, "results": outcomes})


def delete_node(request: Request) -> Response:
    """Remove a node of this participant by a hardware diff; 404 for an unknown id."""
    from inferctl.flow.nodes import HARDWARE_DIFF, removal_diff

    participant = require_participant(request)
    node_id = request.params["id"]
    commit(request, lambda state: [(HARDWARE_DIFF,
                                    removal_diff(state, participant, [node_id]))])
    return Response(200, True)


def enable_node(request: Request) -> Response:
    """Enable a node from the latest epoch on."""
    return _set_admin_state(request, True)


def disable_node(request: Request) -> Response:
    """Disable a node: it serves through the latest epoch and stops after it."""
    return _set_admin_state(request, False)


def _set_admin_state(request: Request, enabled: bool) -> Response:
    from inferctl.flow.nodes import SET_ADMIN_STATE, get_node

    participant = require_participant(request)
    node_id = request.params["id"]
    body = {"participant": participant, "node_id": node_id, "enabled": enabled}
    result = commit(request, [(SET_ADMIN_STATE, body)])
    admin_state = get_node(result.state, participant, node_id)["admin_state"]
    word = "enabled" if enabled else "disabled"
    return Response(200, {"message": f"node {word} successfully", "node_id": node_id,
                          "admin_state": admin_state})


def get_nodes(request: Request) -> Response:
    """List this participant's nodes as [{node, state}], as the broker reports them."""
    from inferctl.server.epochview import node_epoch_data

    participant = require_participant(request)
    state, head = read(request)
    nodes = state.get("hardware", {}).get(participant, {})
    epoch_data = node_epoch_data(state, participant)
    entries = []
    for number, node_id in enumerate(sorted(nodes), start=1):
        entries.append(_node_with_state(nodes[node_id], node_id, number, head.time,
                                        epoch_data.get(node_id, ({}, {}))))
    return Response(200, entries)


def _node_with_state(entry: dict[str, Any], node_id: str, number: int, timestamp: str,
                     epoch_data: tuple[dict[str, Any], dict[str, Any]]
                     ) -> dict[str, Any]:
    config = entry["config"] or render.config_from_chain(entry["chain"])
    epoch_models, epoch_ml_nodes = epoch_data
    status = entry["chain"]["status"]
    return {
        "node": render.node_entry_json(config, node_num=number),
        "state": {
            "intended_status": status,
            "current_status": status,
            "poc_intended_status": "IDLE",
            "poc_current_status": "IDLE",
            "lock_count": 0,
            "failure_reason": "",
            "status_timestamp": timestamp,
            "admin_state": dict(entry["admin_state"]),
            "epoch_models": epoch_models,
            "epoch_ml_nodes": epoch_ml_nodes,
        },
    }


def get_participant_models(request: Request) -> Response:
    """List the unique model ids of a participant's nodes (gonka's getUniqueModels)."""
    from inferctl.flow.participants import participant_models

    participant = request.arg("participant") or require_participant(request)
    state, _head = read(request)
    return Response(200, {"address": participant,
                          "models": participant_models(state, participant)})
