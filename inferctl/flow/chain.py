"""The chain block height and the EndBlock epoch steps that moving it runs.

`state["block_height"]` is the last block the simulated chain has produced, EndBlock
included, so every epoch step at or below it has been applied. Moving it forward runs
gonka's EndBlock epoch steps at the heights the epoch params give
(`inferctl.epochs.context`). Within a block they run in EndBlock order: formation of
the upcoming epoch, the switch (SetNewValidators), then the record of the next epoch
at its PoC start.

Each step is its own ledger record, with the body of the matching transaction:

* `/inferctl.v1.AdvanceBlocks {to_height}` produces the blocks after the current one
  up to `to_height`, none of which runs an epoch step;
* `/inferctl.v1.StartEpoch`, `/inferctl.v1.FormEpoch` and
  `/inferctl.v1.SetNewValidators` (`inferctl.flow.epochs`) are the EndBlock of the
  block after the current one, and each moves the height to its block.

So advancing the test-override chain from genesis to the switch of epoch 1 records
AdvanceBlocks to 49, StartEpoch at 50, AdvanceBlocks to 58, FormEpoch at 59 and
SetNewValidators at 60.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from inferctl.epochs.context import (
    ChainEvent,
    EndBlockStep,
    EpochContext,
    EpochParams,
    EpochStages,
    EpochState,
    chain_events_between,
    poc_start_for_epoch,
)
from inferctl.errors import Conflict, InvalidInput
from inferctl.flow import epochs
from inferctl.txs import State, TxContext, Unchanged

ADVANCE_BLOCKS = "/inferctl.v1.AdvanceBlocks"

# One advance crosses at most this many epochs. Each epoch adds a formation, whose
# cost grows with the participant count, and the batch is one commit, so a mistyped
# height must not keep the ledger locked for hours.
MAX_ADVANCE_EPOCHS = 100
MAX_INT64 = 2**63 - 1
INT64_MIN = -(2**63)
UINT64_MAX = 2**64 - 1

STEP_TYPES = {
    EndBlockStep.START_POC: epochs.START_EPOCH,
    EndBlockStep.FORM_EPOCH: epochs.FORM_EPOCH,
    EndBlockStep.SET_NEW_VALIDATORS: epochs.SET_NEW_VALIDATORS,
}


# ----- reading the state ---------------------------------------------------------------


def block_height(state: State) -> int:
    """Return the chain block height: the last block produced, 0 at genesis."""
    return int(state.get("block_height", 0))


def epoch_state(state: State) -> EpochState:
    """Return the epoch pointers of the ledger state that decide the EndBlock steps."""
    index = epochs.effective_index(state)
    records = state["epochs"]
    upcoming = records.get(str(index + 1))
    return EpochState(
        index,
        records[str(index)]["poc_start_block_height"],
        upcoming["poc_start_block_height"] if upcoming else None,
    )


def upcoming_stages(state: State) -> EpochStages:
    """Return the stage heights of the upcoming epoch, started or only scheduled."""
    current = epoch_state(state)
    params = epochs.epoch_params(state)
    poc_start = current.upcoming_poc_start
    if poc_start is None:
        poc_start = EpochContext(
            current.effective_epoch_index, current.effective_poc_start, params
        ).next_poc_start()
    return EpochContext(current.effective_epoch_index + 1, poc_start, params).stages()


def check_not_behind(state: State) -> None:
    """Raise Conflict when a step at or below the block height is missing.

    Commands keep the ledger in step with its height, so this only fires for
    records written by hand (`inferctl apply`) that skip a step.
    """
    stages = upcoming_stages(state)
    index = stages.epoch_index
    height = block_height(state)
    missing = []
    if epoch_state(state).upcoming_poc_start is None and stages.poc_start <= height:
        missing.append(f"the PoC start of epoch {index} at block {stages.poc_start}")
    formation = stages.end_of_poc_validation
    if not epochs.is_formed(state, index) and formation <= height:
        missing.append(f"the formation of epoch {index} at block {formation}")
    if stages.set_new_validators <= height:
        missing.append(
            f"the switch to epoch {index} at block {stages.set_new_validators}"
        )
    if missing:
        raise Conflict(
            f"the chain is at block {height} but lacks {', '.join(missing)}",
            hint="record the missing steps with `inferctl epoch form "
            "--at-any-height` and `inferctl epoch activate --at-any-height`",
        )


def first_step_after(state: State, last_height: int) -> ChainEvent | None:
    """Return the first EndBlock step from the next block to `last_height`, if any."""
    check_not_behind(state)
    first = block_height(state) + 1
    # The upcoming switch is always a step, so no search needs to look past it.
    last = min(last_height, upcoming_stages(state).set_new_validators)
    events, _after = chain_events_between(
        first, last, epoch_state(state), epochs.epoch_params(state)
    )
    return events[0] if events else None


def describe_step(event: ChainEvent) -> str:
    """Return a phrase naming a step, e.g. "the formation of epoch 2"."""
    if event.step == EndBlockStep.START_POC:
        return f"the PoC start of epoch {event.epoch_index}"
    if event.step == EndBlockStep.FORM_EPOCH:
        return f"the formation of epoch {event.epoch_index}"
    return f"the switch to epoch {event.epoch_index}"


# ----- AdvanceBlocks ------------------------------------------------------------------


def apply_advance_blocks(state: State, body: dict[str, Any], ctx: TxContext) -> dict:
    """Produce the blocks up to `to_height`, rejecting a range with an epoch step.

    Body: {to_height}. The blocks after the current one up to `to_height` must run
    no epoch step, because each step is its own record.
    """
    target = _to_height(body)
    current = block_height(state)
    if target == current:
        raise Unchanged(f"the chain is already at block {target}")
    if target < current:
        raise InvalidInput(
            f"AdvanceBlocks: to_height {target} is below the chain's block height "
            f"{current}, and the chain never goes back",
            hint=f"use a to_height above {current}",
        )

    step = first_step_after(state, target)
    if step is not None:
        raise InvalidInput(
            f"AdvanceBlocks: block {step.height} runs {describe_step(step)}, so "
            f"to_height {target} skips it",
            hint=f"advance to block {step.height - 1} and record the step next, or "
            "use `inferctl chain advance`, which records every step",
        )
    state["block_height"] = target
    return {"from_height": current, "to_height": target}


def _to_height(body: dict[str, Any]) -> int:
    unknown = sorted(key for key in body if key != "to_height")
    if unknown:
        raise InvalidInput(
            f"AdvanceBlocks: unknown key {unknown[0]!r}",
            hint="the body has only to_height",
        )
    if "to_height" not in body:
        raise InvalidInput("AdvanceBlocks: missing key 'to_height'")
    value = body["to_height"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"AdvanceBlocks: to_height must be an integer, got {value!r}")
    if not 0 <= value <= MAX_INT64:
        raise InvalidInput(
            f"AdvanceBlocks: to_height {value} is out of range",
            hint=f"use a block height from 0 to {MAX_INT64}",
        )
    return value


# ----- planning an advance ---------------------------------------------------------------


@dataclass
class AdvancePlan:
    """The records that move the chain from `start` to `target`, and their steps.

    `txs` yields (type, body, label) one at a time. The ledger applies each record
    before it requests the next, so the formation check before a FormEpoch reads the
    state after every earlier step of the same advance.
    """

    start: int
    target: int
    steps: list[ChainEvent] = field(default_factory=list)
    txs: Iterator[tuple[str, dict[str, Any], str]] = field(
        default_factory=lambda: iter(())
    )


def resolve_target(
    state: State,
    *,
    blocks: int | None = None,
    to_height: int | None = None,
    next_epoch: bool = False,
) -> int:
    """Return the block height an advance ends at; exactly one option must be set."""
    chosen = [blocks is not None, to_height is not None, next_epoch]
    if chosen.count(True) != 1:
        raise InvalidInput(
            "give exactly one of --blocks, --to-height and --to next-epoch"
        )
    current = block_height(state)
    if next_epoch:
        check_not_behind(state)
        return upcoming_stages(state).set_new_validators
    if to_height is None:
        return current + (blocks or 0)
    if to_height < current:
        raise InvalidInput(
            f"--to-height {to_height} is below the chain's block height {current}, "
            "and the chain never goes back",
            hint=f"pass a height of {current + 1} or more",
        )
    return to_height


def plan_advance(state: State, target: int) -> AdvancePlan:
    """Plan the records that move the chain to block `target`.

    Raises InvalidInput for a target past int64 or more than MAX_ADVANCE_EPOCHS
    epochs ahead, and for params that cannot drive the chain.
    """
    start = block_height(state)
    params = epochs.epoch_params(state)
    _check_advance_range(start, target, params)
    if target == start:
        return AdvancePlan(start, target)

    check_not_behind(state)
    steps, _after = chain_events_between(start + 1, target, epoch_state(state), params)
    return AdvancePlan(start, target, steps, _advance_txs(state, start, target, steps))


def _check_advance_range(start: int, target: int, params: EpochParams) -> None:
    if target > MAX_INT64:
        raise InvalidInput(
            f"block height {target} is out of range",
            hint=f"block heights are int64, at most {MAX_INT64}",
        )
    limit = MAX_ADVANCE_EPOCHS * params.epoch_length
    if params.epoch_length > 0 and target - start > limit:
        raise InvalidInput(
            f"advancing from block {start} to {target} crosses more than "
            f"{MAX_ADVANCE_EPOCHS} epochs of {params.epoch_length} blocks",
            hint=f"advance at most {limit} blocks per command and repeat it",
        )


def _advance_txs(
    state: State, start: int, target: int, steps: list[ChainEvent]
) -> Iterator[tuple[str, dict[str, Any], str]]:
    height = start
    for step in steps:
        if step.height - 1 > height:
            yield _advance_tx(step.height - 1)
        if step.step == EndBlockStep.FORM_EPOCH:
            check_formation_possible(state, step, start, target)
        yield _step_tx(step)
        height = step.height
    if target > height:
        yield _advance_tx(target)


def _advance_tx(to_height: int) -> tuple[str, dict[str, Any], str]:
    return (ADVANCE_BLOCKS, {"to_height": to_height}, f"block {to_height}")


def _step_tx(step: ChainEvent) -> tuple[str, dict[str, Any], str]:
    body: dict[str, Any] = {"epoch_index": step.epoch_index}
    if step.step == EndBlockStep.START_POC:
        body["poc_start_block_height"] = step.height
    return (STEP_TYPES[step.step], body, f"block {step.height}")


def check_formation_possible(
    state: State, step: ChainEvent, start: int, target: int
) -> None:
    """Raise InvalidInput when no participant qualifies for the formation `step`.

    gonka switches to an empty epoch in this case, and every executor query then
    fails for a whole epoch. inferctl stops the advance instead, so the user can
    record PoC results first. The ledger stays unchanged because the advance from
    block `start` is one batch.
    """
    index = step.epoch_index
    if epochs.mined_participants(state, index):
        return
    if epochs.preserved_participants(state, index):
        return
    hint = "record PoC weights with `inferctl poc submit ADDR --weight N` first"
    if step.height - 1 > start:
        hint += (
            f", or stop before the formation with `inferctl chain advance "
            f"--to-height {step.height - 1}`"
        )
    raise InvalidInput(
        f"cannot advance to block {target}: block {step.height} forms epoch {index}, "
        f"but no participant qualifies (each needs a PoC result for epoch {index} "
        "and a validator key, or from epoch 2 on an ML node that kept serving "
        "inference during PoC); the ledger is unchanged",
        hint=hint,
    )


# ----- manual steps ------------------------------------------------------------------------


def check_step_height(state: State, step: EndBlockStep) -> None:
    """Raise Conflict unless the next block (or the current one) runs `step`.

    `epoch form` and `epoch activate` produce the block of their step, so they run
    when the chain is one block before it. They also run at the step's own block
    when the step is still missing there, as after a formation whose switch shares
    its block (set_new_validators_delay 0).
    """
    stages = upcoming_stages(state)
    index = stages.epoch_index
    if step == EndBlockStep.FORM_EPOCH:
        due, event, verb = stages.end_of_poc_validation, f"epoch {index} forms", "form"
    else:
        due = stages.set_new_validators
        event, verb = f"epoch {index} becomes effective", "activate"
    height = block_height(state)
    if height in (due - 1, due):
        return
    if height < due:
        raise Conflict(
            f"{event} at block {due}, but the chain is at block {height}",
            hint=f"run `inferctl chain advance --to-height {due}`, which runs every "
            f"step up to that block, or pass --at-any-height to {verb} it now",
        )
    raise Conflict(
        f"{event} at block {due}, but the chain is already at block {height}",
        hint=f"pass --at-any-height to {verb} it anyway",
    )


# ----- the epoch that governs a height --------------------------------------------------


@dataclass(frozen=True)
class EffectiveEpoch:
    """The epoch effective when a block starts, and the source of that value.

    `source` is "ledger" (the ledger's history or current state), "schedule" (past
    the ledger's block height, assuming each later epoch switches on time) or
    "option" (given on the command line).
    """

    epoch_index: int
    poc_start_block_height: int
    source: str


def effective_epoch_at(state: State, height: int) -> EffectiveEpoch:
    """Return the epoch effective when block `height` starts on this ledger.

    That is the epoch the chain's EndBlock at `height` selects its context from, so
    at a switch block it is the epoch before the switch. Up to the ledger's block
    height it comes from the ledger's history: the latest epoch whose parent group
    became effective before `height`. Above it, the ledger's current epochs are
    followed on schedule.
    """
    current = epoch_state(state)
    if height > block_height(state):
        index, poc_start = scheduled_effective(
            height,
            current.effective_epoch_index,
            current.effective_poc_start,
            epochs.epoch_params(state),
            upcoming_poc_start=current.upcoming_poc_start,
        )
        source = "ledger" if index == current.effective_epoch_index else "schedule"
        return EffectiveEpoch(index, poc_start, source)

    for index in range(current.effective_epoch_index, 0, -1):
        parent = state["epoch_groups"][str(index)][epochs.PARENT]
        if parent["effective_block_height"] < height:
            return EffectiveEpoch(index, parent["poc_start_block_height"], "ledger")
    return EffectiveEpoch(0, 0, "ledger")


def scheduled_effective(
    height: int,
    index: int,
    poc_start: int,
    params: EpochParams,
    *,
    upcoming_poc_start: int | None = None,
) -> tuple[int, int]:
    """Return (index, PoC start) of the epoch effective when block `height` starts.

    Epoch `index` (PoC start `poc_start`) is effective before `height`, the next
    epoch starts its PoC at `upcoming_poc_start` (default: on schedule), and each
    later epoch `epoch_length` blocks after the one before. An epoch becomes
    effective in the EndBlock of its switch block, so from the next block on.
    """
    current = EpochContext(index, poc_start, params)
    next_start = upcoming_poc_start
    if next_start is None:
        next_start = current.next_poc_start()
    first_switch = next_start + params.set_new_validators_offset()
    if height <= first_switch:
        return index, poc_start
    skipped = (height - 1 - first_switch) // params.epoch_length
    return index + 1 + skipped, next_start + skipped * params.epoch_length


def given_effective(
    index: int, poc_start: int | None, params: EpochParams
) -> EffectiveEpoch:
    """Return an effective epoch given on the command line.

    Without `poc_start`, the epoch's PoC starts where the schedule puts it
    (`poc_start_for_epoch`).
    """
    if poc_start is None:
        poc_start = poc_start_for_epoch(index, params)
    return EffectiveEpoch(index, poc_start, "option")


def epoch_context(
    height: int,
    params: EpochParams,
    *,
    state: State | None = None,
    given: EffectiveEpoch | None = None,
) -> dict[str, Any]:
    """Describe the epoch context at `height` (see `context_report`).

    The effective epoch is `given`, else the ledger's (`effective_epoch_at`), else
    the one a chain that started at genesis and switched every epoch on time has
    when block `height` starts.
    """
    problems = params.validate()
    if problems:
        raise InvalidInput(
            "invalid epoch params: " + "; ".join(problems), problems=problems
        )
    if given is not None:
        effective = given
    elif state is not None:
        effective = effective_epoch_at(state, height)
    else:
        index, poc_start = scheduled_effective(height, 0, 0, params)
        effective = EffectiveEpoch(index, poc_start, "schedule")
    return context_report(height, effective, params)


def load_epoch_params(path: str) -> EpochParams:
    """Read epoch params from a JSON file: a genesis, a params object or epoch_params.

    A genesis has them at app_state.inference.params.epoch_params, and a params
    object (or a QueryParams response) at [params.]epoch_params.
    """
    from inferctl.jsonio import load_file

    document = load_file(path, what="params file")
    data: Any = document
    if isinstance(data, dict) and "app_state" in data:
        data = (((data.get("app_state") or {}).get("inference") or {})
                .get("params") or {}).get("epoch_params")
        if data is None:
            raise InvalidInput(
                f"{path}: the genesis has no app_state.inference.params.epoch_params",
                hint="pass a gonka genesis file or a JSON object of epoch_params",
            )
    if isinstance(data, dict) and isinstance(data.get("params"), dict):
        data = data["params"]
    if isinstance(data, dict) and "epoch_params" in data:
        data = data["epoch_params"]
    return EpochParams.from_mapping(data)


def context_report(
    height: int, effective: EffectiveEpoch, params: EpochParams
) -> dict[str, Any]:
    """Describe the epoch context at `height`: phase, every stage height, flags.

    Raises InvalidInput where gonka's GetEpochContext panics: at a height past the
    switch of the epoch after `effective`.
    """
    from dataclasses import asdict

    from inferctl.epochs.context import context_at

    context = context_at(
        height, effective.epoch_index, effective.poc_start_block_height, params
    )
    stages = context.stages()
    _check_int64_stages(height, stages)
    return {
        "block_height": height,
        "epoch_index": context.epoch_index,
        "phase": str(context.phase_at(height)),
        "effective_epoch": asdict(effective),
        "stages": _stages_json(stages),
        "at_height": {
            "is_start_of_poc": context.is_start_of_poc(height),
            "is_end_of_poc": context.is_end_of_poc(height),
            "is_start_of_poc_validation": context.is_start_of_poc_validation(height),
            "is_end_of_poc_validation": context.is_end_of_poc_validation(height),
            "is_set_new_validators": context.is_set_new_validators(height),
            "is_claim_money": context.is_claim_money(height),
            "in_poc_exchange_window": context.in_poc_exchange_window(height),
            "in_validation_exchange_window": context.in_validation_exchange_window(
                height
            ),
            "executors_limited_to_poc_slots": context.limits_executors_to_poc_slots(
                height
            ),
        },
        "epoch_params": asdict(params),
    }


def _check_int64_stages(height: int, stages: EpochStages) -> None:
    """Raise InvalidInput when a stage height or the epoch index leaves its chain type.

    Block heights are int64 and epoch indices uint64 on chain, where such values
    would overflow.
    """
    heights = [
        value
        for item in _stages_json(stages).values()
        for value in (item.values() if isinstance(item, dict) else [item])
    ]
    if stages.epoch_index > UINT64_MAX or not all(
        INT64_MIN <= value <= MAX_INT64 for value in heights
    ):
        raise InvalidInput(
            f"the epoch context at block {height} (epoch {stages.epoch_index}) has "
            "stage heights past int64 or an epoch index past uint64, where the chain "
            "overflows",
            hint="use smaller heights, epoch indices or params",
        )


def _stages_json(stages: EpochStages) -> dict[str, Any]:
    def window(value: Any) -> dict[str, int]:
        return {"start": value.start, "end": value.end}

    return {
        "poc_start": stages.poc_start,
        "poc_wind_down": stages.poc_wind_down,
        "end_of_poc": stages.end_of_poc,
        "poc_exchange_window": window(stages.poc_exchange_window),
        "start_of_poc_validation": stages.start_of_poc_validation,
        "poc_validation_wind_down": stages.poc_validation_wind_down,
        "end_of_poc_validation": stages.end_of_poc_validation,
        "poc_validation_exchange_window": window(
            stages.poc_validation_exchange_window
        ),
        "set_new_validators": stages.set_new_validators,
        "claim_money": stages.claim_money,
        "next_poc_start": stages.next_poc_start,
        "inference_validation_cutoff": stages.inference_validation_cutoff,
    }
