"""Chain queries about epochs: current epoch, epoch group data, random executor."""

from __future__ import annotations

from typing import Any

from inferctl.server import render
from inferctl.server.app import HttpError, Request, Response
from inferctl.server.writes import read

PARENT = ""
UINT64_MAX = 2**64 - 1


def get_current_epoch(request: Request) -> Response:
    """Serve GetCurrentEpoch: the effective epoch's index."""
    state, _head = read(request)
    return Response(200, {"epoch": str(int(state.get("effective_epoch", 0)))})


def get_current_epoch_group_data(request: Request) -> Response:
    """Serve CurrentEpochGroupData: the effective epoch's parent group."""
    state, _head = read(request)
    index = int(state.get("effective_epoch", 0))
    return Response(200, {"epoch_group_data": _group_json(state, index, PARENT)})


def get_epoch_group_data(request: Request) -> Response:
    """Serve EpochGroupData(epoch_index, model_id); the parent group when no model."""
    state, _head = read(request)
    text = request.params["epoch_index"]
    if not text.isascii() or not text.isdigit() or int(text) > UINT64_MAX:
        raise HttpError(400, f"invalid epoch_index {text!r}: expected a uint64")
    model_id = request.arg("model_id") or PARENT
    return Response(200, {"epoch_group_data": _group_json(state, int(text), model_id)})


def _group_json(state: dict[str, Any], index: int, model_id: str) -> dict[str, Any]:
    group = state.get("epoch_groups", {}).get(str(index), {}).get(model_id)
    if group is None:
        what = f"model {model_id!r}" if model_id else "the parent group"
        raise HttpError(404, f"epoch group data not found for epoch {index} and "
                             f"{what}; see `inferctl epoch show {index}`")
    return epoch_group_data_json(group)


def epoch_group_data_json(group: dict[str, Any]) -> dict[str, Any]:
    """Encode EpochGroupData as proto JSON (64-bit integers as strings)."""
    from inferctl.genesis.protojson import encode

    return {
        "poc_start_block_height": str(group["poc_start_block_height"]),
        "epoch_group_id": str(group["epoch_group_id"]),
        "epoch_policy": group["epoch_policy"],
        "effective_block_height": str(group["effective_block_height"]),
        "last_block_height": str(group["last_block_height"]),
        "member_seed_signatures": [dict(s) for s in group["member_seed_signatures"]],
        "validation_weights": [_validation_weight_json(w)
                               for w in group["validation_weights"]],
        "unit_of_compute_price": str(group["unit_of_compute_price"]),
        "number_of_requests": str(group["number_of_requests"]),
        "previous_epoch_requests": str(group["previous_epoch_requests"]),
        "validation_params": encode("ValidationParams", group["validation_params"]),
        "total_weight": str(group["total_weight"]),
        "model_id": group["model_id"],
        "sub_group_models": list(group["sub_group_models"]),
        "epoch_index": str(group["epoch_index"]),
        "model_snapshot": (render.model_json(group["model_snapshot"])
                           if group["model_snapshot"] is not None else None),
        "total_throughput": str(group["total_throughput"]),
    }


def _validation_weight_json(weight: dict[str, Any]) -> dict[str, Any]:
    return {
        "member_address": weight["member_address"],
        "weight": str(weight["weight"]),
        "reputation": int(weight["reputation"]),
        "ml_nodes": [ml_node_json(node) for node in weight.get("ml_nodes") or []],
    }


def ml_node_json(node: dict[str, Any]) -> dict[str, Any]:
    """Encode MLNodeInfo as proto JSON."""
    return {
        "node_id": node["node_id"],
        "throughput": str(node["throughput"]),
        "poc_weight": str(node["poc_weight"]),
        "timeslot_allocation": list(node["timeslot_allocation"]),
    }


# ----- GetRandomExecutor -------------------------------------------------------------


def get_random_executor(request: Request) -> Response:
    """Serve GetRandomExecutor(model): a weighted random member of the model's group.

    `seed` (an integer) makes the pick repeatable, as `inferctl executor pick
    --seed` does. Without `phase`, the filter follows the phase at the ledger's
    block height, as the chain's query does and as `inferctl executor pick` does;
    `phase=inference` keeps every member and `phase=poc` only members with a
    POC_SLOT node for the model.
    """
    import random

    from inferctl.flow import executor

    state, _head = read(request)
    model_id = request.arg("model") or ""
    phase = request.arg("phase")
    if phase is None:
        found = executor.candidates_at_height(state, model_id)
    elif phase in executor.PHASES:
        found = executor.candidates(state, model_id, phase)
    else:
        raise HttpError(400, f"invalid phase {phase!r}: expected one of "
                             f"{', '.join(executor.PHASES)}")
    chosen = executor.pick(found, random.Random(_seed(request.arg("seed"))))
    record = state.get("participants", {}).get(chosen.address)
    if record is None:
        raise HttpError(500, f"picked member {chosen.address} is not in the "
                             "participant store")
    return Response(200, {"executor": render.participant_json(record)})


def _seed(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise HttpError(400, f"invalid seed {text!r}: expected an integer") from None
