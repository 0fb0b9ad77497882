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

import hashlib
from collections.abc import Mapping
from typing import Any

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
#
# `inferctl.epochs.gorand.poc_slot_flags` is the reference port of Go's math/rand. It
# seeds all 607 words of Go's generator, which took about 75 microseconds per call
# on a development machine, and an epoch with 10,000 participants needs up to tens
# of thousands of choices. A shuffle of n positions reads only about the first
# 2(n - 1) outputs. Each of the first 273 outputs is the sum of two freshly seeded
# words, so computing just those words gives the same flags far faster. Larger
# shuffles use gorand itself.

_STATE_LEN = 607
_FEED_START = 334  # the generator's feed index after seeding (607 - 273)
_FRESH_OUTPUTS = 273  # outputs that read only words no earlier output wrote
_LEHMER_MODULUS = (1 << 31) - 1
_LEHMER_MULTIPLIER = 48271
_ZERO_SEED_SUBSTITUTE = 89482311
_MASK32 = (1 << 32) - 1
_MASK63 = (1 << 63) - 1
_MASK64 = (1 << 64) - 1

_tables: tuple[list[int], list[int]] | None = None


class _OutOfFreshWords(Exception):
    """A shuffle needs more outputs than the fast path computes."""


def choose_poc_slots(epoch_index: int, address: str, model_id: str, n: int) -> list[bool]:
    """Return, for each of n node positions, whether it gets POC_SLOT = true.

    The result equals `inferctl.epochs.gorand.poc_slot_flags(epoch_index, address,
    model_id, n)`, which Go vectors pin, and tests compare the two.
    """
    if n <= 1:
        return [False] * n  # Go's Shuffle draws nothing for n <= 1
    text = f"{epoch_index}_{address}_{model_id}".encode()
    seed = int.from_bytes(hashlib.sha256(text).digest()[:8], "big", signed=True)
    try:
        order = _fast_shuffle(seed, n)
    except _OutOfFreshWords:
        from inferctl.epochs.gorand import poc_slot_flags

        return poc_slot_flags(epoch_index, address, model_id, n)
    flags = [False] * n
    for position in order[: n // 2]:
        flags[position] = True
    return flags


def _fast_shuffle(seed: int, n: int) -> list[int]:
    """Shuffle range(n) as Go's rand.New(rand.NewSource(seed)).Shuffle does."""
    start = seed % _LEHMER_MODULUS or _ZERO_SEED_SUBSTITUTE
    powers, cooked = _seed_tables()
    step = 0

    def uint32() -> int:
        nonlocal step
        step += 1
        if step > _FRESH_OUTPUTS:
            raise _OutOfFreshWords
        value = _word(start, _FEED_START - step, powers, cooked)
        value += _word(start, _STATE_LEN - step, powers, cooked)
        return ((value & _MASK64) & _MASK63) >> 31

    positions = list(range(n))
    for i in range(n - 1, 0, -1):
        j = _int31n(uint32, i + 1)
        positions[i], positions[j] = positions[j], positions[i]
    return positions


def _int31n(uint32: Any, bound: int) -> int:
    """Draw from [0, bound) with Lemire's method, as Go's unexported int31n."""
    product = uint32() * bound
    low = product & _MASK32
    if low < bound:
        threshold = (1 << 32) % bound
        while low < threshold:
            product = uint32() * bound
            low = product & _MASK32
    return product >> 32


def _word(start: int, index: int, powers: list[int], cooked: list[int]) -> int:
    """Return word `index` of the generator state right after seeding with `start`.

    Go builds word k from Lehmer steps 21 + 3k, 22 + 3k and 23 + 3k (shifted left by
    40, 20 and 0 bits), XORed with the cooked table.
    """
    base = 21 + 3 * index
    high = start * powers[base] % _LEHMER_MODULUS
    middle = start * powers[base + 1] % _LEHMER_MODULUS
    low = start * powers[base + 2] % _LEHMER_MODULUS
    return ((high << 40) ^ (middle << 20) ^ low ^ cooked[index]) & _MASK64


def _seed_tables() -> tuple[list[int], list[int]]:
    """Return 48271**i mod (2**31 - 1) for every Lehmer step, and Go's rngCooked."""
    global _tables
    if _tables is None:
        from inferctl.epochs import gorand

        count = 24 + 3 * _STATE_LEN
        powers = [1] * count
        for i in range(1, count):
            powers[i] = powers[i - 1] * _LEHMER_MULTIPLIER % _LEHMER_MODULUS
        # NOTE: gorand builds the cooked table but exposes it only privately.
        cooked = gorand._unpack_words(gorand._cooked_table())
        _tables = (powers, cooked)
    return _tables
