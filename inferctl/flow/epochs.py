"""Epochs: genesis epoch 0, PoC results, epoch formation and the epoch switch.

The steps follow gonka's inference module (`x/inference/module/module.go`,
`chainvalidation.go`, `model_assignment.go`, `epochgroup/epoch_group.go`).

State keys (all owned here):

* `epochs`: {"<index>": {index, poc_start_block_height}}, one per started epoch.
* `effective_epoch`: the index of the current epoch.
* `poc_results`: {"<index>": {address: weight}}, the validated PoC weight (nonce
  count) of each participant for an upcoming epoch.
* `active_participants`: {"<index>": ActiveParticipants}. Its presence marks an
  epoch as formed, and a formed epoch's membership never changes.
* `epoch_groups`: {"<index>": {model_id: EpochGroupData}}, where model id "" is the
  parent group. The parent's `sub_group_models` gives the sub-groups' order.
* `next_epoch_group_id`: the next x/group id, counted as x/group counts: 1, 2, ...
* `routing`: the effective epoch's member tables for executor selection
  (`inferctl.flow.executor.build_routing`).
* `block_height`: the last block produced (`inferctl.flow.chain`). StartEpoch,
  FormEpoch and SetNewValidators raise it to the block of their step, because
  each is the EndBlock step of that block on chain.

What inferctl simplifies:

* No nonces or validator votes: `SubmitPocResult` records the weight that
  validation would accept. Every participant counts as having submitted its
  random seed, and `member_seed_signatures` carries a placeholder signature
  (`seed_signature`).
* Reputation is 0 for members of formed epochs because there are no performance
  records. Epoch 0's validators get 1, as at gonka's genesis.
* inferctl models no collateral. During the grace period (epoch index up to
  `collateral_params.grace_period_end_epoch`) weights stay as they are, as on chain.
  After it, every weight drops to its collateral-free base,
  trunc(weight * base_weight_ratio), which is what gonka computes for a participant
  without collateral.
* Members whose weight is 0 or less after capping are left out of every group.
  gonka records them in the parent group's validation weights, but x/group rejects
  them as members.
* A formation with no members is rejected, and `inferctl chain advance` stops
  before it. gonka instead leaves the epoch empty and switches to it anyway, so
  every executor query fails until the next one.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from inferctl.errors import Conflict, InvalidInput, NotFound
from inferctl.flow import assignment
from inferctl.txs import State, TxContext, Unchanged

SUBMIT_POC_RESULT = "/inferctl.v1.SubmitPocResult"
FORM_EPOCH = "/inferctl.v1.FormEpoch"
SET_NEW_VALIDATORS = "/inferctl.v1.SetNewValidators"
START_EPOCH = "/inferctl.v1.StartEpoch"

PARENT = ""  # the model id of the parent group
GENESIS_REPUTATION = 1
FORMED_REPUTATION = 0
MAX_INT64 = 2**63 - 1


# ----- reading the state ---------------------------------------------------------


def effective_index(state: State) -> int:
    """Return the index of the effective epoch."""
    return int(state.get("effective_epoch", 0))


def epoch_params(state: State) -> Any:
    """Return the chain's epoch params as `inferctl.epochs.context.EpochParams`."""
    from dataclasses import fields

    from inferctl.epochs.context import EpochParams

    raw = state.get("params", {}).get("epoch_params") or {}
    names = {field.name for field in fields(EpochParams)}
    return EpochParams.from_mapping({k: v for k, v in raw.items() if k in names})


def epoch_stages(state: State, index: int) -> Any:
    """Return the stage heights of a started epoch."""
    from inferctl.epochs.context import EpochContext

    record = state["epochs"][str(index)]
    context = EpochContext(index, record["poc_start_block_height"], epoch_params(state))
    return context.stages()


def groups_of(state: State, index: int) -> dict[str, Any]:
    """Return {model_id: EpochGroupData} of an epoch ("" is the parent group)."""
    groups = state.get("epoch_groups", {}).get(str(index))
    if groups is None:
        raise NotFound(
            f"epoch {index} has no groups: it has not started",
            hint="list epochs with `inferctl epoch list`",
        )
    return groups


def is_formed(state: State, index: int) -> bool:
    """Return True when the epoch has been formed (members and sub-groups are final)."""
    return str(index) in state.get("active_participants", {})


def parent_members(state: State, index: int) -> dict[str, int]:
    """Return {address: weight} of the parent group's x/group members."""
    parent = state.get("epoch_groups", {}).get(str(index), {}).get(PARENT)
    if parent is None:
        return {}
    return {
        weight["member_address"]: weight["weight"]
        for weight in parent["validation_weights"]
        if weight["weight"] > 0
    }


def voting_power(state: State) -> dict[str, int]:
    """Return {address: voting weight} for governance tallies.

    The weight is the member's weight in the effective epoch's parent group. On a
    chain whose effective epoch has no members (a genesis without validators), it is
    each participant's `weight` from the participant store, where genesis
    participants have 1 and participants created by a transaction have -1 (no
    vote).
    """
    members = parent_members(state, effective_index(state))
    if members:
        return members
    return {
        address: int(record.get("weight", 0))
        for address, record in state.get("participants", {}).items()
        if int(record.get("weight", 0)) > 0
    }


# ----- groups ----------------------------------------------------------------------


def policy_address(sequence: int, prefix: str) -> str:
    """Return the address x/group derives for the group policy with this sequence.

    x/group derives it as the ADR-028 module address of "group" with the derivation
    keys [0x20] (its policy table prefix) and the sequence as 8 big-endian bytes.
    A gonka epoch group has exactly one policy, created with the group, so on a
    chain where only gonka creates groups the sequence equals the group id.
    """
    from inferctl.bech32 import encode

    def typed_hash(kind: bytes, key: bytes) -> bytes:
        return hashlib.sha256(hashlib.sha256(kind).digest() + key).digest()

    module_key = typed_hash(b"module", b"group\x00" + bytes([0x20]))
    return encode(prefix, typed_hash(module_key, sequence.to_bytes(8, "big")))


def new_group_data(state: State, index: int, model_id: str, poc_start: int,
                   model_snapshot: dict[str, Any] | None) -> dict[str, Any]:
    """Return an empty EpochGroupData with the next x/group id and its policy."""
    group_id = int(state.get("next_epoch_group_id", 1))
    state["next_epoch_group_id"] = group_id + 1
    return {
        "poc_start_block_height": poc_start,
        "epoch_group_id": group_id,
        "epoch_policy": policy_address(group_id, state["prefix"]),
        "effective_block_height": 0,
        "last_block_height": 0,
        "member_seed_signatures": [],
        "validation_weights": [],
        "unit_of_compute_price": 0,
        "number_of_requests": 0,
        "previous_epoch_requests": 0,
        "validation_params": None,
        "total_weight": 0,
        "model_id": model_id,
        "sub_group_models": [],
        "epoch_index": index,
        "model_snapshot": model_snapshot,
        "total_throughput": 0,
    }


def add_member(group: dict[str, Any], address: str, weight: int, reputation: int,
               signature: str, ml_nodes: list[dict[str, Any]]) -> None:
    """Append a member's seed signature and validation weight to a group (AddMember)."""
    group["member_seed_signatures"].append(
        {"member_address": address, "signature": signature}
    )
    group["validation_weights"].append({
        "member_address": address,
        "weight": weight,
        "reputation": reputation,
        "ml_nodes": ml_nodes,
    })
    group["total_weight"] += weight
    group["total_throughput"] += sum(node["throughput"] for node in ml_nodes)


def address_sort_key(address: str) -> str:
    """Return a key that sorts bech32 addresses of one prefix by their bytes.

    Each data character stands for 5 bits, most significant first, so mapping the
    bech32 alphabet to ascending characters and dropping the 6-character checksum
    sorts like the decoded bytes. This is much faster than decoding every address.
    """
    data = address[address.rfind("1") + 1:-6]
    return data.lower().translate(_BECH32_ORDER)


_BECH32_ORDER = str.maketrans(
    "qpzry9x8gf2tvdw0s3jn54khce6mua7l", "".join(chr(0x40 + i) for i in range(32))
)


# ----- genesis -----------------------------------------------------------------------


def init_genesis_epochs(state: State, doc: dict[str, Any]) -> None:
    """Create epoch 0 as InitGenesis does: effective, validators as members, no models.

    The members are the genesis validators, from `app_state.staking.validators` and
    the MsgCreateValidator messages of `app_state.genutil.gen_txs`, in address-byte
    order. Each has its account address, its tokens as weight and reputation 1.
    """
    from inferctl.flow.executor import build_routing

    state["epochs"] = {"0": {"index": 0, "poc_start_block_height": 0}}
    state["effective_epoch"] = 0
    state["poc_results"] = {}
    state["active_participants"] = {}
    state["next_epoch_group_id"] = 1
    parent = new_group_data(state, 0, PARENT, 0, None)
    validators = genesis_validators(doc, state["prefix"])
    for address in sorted(validators, key=address_sort_key):
        add_member(parent, address, validators[address], GENESIS_REPUTATION, "", [])
    state["epoch_groups"] = {"0": {PARENT: parent}}
    state["routing"] = build_routing(state, 0)


def genesis_validators(doc: dict[str, Any], prefix: str) -> dict[str, int]:
    """Return {account address: tokens} of the validators a genesis creates."""
    app_state = doc.get("app_state") or {}
    staking = app_state.get("staking") or {}
    found: dict[str, int] = {}
    for validator in staking.get("validators") or []:
        if isinstance(validator, dict):
            _add_validator(found, validator.get("operator_address"), "",
                           validator.get("tokens"), prefix)
    genutil = app_state.get("genutil") or {}
    for tx in genutil.get("gen_txs") or []:
        body = tx.get("body") if isinstance(tx, dict) else None
        messages = body.get("messages") if isinstance(body, dict) else None
        for message in messages or []:
            if not isinstance(message, dict):
                continue
            if message.get("@type") == "/cosmos.staking.v1beta1.MsgCreateValidator":
                amount = (message.get("value") or {}).get("amount")
                _add_validator(found, message.get("validator_address"),
                               message.get("delegator_address") or "", amount, prefix)
    return found


def _add_validator(found: dict[str, int], operator: Any, delegator: str,
                   tokens: Any, prefix: str) -> None:
    from inferctl.bech32 import decode, encode

    try:
        weight = int(str(tokens))
        address = delegator or encode(prefix, decode(str(operator))[1])
    except (ValueError, InvalidInput) as exc:
        raise InvalidInput(
            f"invalid genesis validator {operator!r} with tokens {tokens!r}: {exc}",
            hint="fix the validator in app_state.staking or app_state.genutil.gen_txs",
        ) from None
    if weight > 0 and address not in found:
        found[address] = weight


# ----- transaction bodies ----------------------------------------------------------


def _check_keys(body: dict[str, Any], allowed: tuple[str, ...],
                required: tuple[str, ...], tx_name: str) -> None:
    for key in body:
        if key not in allowed:
            raise InvalidInput(f"{tx_name}: unknown key {key!r}",
                               hint=f"the body has only {', '.join(allowed)}")
    for key in required:
        if key not in body:
            raise InvalidInput(f"{tx_name}: missing key {key!r}")


def _int_field(body: dict[str, Any], key: str, tx_name: str, minimum: int) -> int:
    value = body[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{tx_name}: {key} must be an integer, got {value!r}")
    if not minimum <= value <= MAX_INT64:
        raise InvalidInput(
            f"{tx_name}: {key} {value} is out of range",
            hint=f"use an integer from {minimum} to {MAX_INT64}",
        )
    return value


def _check_upcoming(state: State, index: int, tx_name: str) -> None:
    upcoming = effective_index(state) + 1
    if index != upcoming:
        raise InvalidInput(
            f"{tx_name}: epoch {index} is not the upcoming epoch; the effective epoch is "
            f"{upcoming - 1}, so the upcoming one is {upcoming}",
            hint=f"use epoch_index {upcoming}",
        )


# ----- StartEpoch ------------------------------------------------------------------


def apply_start_epoch(state: State, body: dict[str, Any], ctx: TxContext) -> dict:
    """Create the upcoming epoch's record and parent group at its PoC start.

    Body: {epoch_index, poc_start_block_height (optional)}. Without a height the
    epoch starts where the epoch params schedule it: epoch_length after the
    effective epoch's PoC start, or epoch_length - epoch_shift for epoch 1.
    """
    tx_name = "StartEpoch"
    _check_keys(body, ("epoch_index", "poc_start_block_height"), ("epoch_index",), tx_name)
    index = _int_field(body, "epoch_index", tx_name, 0)
    _check_upcoming(state, index, tx_name)
    if str(index) in state["epochs"]:
        start = state["epochs"][str(index)]["poc_start_block_height"]
        raise Unchanged(f"epoch {index} already started at PoC start height {start}")
    poc_start = scheduled_poc_start(state, index)
    if "poc_start_block_height" in body:
        poc_start = _int_field(body, "poc_start_block_height", tx_name, 1)
        _check_start_after_effective(state, index, poc_start)
    start_epoch(state, index, poc_start)
    return {"epoch_index": index, "poc_start_block_height": poc_start}


def scheduled_poc_start(state: State, index: int) -> int:
    """Return the PoC start height of epoch `index`, following the effective epoch."""
    from inferctl.epochs.context import EpochContext

    previous = state["epochs"][str(index - 1)]
    context = EpochContext(index - 1, previous["poc_start_block_height"],
                           epoch_params(state))
    return context.next_poc_start()


def _check_start_after_effective(state: State, index: int, poc_start: int) -> None:
    previous = state["epochs"][str(index - 1)]["poc_start_block_height"]
    if poc_start <= previous:
        raise InvalidInput(
            f"StartEpoch: poc_start_block_height {poc_start} is not after epoch "
            f"{index - 1}'s PoC start {previous}",
            hint="omit poc_start_block_height to use the scheduled height",
        )


def start_epoch(state: State, index: int, poc_start: int) -> None:
    """Store Epoch{index, poc_start} and create the epoch's empty parent group."""
    state["epochs"][str(index)] = {"index": index, "poc_start_block_height": poc_start}
    parent = new_group_data(state, index, PARENT, poc_start, None)
    state["epoch_groups"][str(index)] = {PARENT: parent}
    state["block_height"] = max(int(state.get("block_height", 0)), poc_start)


# ----- SubmitPocResult ---------------------------------------------------------------


def apply_poc_result(state: State, body: dict[str, Any], ctx: TxContext) -> dict:
    """Record a participant's validated PoC weight for the upcoming epoch.

    Body: {participant, epoch_index, weight}. A new result replaces an earlier one
    for the same participant and epoch.
    """
    tx_name = "SubmitPocResult"
    _check_keys(body, ("participant", "epoch_index", "weight"),
                ("participant", "epoch_index", "weight"), tx_name)
    index = _int_field(body, "epoch_index", tx_name, 0)
    weight = _int_field(body, "weight", tx_name, 1)
    address = body["participant"]
    if isinstance(address, str) and address not in state["participants"]:
        from inferctl.bech32 import check_account_address

        check_account_address(address, state["prefix"], what="participant address")
    if not isinstance(address, str) or address not in state["participants"]:
        raise NotFound(
            f"{tx_name}: participant {address!r} is not registered",
            hint="register it with `inferctl participant join` first",
        )
    _check_upcoming(state, index, tx_name)
    if is_formed(state, index):
        raise Conflict(
            f"{tx_name}: epoch {index} is already formed, so its PoC results are final",
            hint="advance through its switch with `inferctl chain advance --to "
            "next-epoch`, then submit for the next epoch",
        )

    results = state.setdefault("poc_results", {}).setdefault(str(index), {})
    previous = results.get(address)
    if previous == weight:
        raise Unchanged(f"{address} already has PoC weight {weight} for epoch {index}")
    if previous is not None:
        ctx.notes.append(f"replaced the PoC weight {previous} of {address} in epoch "
                         f"{index}")
    results[address] = weight
    return {"participant": address, "epoch_index": index, "weight": weight}


# ----- FormEpoch ---------------------------------------------------------------------


def apply_form_epoch(state: State, body: dict[str, Any], ctx: TxContext) -> dict:
    """Form the upcoming epoch: weights, model assignment, parent and sub-groups.

    Body: {epoch_index}. Starts the epoch first when it has not started.
    """
    tx_name = "FormEpoch"
    _check_keys(body, ("epoch_index",), ("epoch_index",), tx_name)
    index = _int_field(body, "epoch_index", tx_name, 0)
    _check_upcoming(state, index, tx_name)
    if is_formed(state, index):
        raise Conflict(
            f"{tx_name}: epoch {index} is already formed and a formed epoch never changes",
            hint="advance through its switch with `inferctl chain advance --to "
            "next-epoch`",
        )

    return _form_epoch(state, index, ctx)


def _form_epoch(state: State, index: int, ctx: TxContext) -> dict:
    tx_name = "FormEpoch"
    participants = compute_participants(state, index)
    members = [p for p in participants if p["weight"] > 0]
    if not members:
        raise InvalidInput(
            f"{tx_name}: no participant has weight above 0 in epoch {index} after power "
            "capping and the collateral rule",
            hint="submit larger PoC weights with `inferctl poc submit`",
        )

    if str(index) not in state["epochs"]:
        start_epoch(state, index, scheduled_poc_start(state, index))
        start = state["epochs"][str(index)]["poc_start_block_height"]
        ctx.notes.append(f"started epoch {index} at PoC start height {start}")
    formation_height = epoch_stages(state, index).end_of_poc_validation
    store_active_participants(state, index, participants, formation_height)
    add_epoch_members(state, index, members)
    state["block_height"] = max(int(state.get("block_height", 0)), formation_height)
    return formation_summary(state, index)


def compute_participants(state: State, index: int) -> list[dict[str, Any]]:
    """Return the upcoming epoch's active participants, weighted and assigned."""
    from inferctl.flow.power import cap_weights

    participants = merge_preserved(
        preserved_participants(state, index), mined_participants(state, index)
    )
    if not participants:
        raise InvalidInput(
            f"FormEpoch: no participant qualifies for epoch {index}: it needs a PoC "
            "result and a validator key (or, from epoch 2, a node that kept serving "
            "inference during PoC)",
            hint="record PoC weights with `inferctl poc submit ADDRESS --weight N`",
        )
    adjust_weights_by_collateral(state, index, participants)
    max_share = state.get("genesis_only_params", {}).get(
        "max_individual_power_percentage"
    )
    capped = cap_weights([p["weight"] for p in participants], max_share)
    for participant, weight in zip(participants, capped.weights, strict=True):
        participant["weight"] = weight
    assignment.set_models_for_participants(
        participants,
        epoch_index=index,
        registry=state["models"],
        hardware=operational_hardware(state["hardware"], index),
        previous_slots=previous_slot_nodes(state, index - 1),
    )
    return participants


def operational_hardware(
    hardware: dict[str, dict[str, Any]], epoch_index: int
) -> dict[str, dict[str, Any]]:
    """Return the hardware records without nodes that are disabled for `epoch_index`.

    The API node's rule: a node disabled during epoch E keeps serving through E and
    stops from E + 1. The admin state never reaches the chain, so inferctl applies
    it at formation, and routing then reaches only nodes that would really serve.
    """
    result: dict[str, dict[str, Any]] = {}
    for address, nodes in hardware.items():
        kept = {
            node_id: entry
            for node_id, entry in nodes.items()
            if _serves_in(entry.get("admin_state"), epoch_index)
        }
        result[address] = kept
    return result


def _serves_in(admin_state: dict[str, Any] | None, epoch_index: int) -> bool:
    if not admin_state or admin_state.get("enabled", True):
        return True
    return epoch_index <= int(admin_state.get("epoch", 0))


def seed_signature(index: int, address: str) -> str:
    """Return the placeholder seed signature of a member: hex sha256 of a label.

    On chain each participant signs a random seed for the epoch. inferctl has no
    keys, so this value replaces the signature and only keeps records the same shape.
    """
    return hashlib.sha256(f"inferctl/seed/{index}/{address}".encode()).hexdigest()


def active_participant(record: dict[str, Any], index: int, weight: int,
                       nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """Return a new ActiveParticipant for a participant record."""
    address = record["index"]
    return {
        "index": address,
        "validator_key": record.get("validator_key", ""),
        "weight": weight,
        "inference_url": record.get("inference_url", ""),
        "models": [],
        "seed": {"participant": address, "epoch_index": index,
                 "signature": seed_signature(index, address)},
        "ml_nodes": [{"ml_nodes": nodes}],
    }


def mined_participants(state: State, index: int) -> list[dict[str, Any]]:
    """Return the participants whose PoC result counts, in bech32-string order.

    Each gets one legacy node entry {node_id: "", poc_weight: W}, as on chain.
    """
    results = state.get("poc_results", {}).get(str(index), {})
    found = []
    for address in sorted(results):
        record = state["participants"].get(address)
        weight = results[address]
        if record is None or not record.get("validator_key") or weight < 1:
            continue
        found.append(active_participant(record, index, weight,
                                        [assignment.ml_node("", weight)]))
    return found


def preserved_participants(state: State, index: int) -> list[dict[str, Any]]:
    """Return the members carried over by their POC_SLOT nodes, sorted by address.

    From epoch 2 on, each member of the effective epoch's parent group with ML
    nodes that kept serving inference during PoC keeps those nodes (reset to
    [true, false]) and gets their summed PoC weight, without mining.
    """
    previous = state.get("active_participants", {}).get(str(index - 1))
    if index < 2 or previous is None:
        return []
    members = parent_members(state, index - 1)
    found = []
    for entry in previous["participants"]:
        address = entry["index"]
        nodes = [dict(node, timeslot_allocation=[True, False])
                 for group in entry["ml_nodes"] for node in group["ml_nodes"]
                 if assignment.has_poc_slot(node)]
        if address not in members or not nodes:
            continue
        record = state["participants"].get(address, entry)
        weight = sum(node["poc_weight"] for node in nodes)
        found.append(active_participant(record, index, weight, nodes))
    return sorted(found, key=lambda p: p["index"])


def merge_preserved(preserved: list[dict[str, Any]],
                    mined: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge mined results into preserved participants; preserved ones come first."""
    by_address = {p["index"]: p for p in preserved}
    rest = []
    for participant in mined:
        carried = by_address.get(participant["index"])
        if carried is None:
            rest.append(participant)
            continue
        carried["weight"] += participant["weight"]
        nodes = carried["ml_nodes"][0]["ml_nodes"]
        known = {node["node_id"] for node in nodes}
        nodes.extend(node for node in participant["ml_nodes"][0]["ml_nodes"]
                     if node["node_id"] not in known)
    return preserved + rest


def previous_slot_nodes(state: State, index: int) -> dict[str, dict[str, Any]]:
    """Return {address: {node_id: MLNodeInfo}} of POC_SLOT nodes in epoch `index`."""
    record = state.get("active_participants", {}).get(str(index))
    if record is None:
        return {}
    found: dict[str, dict[str, Any]] = {}
    for entry in record["participants"]:
        for group in entry["ml_nodes"]:
            for node in group["ml_nodes"]:
                if assignment.has_poc_slot(node):
                    found.setdefault(entry["index"], {})[node["node_id"]] = node
    return found


def adjust_weights_by_collateral(state: State, index: int,
                                 participants: list[dict[str, Any]]) -> None:
    """Apply gonka's collateral rule for participants that deposited no collateral.

    Up to `grace_period_end_epoch` weights stay unchanged. After it a weight
    becomes trunc(weight * base_weight_ratio), computed exactly.
    """
    params = state.get("params", {}).get("collateral_params") or {}
    if index <= int(params.get("grace_period_end_epoch", 0)):
        return
    ratio = params.get("base_weight_ratio")
    if ratio is None:
        raise InvalidInput(
            f"FormEpoch: epoch {index} is past the collateral grace period, but "
            "params.collateral_params.base_weight_ratio is not set",
            hint="set base_weight_ratio (e.g. 0.2) by a params change",
        )
    value, exponent = int(ratio["value"]), int(ratio["exponent"])
    for participant in participants:
        participant["weight"] = _scale_truncated(participant["weight"], value, exponent)


def _scale_truncated(weight: int, value: int, exponent: int) -> int:
    product = weight * value
    if exponent >= 0:
        return product * 10**exponent
    quotient = abs(product) // 10**-exponent
    return quotient if product >= 0 else -quotient


def store_active_participants(state: State, index: int,
                              participants: list[dict[str, Any]],
                              formation_height: int) -> None:
    """Store the ActiveParticipants record of a formed epoch."""
    start = state["epochs"][str(index)]["poc_start_block_height"]
    state.setdefault("active_participants", {})[str(index)] = {
        "participants": participants,
        "epoch_group_id": index,  # deprecated on chain; gonka stores the index here
        "poc_start_block_height": start,
        "effective_block_height": formation_height + 2,
        "created_at_block_height": formation_height,
        "epoch_id": index,
    }


def add_epoch_members(state: State, index: int,
                      members: list[dict[str, Any]]) -> None:
    """Add members to the parent group and to one sub-group per model they serve."""
    groups = state["epoch_groups"][str(index)]
    parent = groups[PARENT]
    for member in members:
        signature = member["seed"]["signature"]
        add_member(parent, member["index"], member["weight"], FORMED_REPUTATION,
                   signature, [])
        for position, model_id in enumerate(member["models"]):
            sub_group = groups.get(model_id)
            if sub_group is None:
                sub_group = _create_sub_group(state, index, model_id)
                groups[model_id] = sub_group
                parent["sub_group_models"].append(model_id)
            nodes = [dict(node, timeslot_allocation=list(node["timeslot_allocation"]))
                     for node in member["ml_nodes"][position]["ml_nodes"]]
            add_member(sub_group, member["index"], member["weight"],
                       FORMED_REPUTATION, signature, nodes)


def _create_sub_group(state: State, index: int, model_id: str) -> dict[str, Any]:
    parent = state["epoch_groups"][str(index)][PARENT]
    snapshot = copy.deepcopy(state["models"][model_id])
    return new_group_data(state, index, model_id, parent["poc_start_block_height"],
                          snapshot)


def formation_summary(state: State, index: int) -> dict[str, Any]:
    """Return what a formation produced: member count, weight and models."""
    groups = state["epoch_groups"][str(index)]
    parent = groups[PARENT]
    return {
        "epoch_index": index,
        "member_count": len(parent["validation_weights"]),
        "total_weight": parent["total_weight"],
        "models": {
            model_id: len(groups[model_id]["validation_weights"])
            for model_id in parent["sub_group_models"]
        },
    }


# ----- SetNewValidators --------------------------------------------------------------


def apply_set_new_validators(state: State, body: dict[str, Any], ctx: TxContext) -> dict:
    """Make the formed upcoming epoch effective (gonka's SetNewValidators).

    Body: {epoch_index}. The new parent group gets its unit-of-compute price: the
    default param for epoch 1, else the previous epoch's price, because inferctl has
    no price proposals. It also gets the effective height, the previous epoch's
    request count and a copy of the validation params. The old parent gets its last
    block height.
    """
    from inferctl.flow.executor import build_routing

    tx_name = "SetNewValidators"
    _check_keys(body, ("epoch_index",), ("epoch_index",), tx_name)
    index = _int_field(body, "epoch_index", tx_name, 0)
    _check_upcoming(state, index, tx_name)
    if not is_formed(state, index):
        raise Conflict(
            f"{tx_name}: epoch {index} is not formed yet",
            hint="advance through its formation with `inferctl chain advance`",
        )

    old_parent = state["epoch_groups"][str(index - 1)][PARENT]
    new_parent = state["epoch_groups"][str(index)][PARENT]
    switch_height = epoch_stages(state, index).set_new_validators
    params = state.get("params", {})
    price = old_parent["unit_of_compute_price"]
    if index == 1:
        price = int(params.get("epoch_params", {}).get("default_unit_of_compute_price", 0))
    new_parent["unit_of_compute_price"] = price
    new_parent["effective_block_height"] = switch_height
    new_parent["previous_epoch_requests"] = old_parent["number_of_requests"]
    new_parent["validation_params"] = copy.deepcopy(params.get("validation_params"))
    old_parent["last_block_height"] = switch_height - 1
    state["effective_epoch"] = index
    state["block_height"] = max(int(state.get("block_height", 0)), switch_height)
    state["routing"] = build_routing(state, index)
    return {"epoch_index": index, "effective_block_height": switch_height,
            "unit_of_compute_price": price}


# ----- proto JSON of EpochGroupData --------------------------------------------------


def epoch_group_data_json(group: dict[str, Any]) -> dict[str, Any]:
    """Encode EpochGroupData as proto JSON, as `epoch show --json` and the REST API print it.

    Fields are in proto field order, with 64-bit integers as strings.
    """
    from inferctl.flow.models import model_json
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
        "model_snapshot": (model_json(group["model_snapshot"])
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
