"""The chain's REST queries (`/productscience/inference/inference/...`) over the ledger.

Paths and response field names are those of gonka's `query.proto` (the
`google.api.http` options of service Query); bodies are Cosmos proto JSON. Lists
that the chain pages come back whole, with a `pagination` object whose `next_key`
is null and whose `total` counts every item.
"""

from __future__ import annotations

from typing import Any

from inferctl.server import render
from inferctl.server.app import HttpError, Request, Response
from inferctl.server.writes import read

PREFIX = "/productscience/inference/inference"


def _page(items: list[Any]) -> dict[str, Any]:
    return {"next_key": None, "total": str(len(items))}


def get_params(request: Request) -> Response:
    """Serve QueryParams: the inference module's params."""
    from inferctl.genesis.protojson import encode

    state, _head = read(request)
    return Response(200, {"params": encode("Params", state.get("params") or {})})


def get_models_all(request: Request) -> Response:
    """Serve ModelsAll: every registry model in id byte order."""
    from inferctl.flow.models import list_models

    state, _head = read(request)
    models = [render.model_json(model) for model in list_models(state)]
    # gonka's ModelsAll reads the whole registry without paging.
    return Response(200, {"model": models, "pagination": None})


def get_participant(request: Request) -> Response:
    """Serve Participant(index); 404 names the unknown address."""
    state, _head = read(request)
    address = request.params["index"]
    record = state.get("participants", {}).get(address)
    if record is None:
        raise HttpError(404, f"participant not found: {address}; see "
                             f"{PREFIX}/participant for the list")
    return Response(200, {"participant": render.participant_json(record)})


def get_participant_all(request: Request) -> Response:
    """Serve ParticipantAll: every participant in address byte order."""
    from inferctl.flow.participants import sorted_participants

    state, _head = read(request)
    records = [render.participant_json(r) for r in sorted_participants(state)]
    return Response(200, {"participant": records, "pagination": _page(records),
                          "block_height": str(state.get("block_height", 0))})


def get_hardware_nodes(request: Request) -> Response:
    """Serve HardwareNodes(participant); an unknown participant has an empty list."""
    state, _head = read(request)
    participant = request.params["participant"]
    nodes = state.get("hardware", {}).get(participant, {})
    return Response(200, {"nodes": render.hardware_nodes_json(participant, nodes)})


def get_hardware_nodes_all(request: Request) -> Response:
    """Serve HardwareNodesAll: one record per participant that has one."""
    state, _head = read(request)
    hardware = state.get("hardware", {})
    records = [render.hardware_nodes_json(participant, hardware[participant])
               for participant in sorted(hardware)]
    return Response(200, {"nodes": records})
