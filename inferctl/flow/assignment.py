"""Model assignment at epoch formation: gonka's `setModelsForParticipants`.

For each active participant, in list order (`x/inference/module/model_assignment.go`):

1. A participant without a hardware record gets `models = []` and `ml_nodes = []`.
   A record that exists but lists no node is different: its PoC entry stays and ends
   up in the trailing array of unassigned nodes.
2. Legacy split. gonka drops the node id of PoC batches, so each participant arrives
   with one entry {node_id: "", poc_weight: W}. When it has hardware nodes H (sorted
   by local_id), that entry is replaced by one entry per node: with P the nodes
   that had POC_SLOT in the previous epoch and are still in H, D = |H| - |P|,
   per = W // D and rem = W % D, the first `rem` non-preserved nodes get per + 2
   (a remainder unit is counted twice), the others get per, and nodes whose share
   is 0 are left out. So the node weights can add up to more than W. A preserved
   node keeps its previous weight. D = 0 divides by zero in gonka (a panic in
   EndBlock); here it raises InvalidInput.
3. Every node gets timeslot_allocation [true, false].
4. For each registry model in id order, all still unassigned nodes whose hardware
   entry lists the model go to that model, in node order. A node that serves
   several models goes only to the lowest model id. Nodes left over form one extra
   trailing array, not paired with a model.
5. For each model's array of n nodes, floor(n / 2) nodes get POC_SLOT = true: the
   ones that Go's math/rand Shuffle, seeded from
   sha256("<epoch>_<address>_<model>"), puts first (`choose_poc_slots`).

Participant dicts use the internal form of ActiveParticipant: {index, validator_key,
weight, inference_url, models, seed, ml_nodes: [{"ml_nodes": [MLNodeInfo]}]}, with
MLNodeInfo = {node_id, throughput, poc_weight, timeslot_allocation}.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inferctl.epochs.gorand import poc_slot_flags
from inferctl.errors import InvalidInput

PRE_POC_SLOT = 0
POC_SLOT = 1

Node = dict[str, Any]
Participant = dict[str, Any]


def ml_node(node_id: str, poc_weight: int) -> Node:
    """Return a new MLNodeInfo with throughput 0 and allocation [true, false]."""
    return {"node_id": node_id, "throughput": 0, "poc_weight": poc_weight,
            "timeslot_allocation": [True, False]}


def has_poc_slot(node: Node) -> bool:
    """Return True when the node keeps serving inference during PoC (POC_SLOT)."""
    allocation = node.get("timeslot_allocation") or []
    return len(allocation) > POC_SLOT and bool(allocation[POC_SLOT])


def set_models_for_participants(
    participants: list[Participant],
    *,
    epoch_index: int,
    registry: Mapping[str, Any],
    hardware: Mapping[str, Mapping[str, Any]],
    previous_slots: Mapping[str, Mapping[str, Node]],
) -> None:
    """Assign every participant's ML nodes to registry models, in place.

    `hardware` maps address -> {local_id: {"chain": HardwareNode, ...}}.
    `previous_slots` maps address -> {node_id: MLNodeInfo} for the nodes that had
    POC_SLOT in the epoch that is effective while this one forms.
    """
    model_ids = frozenset(registry)
    for participant in participants:
        nodes = hardware.get(participant["index"])
        if nodes is None:
            participant["models"] = []
            participant["ml_nodes"] = []
            continue
        preserved = previous_slots.get(participant["index"], {})
        assign_participant(participant, epoch_index, model_ids, nodes, preserved)


def assign_participant(
    participant: Participant,
    epoch_index: int,
    model_ids: frozenset[str],
    nodes: Mapping[str, Any],
    preserved: Mapping[str, Node],
) -> None:
    """Split, assign and allocate the ML nodes of one participant with a record."""
    groups = participant.get("ml_nodes") or []
    original: list[Node] = list(groups[0]["ml_nodes"]) if groups else []
    hardware_ids = sorted(nodes)
    original = split_legacy_weight(
        original, hardware_ids, preserved, participant["index"]
    )
    for node in original:
        node["timeslot_allocation"] = [True, False]

    models, arrays = group_by_model(original, model_ids, nodes)
    # arrays may end with the leftover nodes, which have no model and no POC_SLOT.
    for model_id, array in zip(models, arrays, strict=False):
        flags = choose_poc_slots(epoch_index, participant["index"], model_id,
                                 len(array))
        for node, flag in zip(array, flags, strict=True):
            if flag:
                node["timeslot_allocation"][POC_SLOT] = True

    participant["models"] = models
    participant["ml_nodes"] = [{"ml_nodes": array} for array in arrays]


def split_legacy_weight(
    original: list[Node],
    hardware_ids: list[str],
    preserved: Mapping[str, Node],
    address: str,
) -> list[Node]:
    """Replace the legacy {node_id: ""} entry by per-node entries, as gonka does.

    Returns the new node list. Without a legacy entry or without hardware nodes the
    list is returned unchanged. See the module docstring for the rules and quirks.
    """
    legacy_at = next(
        (i for i, node in enumerate(original) if node["node_id"] == ""), None
    )
    if legacy_at is None or not hardware_ids:
        return original

    total = int(original[legacy_at]["poc_weight"])
    nodes = original[:legacy_at] + original[legacy_at + 1:]
    still_present = {
        node_id: preserved[node_id] for node_id in hardware_ids if node_id in preserved
    }
    divisor = len(hardware_ids) - len(still_present)
    if divisor == 0:
        raise InvalidInput(
            f"cannot split the PoC weight {total} of {address} over its ML nodes: "
            f"all {len(hardware_ids)} of them kept serving inference during the last "
            "PoC (POC_SLOT), so no node mined; gonka divides by zero here",
            hint=f"register another ML node for {address} with `inferctl node "
            "register`, or do not submit a PoC result for it this epoch",
        )
    _distribute(nodes, hardware_ids, still_present, divmod(total, divisor))
    return nodes


def _distribute(
    nodes: list[Node],
    hardware_ids: list[str],
    preserved: Mapping[str, Node],
    share_and_remainder: tuple[int, int],
) -> None:
    """Add each hardware node's share of the legacy weight to `nodes`, in place."""
    per_node, remainder = share_and_remainder
    by_id = {node["node_id"]: node for node in nodes}
    consumed = 0  # remainder units handed out so far
    for node_id in hardware_ids:
        share = per_node + (1 if consumed < remainder else 0)
        if share <= 0:
            continue
        extra = 0
        if node_id not in preserved and consumed < remainder:
            # gonka adds the remainder unit a second time here.
            extra = 1
            consumed += 1
        existing = by_id.get(node_id)
        if existing is not None and node_id in preserved:
            existing["poc_weight"] = preserved[node_id]["poc_weight"]
        elif existing is not None:
            existing["poc_weight"] += share + extra
        elif node_id in preserved:
            carried = dict(preserved[node_id], timeslot_allocation=[True, False])
            nodes.append(carried)
            by_id[node_id] = carried
        else:
            nodes.append(ml_node(node_id, share + extra))
            by_id[node_id] = nodes[-1]


def group_by_model(
    original: list[Node], registry: frozenset[str], nodes: Mapping[str, Any]
) -> tuple[list[str], list[list[Node]]]:
    """Group nodes by the lowest registry model they serve; leftovers go last.

    `registry` contains the registry's model ids. Returns (models, arrays) in model id
    order, where arrays has one more entry than models when some nodes serve no
    registry model.
    """
    by_model: dict[str, list[Node]] = {}
    unassigned: list[Node] = []
    for node in original:
        entry = nodes.get(node["node_id"])
        served = [m for m in entry["chain"]["models"] if m in registry] if entry else []
        if served:
            by_model.setdefault(min(served), []).append(node)
        else:
            unassigned.append(node)
    models = sorted(by_model)
    arrays = [by_model[model_id] for model_id in models]
    if unassigned:
        arrays.append(unassigned)
    return models, arrays


# ----- POC_SLOT choice -----------------------------------------------------------


def choose_poc_slots(epoch_index: int, address: str, model_id: str, n: int) -> list[bool]:
    """Return, for each of n node positions, whether it gets POC_SLOT = true.

    This is `inferctl.epochs.gorand.poc_slot_flags`, the port of gonka's Go
    math/rand shuffle, which Go vectors pin. Its `shuffle_positions` fast path
    builds only the generator words that a small shuffle reads, so an epoch with
    tens of thousands of choices forms quickly.
    """
    return poc_slot_flags(epoch_index, address, model_id, n)
