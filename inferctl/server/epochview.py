"""Epoch data as the API node shows it: per-node epoch maps and active participants."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from inferctl.server import render
from inferctl.server.app import HttpError

PARENT = ""
UINT64_MAX = 2**64 - 1


def latest_epoch(state: dict[str, Any]) -> int:
    """Return the latest epoch index: the upcoming one once started, else the effective."""
    return max((int(key) for key in state.get("epoch_groups", {})), default=0)


def node_epoch_data(state: dict[str, Any], participant: str
                    ) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Return {node_id: (epoch_models, epoch_ml_nodes)} for one participant's nodes.

    As the API node fills them: from the latest epoch's sub-groups, for each model
    whose validation weights list this participant, the model snapshot and the
    participant's MLNodeInfo of each listed node id.
    """
    groups = state.get("epoch_groups", {}).get(str(latest_epoch(state)), {})
    parent = groups.get(PARENT) or {}
    found: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for model_id in parent.get("sub_group_models", []):
        group = groups.get(model_id) or {}
        for weight in group.get("validation_weights", []):
            if weight["member_address"] != participant:
                continue
            for node in weight.get("ml_nodes") or []:
                models, nodes = found.setdefault(node["node_id"], ({}, {}))
                models[model_id] = render.go_model_json(group.get("model_snapshot"))
                nodes[model_id] = render.go_omit_zero(dict(node))
    return found


# ----- /v1/epochs/{epoch}/participants ---------------------------------------------


def resolve_epoch(state: dict[str, Any], text: str) -> int:
    """Return the epoch index named in the path: a number, or `current`."""
    if text == "current":
        return int(state.get("effective_epoch", 0))
    if not text.isascii() or not text.isdigit() or int(text) > UINT64_MAX:
        raise HttpError(400, f"invalid epoch {text!r}: expected a whole number or "
                             "`current`")
    return int(text)


def active_participants_response(state: dict[str, Any], text: str) -> dict[str, Any]:
    """Build the public API's response for one epoch's active participants.

    The chain-proof fields stay empty: the ledger has no blocks, validator sets or
    Merkle proofs, so `active_participants_bytes` is "", `proof_ops` and `block` are
    null and `validators` is [].
    """
    index = resolve_epoch(state, text)
    if index == 0:
        raise HttpError(400, "epoch 0 has no active participants record; epochs with "
                             "one start at 1")
    record = state.get("active_participants", {}).get(str(index))
    if record is None:
        raise HttpError(404, f"epoch {index} has no active participants: it has not "
                             "been formed; see `inferctl epoch list`")
    participants = record["participants"]
    return {
        "active_participants": go_active_participants(record),
        "addresses": [validator_address(p.get("validator_key", ""))
                      for p in participants],
        "active_participants_bytes": "",
        "proof_ops": None,
        "validators": [],
        "block": None,
    }


def go_active_participants(record: dict[str, Any]) -> dict[str, Any]:
    """Encode ActiveParticipants as Go's encoding/json writes the gogoproto struct."""
    encoded = render.go_omit_zero({
        "participants": [_go_active_participant(p) for p in record["participants"]],
        "epoch_group_id": record.get("epoch_group_id", 0),
        "poc_start_block_height": record.get("poc_start_block_height", 0),
        "effective_block_height": record.get("effective_block_height", 0),
        "created_at_block_height": record.get("created_at_block_height", 0),
        "epoch_id": record.get("epoch_id", 0),
    })
    return encoded


def _go_active_participant(participant: dict[str, Any]) -> dict[str, Any]:
    seed = participant.get("seed")
    return render.go_omit_zero({
        "index": participant["index"],
        "validator_key": participant.get("validator_key", ""),
        "weight": participant.get("weight", 0),
        "inference_url": participant.get("inference_url", ""),
        "models": list(participant.get("models", [])),
        "seed": render.go_omit_zero(dict(seed)) if seed else None,
        "ml_nodes": [render.go_omit_zero({"ml_nodes": [
                         render.go_omit_zero(dict(node))
                         for node in group.get("ml_nodes", [])]})
                     for group in participant.get("ml_nodes", [])],
    })


def validator_address(validator_key: str) -> str:
    """Return CometBFT's validator address of an ED25519 key: sha256[:20], upper hex.

    An empty or undecodable key gives "".
    """
    try:
        raw = base64.b64decode(validator_key, validate=True)
    except (binascii.Error, ValueError):
        return ""
    if not raw:
        return ""
    return hashlib.sha256(raw).digest()[:20].hex().upper()
