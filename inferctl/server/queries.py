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
    from inferctl.flow.epochs import epoch_group_data_json

    return epoch_group_data_json(group)


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
