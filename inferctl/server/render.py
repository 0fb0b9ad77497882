"""JSON shapes of the served objects, in the two encodings gonka's servers use.

Chain query routes (`/productscience/...`) respond in Cosmos proto JSON, as the
chain's REST gateway does: proto field names, 64-bit integers as strings, enums as
names, every field present. The API node's own routes (`/admin/v1/...`, `/v1/...`)
respond in Go `encoding/json` form, as the API node does: snake_case keys, integers as
numbers, and for chain types (gogoproto tags with `omitempty`) zero fields left out.
"""

from __future__ import annotations

from typing import Any

# Key order of the API node's node entry (`InferenceNodeConfig` and the broker's Node).
NODE_KEYS = ("host", "inference_segment", "inference_port", "poc_segment", "poc_port",
             "models", "id", "max_concurrent", "node_num", "hardware", "version")

# Go json of chain types: these Model fields are 64-bit integers, sent as numbers.
MODEL_FIELDS = ("proposed_by", "id", "units_of_compute_per_token", "context_window",
                "quantization", "coins_per_input_token", "coins_per_output_token",
                "hf_repo", "hf_commit", "model_args", "v_ram", "throughput_per_nonce",
                "validation_threshold")


# ----- proto JSON (chain queries) --------------------------------------------------


def participant_json(record: dict[str, Any]) -> dict[str, Any] | None:
    """Encode a Participant as the chain's REST gateway does."""
    from inferctl.genesis.protojson import encode

    return encode("Participant", record)


def model_json(model: dict[str, Any]) -> dict[str, Any]:
    """Encode a Model as the chain's REST gateway does."""
    from inferctl.flow.models import model_json as encode_model

    return encode_model(model)


def hardware_node_json(chain: dict[str, Any]) -> dict[str, Any]:
    """Encode a HardwareNode (uint32 counts stay numbers, the port is a string)."""
    return {
        "local_id": chain["local_id"],
        "status": chain["status"],
        "models": list(chain["models"]),
        "hardware": [{"type": h["type"], "count": int(h["count"])}
                     for h in chain["hardware"]],
        "host": chain["host"],
        "port": chain["port"],
    }


def hardware_nodes_json(participant: str, nodes: dict[str, Any]) -> dict[str, Any]:
    """Encode one participant's HardwareNodes record, nodes in local_id order."""
    return {
        "participant": participant,
        "hardware_nodes": [hardware_node_json(nodes[node_id]["chain"])
                           for node_id in sorted(nodes)],
    }


def decimal_json(decimal: dict[str, int] | None) -> dict[str, Any] | None:
    """Encode a gonka Decimal: the int64 value as a string, the exponent a number."""
    if decimal is None:
        return None
    return {"value": str(decimal["value"]), "exponent": int(decimal["exponent"])}


# ----- Go encoding/json (API node routes) ------------------------------------------


def node_entry_json(config: dict[str, Any], node_num: int | None = None
                    ) -> dict[str, Any]:
    """Encode a node-config entry as the API node's admin API returns it.

    `node_num` is written only when given, as the broker's Node carries it and the
    config entry does not.
    """
    entry: dict[str, Any] = {}
    for key in NODE_KEYS:
        if key == "node_num":
            if node_num is not None:
                entry[key] = node_num
            continue
        if key == "models":
            models = config.get("models") or {}
            entry[key] = {model_id: {"args": list(models[model_id].get("args", []))}
                          for model_id in sorted(models)}
        elif key == "hardware":
            entry[key] = [{"type": h["type"], "count": h["count"]}
                          for h in config.get("hardware") or []]
        else:
            entry[key] = config.get(key, _go_zero(key))
    return entry


def _go_zero(key: str) -> Any:
    if key in ("inference_port", "poc_port", "max_concurrent"):
        return 0
    return ""


def config_from_chain(chain: dict[str, Any]) -> dict[str, Any]:
    """Return a node entry for a node that only a raw hardware diff created.

    Such a node has no API-node config; the chain record gives id, host, PoC port,
    models (without arguments) and hardware, and everything else is zero.
    """
    port_text = chain.get("port", "")
    return {
        "id": chain["local_id"],
        "host": chain.get("host", ""),
        "poc_port": int(port_text) if port_text.isascii() and port_text.isdigit() else 0,
        "models": {model_id: {"args": []} for model_id in chain.get("models", [])},
        "hardware": [dict(h) for h in chain.get("hardware", [])],
    }


def go_model_json(model: dict[str, Any] | None) -> dict[str, Any]:
    """Encode a Model as Go's encoding/json writes the gogoproto struct: zero fields out."""
    output: dict[str, Any] = {}
    for name in MODEL_FIELDS:
        value = (model or {}).get(name)
        if name == "validation_threshold":
            value = go_omit_zero(value or {})
        if value in (None, "", 0, [], {}):
            continue
        output[name] = value
    return output


def go_omit_zero(message: dict[str, Any]) -> dict[str, Any]:
    """Drop zero-valued fields, as gogoproto's `omitempty` json tags do."""
    return {key: value for key, value in message.items()
            if value not in (None, "", 0, [], {}, False)}


def json_type_name(value: Any) -> str:
    """Return the JSON name of a parsed value's type (object, array, string...)."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"
