"""ML nodes (hardware): registration, hardware diffs and the admin enable/disable state.

State layout, per participant address and node id (the id alone is not unique: two
participants may both have a node `node1`):

    state["hardware"][address][local_id] = {
        "chain": HardwareNode {local_id, status, models, hardware, host, port},
        "config": the node-config entry (None for a node that only a raw
                  MsgSubmitHardwareDiff created),
        "admin_state": {"enabled": bool, "epoch": int},
    }

Both maps are kept in ascending key order, which for node ids is the chain's
`local_id` order. Changes take effect at once in the state but reach routing only
when the next epoch is formed, because formation reads `chain` then.

Transaction types:

* `/inferctl.v1.RegisterNodes` {participant, nodes: [node-config entries]} is the
  API node's RegisterNode followed by its hardware sync. `chain_diff(body)` returns
  the MsgSubmitHardwareDiff that the chain receives for it.
* `/inference.inference.MsgSubmitHardwareDiff` {creator, newOrModified, removed} is
  the chain message itself.
* `/inferctl.v1.SetNodeAdminState` {participant, node_id, enabled} is the admin API's
  enable/disable.
"""

from __future__ import annotations

from typing import Any

from inferctl.errors import InvalidInput, NotFound
from inferctl.flow import nodeconfig
from inferctl.flow.participants import check_address, check_body_keys
from inferctl.txs import State, TxContext, Unchanged

REGISTER_NODES = "/inferctl.v1.RegisterNodes"
HARDWARE_DIFF = "/inference.inference.MsgSubmitHardwareDiff"
SET_ADMIN_STATE = "/inferctl.v1.SetNodeAdminState"

REGISTER_KEYS = ("participant", "nodes")
DIFF_KEYS = ("creator", "newOrModified", "removed")
ADMIN_KEYS = ("participant", "node_id", "enabled")

# The config fields that the change notes name, in the order they are listed.
CONFIG_FIELDS = nodeconfig.CONFIG_KEYS


def latest_epoch_index(state: State) -> int:
    """Return the index of the latest epoch in the state (0 before the first one)."""
    return max((int(key) for key in state.get("epochs", {})), default=0)


def check_registry(state: State, nodes: list[dict[str, Any]], what: str) -> None:
    """Reject the transaction if any node lists a model that is not in the registry.

    The chain fails with a bare "invalid model", but this error names every unknown
    model and the nodes that list it.
    """
    registry = state.get("models", {})
    unknown: dict[str, list[str]] = {}
    for node in nodes:
        for model_id in node["models"]:
            if model_id not in registry:
                unknown.setdefault(model_id, []).append(node["local_id"])
    if not unknown:
        return
    listed = "; ".join(
        f"{model_id!r} (node {', '.join(map(repr, ids))})"
        for model_id, ids in sorted(unknown.items())
    )
    noun = "model is" if len(unknown) == 1 else "models are"
    raise InvalidInput(
        f"{what}: {len(unknown)} {noun} not in the model registry: {listed}",
        hint="model ids are case-sensitive; see `inferctl model list`, or register "
        "the model by a governance proposal first",
    )


# ----- RegisterNodes -------------------------------------------------------------


def check_register_body(state: State, body: dict[str, Any]) -> tuple[str, list[Any]]:
    """Check a RegisterNodes body and return the participant and the checked entries."""
    what = "RegisterNodes"
    check_body_keys(body, REGISTER_KEYS, REGISTER_KEYS, what)
    participant = body["participant"]
    check_address(participant, state["prefix"], "participant")
    entries = nodeconfig.check_entries(body["nodes"], f"{what} nodes")
    return participant, entries


def chain_diff(body: dict[str, Any]) -> dict[str, Any]:
    """Return the MsgSubmitHardwareDiff body that a RegisterNodes body sends to chain.

    Every listed node goes in `newOrModified` with the status of a newly registered
    node, and `removed` is empty.
    """
    entries = nodeconfig.check_entries(body["nodes"], "RegisterNodes nodes")
    return {
        "creator": body["participant"],
        "newOrModified": [nodeconfig.to_chain(entry) for entry in entries],
        "removed": [],
    }


def apply_register_nodes(
    state: State, body: dict[str, Any], ctx: TxContext
) -> dict[str, Any]:
    """Record node configs and apply their hardware diff to the changed nodes."""
    participant, entries = check_register_body(state, body)
    chains = [nodeconfig.to_chain(entry) for entry in entries]
    check_registry(state, chains, "RegisterNodes")

    existing = state["hardware"].get(participant, {})
    changed = [
        (entry, chain)
        for entry, chain in zip(entries, chains, strict=True)
        if not _is_same(existing.get(entry["id"]), entry, chain)
    ]
    if not changed:
        ids = ", ".join(entry["id"] for entry in entries)
        subject = (
            f"nodes {ids} of {participant} are"
            if len(entries) > 1
            else f"node {ids} of {participant} is"
        )
        raise Unchanged(
            f"{subject} already registered with this configuration; nothing recorded"
        )

    _note_unregistered(state, participant, ctx)
    nodes = _participant_nodes(state, participant)
    epoch = latest_epoch_index(state)
    for entry, chain in changed:
        _note_replacement(nodes.get(entry["id"]), entry, chain, participant, ctx)
        record = {
            "chain": chain,
            "config": entry,
            "admin_state": {"enabled": True, "epoch": epoch},
        }
        # Not kept in key order: re-sorting on each insert made one participant with
        # thousands of nodes quadratic. Readers sort node ids where order matters.
        nodes[entry["id"]] = record
    return {
        "participant": participant,
        "changed": [e["id"] for e, _c in changed],
        "unchanged": len(entries) - len(changed),
    }


def _is_same(
    stored: dict[str, Any] | None, entry: dict[str, Any], chain: dict[str, Any]
) -> bool:
    # Every field counts, host and port included. The API node's sync compares only
    # id, status, models and hardware, so it never pushes a host or port change.
    return stored is not None and stored["config"] == entry and stored["chain"] == chain


def _participant_nodes(state: State, participant: str) -> dict[str, Any]:
    nodes = state["hardware"].get(participant)
    if nodes is None:
        nodes = {}
        # Top-level maps are not kept in key order: re-sorting them on every insert made
        # a batch of joins in random order quadratic. Readers that need an order sort.
        state["hardware"][participant] = nodes
    return nodes


def _note_unregistered(state: State, participant: str, ctx: TxContext) -> None:
    if participant not in state.get("participants", {}):
        ctx.notes.append(
            f"{participant} is not a registered participant; the chain "
            "accepts its nodes anyway, but they serve only after it joins"
        )


def _note_replacement(
    stored: dict[str, Any] | None,
    entry: dict[str, Any],
    chain: dict[str, Any],
    participant: str,
    ctx: TxContext,
) -> None:
    if stored is None:
        return
    old_config = stored["config"] or {}
    fields = [key for key in CONFIG_FIELDS if old_config.get(key) != entry[key]]
    if stored["chain"]["status"] != chain["status"]:
        fields.append("status")
    text = (
        f"replaced node {entry['id']} of {participant} (changed: {', '.join(fields)})"
    )
    if not stored["admin_state"]["enabled"]:
        text += "; the node is enabled again, as the API node does on registration"
    ctx.notes.append(text)


# ----- MsgSubmitHardwareDiff -----------------------------------------------------


def check_diff_body(
    state: State, body: dict[str, Any]
) -> tuple[str, list[Any], list[Any]]:
    """Check a MsgSubmitHardwareDiff body and return creator, newOrModified, removed."""
    what = "MsgSubmitHardwareDiff"
    check_body_keys(body, DIFF_KEYS, ("creator",), what)
    creator = body["creator"]
    check_address(creator, state["prefix"], "creator")
    problems: list[str] = []
    lists = []
    for key in ("newOrModified", "removed"):
        value = body.get(key, [])
        if not isinstance(value, list):
            problems.append(f"{key}: must be an array of HardwareNode objects")
            value = []
        lists.append(
            [
                nodeconfig.check_hardware_node(node, f"{key}[{i}]", problems)
                for i, node in enumerate(value)
            ]
        )
    nodeconfig.raise_problems(what, problems)
    return creator, lists[0], lists[1]


def apply_hardware_diff(
    state: State, body: dict[str, Any], ctx: TxContext
) -> dict[str, Any]:
    """Apply a hardware diff as the chain does: remove by local_id, then put nodes.

    Models are checked for `newOrModified` only. Unknown removed ids are ignored, a
    node in both lists ends up present, and removing every node leaves an empty
    record that still exists. Model lists are stored as sent.
    """
    creator, new_nodes, removed = check_diff_body(state, body)
    check_registry(state, new_nodes, "MsgSubmitHardwareDiff")

    before = state["hardware"].get(creator)
    nodes = dict(before or {})
    for node in removed:
        nodes.pop(node["local_id"], None)
    epoch = latest_epoch_index(state)
    for node in new_nodes:
        nodes[node["local_id"]] = _with_broker_side(
            node, (before or {}).get(node["local_id"]), epoch
        )
    ordered = dict(sorted(nodes.items()))
    if before is not None and ordered == before:
        raise Unchanged(
            f"the hardware diff changes no node of {creator}; nothing recorded"
        )

    _note_unregistered(state, creator, ctx)
    # Top-level maps are not kept in key order: re-sorting them on every insert made
    # a batch of joins in random order quadratic. Readers that need an order sort.
    state["hardware"][creator] = ordered
    return {"participant": creator, "nodes": list(ordered)}


def _with_broker_side(
    chain: dict[str, Any], previous: dict[str, Any] | None, epoch: int
) -> dict[str, Any]:
    # Only the chain record is replaced. The API node's config and admin state stay.
    if previous is None:
        return {
            "chain": chain,
            "config": None,
            "admin_state": {"enabled": True, "epoch": epoch},
        }
    return {
        "chain": chain,
        "config": previous["config"],
        "admin_state": previous["admin_state"],
    }


def removal_diff(state: State, participant: str, node_ids: list[str]) -> dict[str, Any]:
    """Return the hardware diff that removes the named nodes.

    Raises NotFound naming every id that the participant has no node for.
    """
    nodes = state.get("hardware", {}).get(participant, {})
    missing = [node_id for node_id in node_ids if node_id not in nodes]
    if missing:
        raise NotFound(
            f"node not found: {', '.join(missing)} (participant {participant})",
            hint=f"see `inferctl node list --participant {participant}`",
        )
    unique = list(dict.fromkeys(node_ids))
    return {
        "creator": participant,
        "newOrModified": [],
        "removed": [nodes[node_id]["chain"] for node_id in unique],
    }


# ----- admin state ---------------------------------------------------------------


def apply_set_admin_state(
    state: State, body: dict[str, Any], ctx: TxContext
) -> dict[str, Any]:
    """Enable or disable a node from the latest epoch on, as the admin API does.

    An enabled node serves in every later epoch and, in the epoch it was enabled in,
    only during the inference phase. A disabled node serves through the epoch it was
    disabled in and stops from the next one.
    """
    what = "SetNodeAdminState"
    check_body_keys(body, ADMIN_KEYS, ADMIN_KEYS, what)
    participant, node_id, enabled = (
        body["participant"],
        body["node_id"],
        body["enabled"],
    )
    check_address(participant, state["prefix"], "participant")
    if not isinstance(node_id, str):
        raise InvalidInput(f"{what}: node_id {node_id!r} must be a string")
    if not isinstance(enabled, bool):
        raise InvalidInput(f"{what}: enabled {enabled!r} must be true or false")

    entry = get_node(state, participant, node_id)
    admin_state = {"enabled": enabled, "epoch": latest_epoch_index(state)}
    if entry["admin_state"] == admin_state:
        word = "enabled" if enabled else "disabled"
        raise Unchanged(
            f"node {node_id} of {participant} is already {word} at epoch "
            f"{admin_state['epoch']}; nothing recorded"
        )
    entry["admin_state"] = admin_state
    return {"participant": participant, "id": node_id, "admin_state": admin_state}


# ----- reads ---------------------------------------------------------------------


def get_node(state: State, participant: str, node_id: str) -> dict[str, Any]:
    """Return the stored node entry; NotFound names the id and the participant."""
    entry = state.get("hardware", {}).get(participant, {}).get(node_id)
    if entry is None:
        raise NotFound(
            f"node not found: {node_id} (participant {participant})",
            hint=f"see `inferctl node list --participant {participant}`",
        )
    return entry


def node_view(participant: str, node_id: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Return one node as the read commands show it."""
    return {
        "participant": participant,
        "id": node_id,
        "chain": entry["chain"],
        "config": entry["config"],
        "admin_state": entry["admin_state"],
    }


def list_nodes(state: State, participant: str | None = None) -> list[dict[str, Any]]:
    """Return every node (or one participant's) ordered by participant, then id."""
    hardware = state.get("hardware", {})
    addresses = [participant] if participant is not None else sorted(hardware)
    return [
        node_view(address, node_id, entry)
        for address in addresses
        for node_id, entry in sorted(hardware.get(address, {}).items())
    ]
