"""Executor selection: pick a weighted random member of a model's epoch group.

This mirrors gonka's `GetRandomExecutor` query (`x/inference/keeper/
query_get_random_executor.go`, `x/inference/epochgroup/random.go`):

1. The group is the effective epoch's sub-group for the model. The empty model id
   "" selects from the parent group, which contains every member.
2. Members are listed as x/group lists them without pagination: ordered by
   address bytes, and only the first 100 (x/group's default page size).
3. During PoC (phase "poc") only members with a POC_SLOT node for the model in the
   effective epoch's ActiveParticipants stay. The parent group has no model, so
   no parent member passes that filter. `phase_at_block_height` gives the phase
   the chain uses at its block height: "inference" only in the Inference phase
   after the context epoch's switch block, else "poc".
4. With the cumulative sums of the member weights in that order, draw r uniformly
   from [0, total) and return the first member whose cumulative sum exceeds r.

gonka draws r from Go's global, unseeded generator. inferctl draws it with
`random.Random(seed).randrange(total)`, so a seed repeats a pick exactly.

To keep a pick cheap, SetNewValidators stores a member table per group of the
effective epoch in `state["routing"]` (`build_routing`):
{"epoch_index": N, "has_active_participants": bool,
 "models": {model_id: {"member_count": int,
                       "members": [[address, weight, cumulative, poc_slot], ...]}}}
where `members` contains the first 100 members by address bytes.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from inferctl.errors import NoExecutor, NotFound
from inferctl.txs import State

if TYPE_CHECKING:
    from fractions import Fraction

MAX_LISTED_MEMBERS = 100  # x/group's default page size
PHASE_INFERENCE = "inference"
PHASE_POC = "poc"
PHASES = (PHASE_INFERENCE, PHASE_POC)


# ----- the member tables -----------------------------------------------------------


def build_routing(state: State, index: int) -> dict[str, Any]:
    """Build the member tables of every group of epoch `index`."""
    from inferctl.flow.epochs import PARENT, address_sort_key, groups_of

    groups = groups_of(state, index)
    record = state.get("active_participants", {}).get(str(index))
    slots = _poc_slot_models(record)
    tables = {}
    for model_id in [PARENT, *groups[PARENT]["sub_group_models"]]:
        members = [
            (weight["member_address"], weight["weight"])
            for weight in groups[model_id]["validation_weights"]
            if weight["weight"] > 0
        ]
        members.sort(key=lambda member: address_sort_key(member[0]))
        rows = []
        cumulative = 0
        for address, weight in members[:MAX_LISTED_MEMBERS]:
            cumulative += weight
            rows.append([address, weight, cumulative,
                         model_id in slots.get(address, ())])
        tables[model_id] = {"member_count": len(members), "members": rows}
    return {"epoch_index": index, "has_active_participants": record is not None,
            "models": tables}


def _poc_slot_models(record: dict[str, Any] | None) -> dict[str, set[str]]:
    """Return {address: models for which the member has a POC_SLOT node}."""
    from inferctl.flow.assignment import has_poc_slot

    found: dict[str, set[str]] = {}
    for entry in (record or {}).get("participants", []):
        for model_id, group in zip(entry["models"], entry["ml_nodes"], strict=False):
            if any(has_poc_slot(node) for node in group["ml_nodes"]):
                found.setdefault(entry["index"], set()).add(model_id)
    return found


def routing_of(state: State) -> dict[str, Any]:
    """Return the effective epoch's member tables, building them if missing."""
    from inferctl.flow.epochs import effective_index

    routing = state.get("routing")
    index = effective_index(state)
    if routing is None or routing.get("epoch_index") != index:
        routing = build_routing(state, index)
    return routing


# ----- the phase at the block height ----------------------------------------------


@dataclass(frozen=True)
class HeightPhase:
    """The executor phase at the chain's block height, and the epoch context behind it."""

    phase: str
    block_height: int
    context_epoch: int
    epoch_phase: str
    switch_height: int

    def reason(self) -> str:
        """Explain why this block keeps only POC_SLOT members, for error hints."""
        return (
            f"at block {self.block_height} (epoch {self.context_epoch}, phase "
            f"{self.epoch_phase}) the chain keeps only members with a POC_SLOT node, "
            "because it keeps every member only after a switch block and before the "
            "next PoC start"
        )


def phase_at_block_height(state: State) -> HeightPhase:
    """Return the executor phase that gonka's filter applies at the block height.

    The context is the epoch that governs the block height. Every member is kept
    when its phase is Inference and the height is past its switch height, and only
    POC_SLOT members otherwise. The switch block itself therefore still counts as
    PoC time.
    """
    from inferctl.epochs.context import context_at
    from inferctl.flow.epochs import effective_index, epoch_params

    height = int(state.get("block_height", 0))
    index = effective_index(state)
    poc_start = state["epochs"][str(index)]["poc_start_block_height"]
    context = context_at(height, index, poc_start, epoch_params(state))
    limited = context.limits_executors_to_poc_slots(height)
    return HeightPhase(
        PHASE_POC if limited else PHASE_INFERENCE,
        height,
        context.epoch_index,
        str(context.phase_at(height)),
        context.stages().set_new_validators,
    )


# ----- candidates and picks --------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A member that can be picked, with its weight and running weight total."""

    address: str
    weight: int
    cumulative: int


@dataclass
class Candidates:
    """The members a pick draws from, in address-byte order."""

    epoch_index: int
    model_id: str
    phase: str
    member_count: int
    members: list[Candidate] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.members[-1].cumulative if self.members else 0

    def probability(self, candidate: Candidate) -> Fraction:
        """Return the exact chance that one pick returns `candidate`."""
        from fractions import Fraction  # only list needs it; pick skips the import

        return Fraction(candidate.weight, self.total)


def candidates(state: State, model_id: str, phase: str = PHASE_INFERENCE, *,
               phase_reason: str | None = None) -> Candidates:
    """Return the members a pick for `model_id` draws from in the given phase.

    `phase_reason` explains why the phase is "poc" when the caller took it from the
    block height, and error hints repeat it. Raises NotFound for an unknown model
    or a missing ActiveParticipants record, and NoExecutor when no member can be
    picked.
    """
    routing = routing_of(state)
    index = routing["epoch_index"]
    tables = routing["models"]
    _check_model(state, model_id, tables)
    if model_id and index == 0:
        # Epoch 0 has no sub-groups in any phase, so report that before the PoC filter.
        _table_for(model_id, index, tables)
    if phase == PHASE_POC and not routing["has_active_participants"]:
        raise NotFound(
            f"effective epoch {index} has no ActiveParticipants record, so no member "
            "is known to serve during PoC",
            hint=_poc_hint(phase_reason,
                           "pick with --phase inference, or form and activate the "
                           "next epoch"),
        )
    table = _table_for(model_id, index, tables)
    rows = table["members"]
    if phase == PHASE_POC:
        rows = [row for row in rows if row[3]]
    found = Candidates(index, model_id, phase, table["member_count"])
    cumulative = 0
    for address, weight, _cumulative, _slot in rows:
        cumulative += weight
        found.members.append(Candidate(address, weight, cumulative))
    _check_pickable(found, phase_reason)
    return found


def candidates_at_height(state: State, model_id: str) -> Candidates:
    """Return the members a pick draws from in the phase of the block height."""
    at_height = phase_at_block_height(state)
    reason = at_height.reason() if at_height.phase == PHASE_POC else None
    return candidates(state, model_id, at_height.phase, phase_reason=reason)


def _poc_hint(reason: str | None, default: str) -> str:
    if reason is None:
        return default
    return (f"{reason}; pick with --phase inference to skip the filter, or move past "
            "it with `inferctl chain advance`")


def _check_model(state: State, model_id: str, tables: dict[str, Any]) -> None:
    if model_id and model_id not in state.get("models", {}) and model_id not in tables:
        raise NotFound(
            f"model {model_id!r} is not registered",
            hint="list models with `inferctl model list`; ids are case-sensitive",
        )


def _table_for(model_id: str, index: int, tables: dict[str, Any]) -> dict[str, Any]:
    table = tables.get(model_id)
    if table is not None:
        return table
    if len(tables) <= 1:
        raise NoExecutor(
            f"effective epoch {index} has no model sub-groups, so no member serves "
            f"{model_id!r} (epoch 0 never has any)",
            hint="submit PoC results, then run `inferctl chain advance --to "
            "next-epoch`",
        )
    raise NoExecutor(
        f"no member serves model {model_id!r} in effective epoch {index}",
        hint="register an ML node that serves it, then form and activate the next "
        "epoch",
    )


def _check_pickable(found: Candidates, phase_reason: str | None = None) -> None:
    group = f"model {found.model_id!r}" if found.model_id else "the parent group"
    where = f"{group} in effective epoch {found.epoch_index}"
    if found.member_count == 0:
        raise NoExecutor(f"{where} has no members")
    if not found.members:
        raise NoExecutor(
            f"no member of {where} has a POC_SLOT node, so none serves during PoC",
            hint=_poc_hint(phase_reason, "pick with --phase inference"),
        )
    if found.total == 0:
        raise NoExecutor(f"every member of {where} has weight 0")


def pick(found: Candidates, rng: random.Random) -> Candidate:
    """Draw one member with probability proportional to its weight."""
    r = rng.randrange(found.total)
    position = bisect.bisect_right([m.cumulative for m in found.members], r)
    return found.members[position]


def pick_many(found: Candidates, seed: int, count: int) -> list[Candidate]:
    """Draw `count` members in turn from one generator seeded with `seed`."""
    rng = random.Random(seed)
    cumulative = [member.cumulative for member in found.members]
    total = found.total
    return [found.members[bisect.bisect_right(cumulative, rng.randrange(total))]
            for _ in range(count)]


def inference_url(state: State, address: str) -> str:
    """Return the picked member's inference URL from the participant store."""
    record = state.get("participants", {}).get(address)
    if record is None:
        raise NotFound(
            f"picked member {address} is not in the participant store",
            hint="register it with `inferctl participant join`",
        )
    return str(record.get("inference_url", ""))
