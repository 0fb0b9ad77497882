"""Gonka's epoch timeline: stage heights, phases and epoch context at a block height.

The formulas follow gonka-ai/gonka `inference-chain/x/inference/types/epoch_params.go`
(offsets from a PoC start), `types/epoch_context.go` (absolute heights, phases, context
selection) and `x/inference/module/module.go` `EndBlock` (which epoch step runs at which
height). Everything here is pure arithmetic on integers, so the chain simulator, the
executor filter and the CLI can share one definition of "where in the epoch are we".

Epoch 0 is the genesis epoch: it runs no PoC, every stage height is 0, its phase is
always Inference and its next PoC start is `epoch_length - epoch_shift`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

from inferctl.errors import Conflict, InvalidInput

# Upstream starts both wind-down periods at 80 % of the stage, computed in float64 and
# truncated toward zero. Python floats are IEEE doubles, so int(duration * 0.8) gives
# the same integer as Go's int64(float64(duration) * 0.8).
WIND_DOWN_FACTOR = 0.8

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1

_DECIMAL_INTEGER = re.compile(r"-?[0-9]+")


class Phase(enum.StrEnum):
    """Epoch phase at a block height, spelled as upstream's EpochPhase strings."""

    POC_GENERATE = "PoCGenerate"
    POC_GENERATE_WIND_DOWN = "PoCGenerateWindDown"
    POC_VALIDATE = "PoCValidate"
    POC_VALIDATE_WIND_DOWN = "PoCValidateWindDown"
    INFERENCE = "Inference"


# --------------------------------------------------------------------------------------
# Parameters


@dataclass(frozen=True)
class EpochParams:
    """The `epoch_params` section of the inference module's params.

    All fields are int64 on chain except `inference_pruning_epoch_threshold` (uint64).
    Durations and delays are in blocks.
    """

    epoch_length: int
    epoch_multiplier: int
    epoch_shift: int
    default_unit_of_compute_price: int
    poc_stage_duration: int
    poc_exchange_duration: int
    poc_validation_delay: int
    poc_validation_duration: int
    set_new_validators_delay: int
    inference_validation_cutoff: int
    inference_pruning_epoch_threshold: int

    @classmethod
    def from_mapping(cls, data: object) -> EpochParams:
        """Build params from JSON, where each value is an int or a decimal string.

        A missing key reads as 0, as the chain reads a proto3 field that JSON omits.
        Unknown keys, non-integers and values outside the field's int64 or uint64 range
        raise InvalidInput. Rule checks are left to `validate()`.
        """
        if not isinstance(data, Mapping):
            raise InvalidInput(
                f"invalid epoch_params {data!r}: expected a JSON object",
                hint='write e.g. {"epoch_length": "17280", ...}',
            )
        names = [field.name for field in fields(cls)]
        unknown = sorted(str(key) for key in data if key not in names)
        if unknown:
            raise InvalidInput(
                f"invalid epoch_params: unknown field(s) {', '.join(unknown)}",
                hint=f"the known fields are {', '.join(names)}",
            )
        values = {name: _parse_field(name, data.get(name, 0)) for name in names}
        return cls(**values)

    def to_mapping(self) -> dict[str, str]:
        """Return the JSON form the chain exports, with every value a decimal string."""
        return {field.name: str(getattr(self, field.name)) for field in fields(self)}

    def validate(self) -> list[str]:
        """Return the rules these params break, each naming field and value.

        The rules are upstream's `EpochParams.Validate`, which stops at the first
        violation. This returns all of them, and an empty list for valid params.
        """
        problems: list[str] = []
        for name, (minimum, rule) in _RULES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                problems.append(f"{name} must be an integer, got {value!r}")
            elif value < minimum:
                problems.append(f"{name} must be {rule}, got {value}")
            elif value > _maximum(name):
                problems.append(f"{name} must be at most {_maximum(name)}, got {value}")
        return problems

    def timeline_problems(self) -> list[str]:
        """Return the reasons why these params cannot run epoch after epoch.

        Upstream does not check these, but a chain with such params stops starting
        new epochs, so the simulator rejects them before advancing. An empty list
        means every epoch can start, form and switch in turn. Call `validate()` first
        because this assumes valid params.
        """
        problems: list[str] = []
        first_poc_start = self.epoch_length - self.epoch_shift
        if first_poc_start < 1:
            problems.append(
                f"epoch_shift {self.epoch_shift} must be below epoch_length "
                f"{self.epoch_length}: the first PoC would start at height "
                f"{first_poc_start}, but blocks start at height 1"
            )
        switch_offset = self.set_new_validators_offset()
        if switch_offset >= self.epoch_length:
            problems.append(
                f"the epoch switch comes {switch_offset} blocks after PoC start, "
                f"not before the next PoC start {self.epoch_length} blocks after it, "
                "so the next PoC never starts; shorten poc_stage_duration, "
                "poc_validation_delay, poc_validation_duration or "
                "set_new_validators_delay, or raise epoch_length"
            )
        return problems

    # Offsets in blocks from an epoch's PoC start (upstream's EpochParams getters).
    # epoch_multiplier does not scale them, because upstream only validates it.

    def poc_wind_down_offset(self) -> int:
        return int(self.poc_stage_duration * WIND_DOWN_FACTOR)

    def end_of_poc_offset(self) -> int:
        return self.poc_stage_duration

    def poc_exchange_deadline_offset(self) -> int:
        return self.end_of_poc_offset() + self.poc_exchange_duration

    def start_of_poc_validation_offset(self) -> int:
        return self.end_of_poc_offset() + self.poc_validation_delay

    def poc_validation_wind_down_offset(self) -> int:
        wind_down = int(self.poc_validation_duration * WIND_DOWN_FACTOR)
        return self.start_of_poc_validation_offset() + wind_down

    def end_of_poc_validation_offset(self) -> int:
        return self.start_of_poc_validation_offset() + self.poc_validation_duration

    def set_new_validators_offset(self) -> int:
        return self.end_of_poc_validation_offset() + self.set_new_validators_delay

    def claim_money_offset(self) -> int:
        return self.set_new_validators_offset() + 1


# Smallest allowed value of each field and the rule as written in messages, in the
# order upstream checks them. epoch_shift has no rule.
_RULES: dict[str, tuple[int, str]] = {
    "epoch_length": (1, "> 0"),
    "epoch_multiplier": (1, "> 0"),
    "epoch_shift": (INT64_MIN, "an int64"),
    "default_unit_of_compute_price": (0, ">= 0"),
    "poc_stage_duration": (1, "> 0"),
    "poc_exchange_duration": (1, "> 0"),
    "poc_validation_delay": (0, ">= 0"),
    "poc_validation_duration": (1, "> 0"),
    "set_new_validators_delay": (0, ">= 0"),
    "inference_validation_cutoff": (0, ">= 0"),
    "inference_pruning_epoch_threshold": (1, ">= 1"),
}


def _maximum(name: str) -> int:
    return UINT64_MAX if name == "inference_pruning_epoch_threshold" else INT64_MAX


def _parse_field(name: str, value: object) -> int:
    """Parse one JSON value (int or decimal string) and check its int64/uint64 range."""
    if isinstance(value, str) and _DECIMAL_INTEGER.fullmatch(value):
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise InvalidInput(
            f"invalid epoch_params.{name} {value!r}: expected an integer or a "
            "decimal string",
            hint=f'write e.g. "{name}": "{getattr(DEFAULT_PARAMS, name)}"',
        )
    minimum = 0 if name == "inference_pruning_epoch_threshold" else INT64_MIN
    if not minimum <= number <= _maximum(name):
        kind = "uint64" if minimum == 0 else "int64"
        raise InvalidInput(f"invalid epoch_params.{name} {number}: out of {kind} range")
    return number


# Upstream's DefaultEpochParams: a 40-block epoch with a 10-block PoC.
DEFAULT_PARAMS = EpochParams(
    epoch_length=40,
    epoch_multiplier=1,
    epoch_shift=0,
    default_unit_of_compute_price=100,
    poc_stage_duration=10,
    poc_exchange_duration=2,
    poc_validation_delay=2,
    poc_validation_duration=6,
    set_new_validators_delay=1,
    inference_validation_cutoff=0,
    inference_pruning_epoch_threshold=2,
)


# --------------------------------------------------------------------------------------
# Stage heights of one epoch


@dataclass(frozen=True)
class ExchangeWindow:
    """Inclusive range of heights in which the chain accepts PoC batches or validations.

    Epoch 0 reports (0, 0) as upstream does, but its windows are empty, so use the
    `EpochContext.in_*_window` predicates, which return False for epoch 0.
    """

    start: int
    end: int


@dataclass(frozen=True)
class EpochStages:
    """Absolute block heights of every stage boundary of one epoch."""

    epoch_index: int
    poc_start: int
    poc_wind_down: int
    end_of_poc: int
    poc_exchange_window: ExchangeWindow
    start_of_poc_validation: int
    poc_validation_wind_down: int
    # The chain forms the epoch (weights, model assignment, groups) at this height.
    end_of_poc_validation: int
    poc_validation_exchange_window: ExchangeWindow
    # The epoch becomes effective (the switch) at this height.
    set_new_validators: int
    claim_money: int
    next_poc_start: int
    inference_validation_cutoff: int


def _genesis_stages(next_poc_start: int, cutoff: int) -> EpochStages:
    empty = ExchangeWindow(0, 0)
    return EpochStages(
        epoch_index=0,
        poc_start=0,
        poc_wind_down=0,
        end_of_poc=0,
        poc_exchange_window=empty,
        start_of_poc_validation=0,
        poc_validation_wind_down=0,
        end_of_poc_validation=0,
        poc_validation_exchange_window=empty,
        set_new_validators=0,
        claim_money=0,
        next_poc_start=next_poc_start,
        inference_validation_cutoff=cutoff,
    )


@dataclass(frozen=True)
class EpochContext:
    """One epoch anchored at its PoC start height, with the params that time it."""

    epoch_index: int
    poc_start_block_height: int
    params: EpochParams

    def __post_init__(self) -> None:
        if self.epoch_index < 0:
            raise InvalidInput(f"invalid epoch index {self.epoch_index}: must be >= 0")

    def stages(self) -> EpochStages:
        """Compute the absolute height of every stage of this epoch."""
        next_poc_start = self.next_poc_start()
        cutoff = next_poc_start - self.params.inference_validation_cutoff
        if self.epoch_index == 0:
            return _genesis_stages(next_poc_start, cutoff)

        start = self.poc_start_block_height
        params = self.params
        start_of_validation = start + params.start_of_poc_validation_offset()
        end_of_validation = start + params.end_of_poc_validation_offset()
        return EpochStages(
            epoch_index=self.epoch_index,
            poc_start=start,
            poc_wind_down=start + params.poc_wind_down_offset(),
            end_of_poc=start + params.end_of_poc_offset(),
            poc_exchange_window=ExchangeWindow(
                start + 1, start + params.poc_exchange_deadline_offset()
            ),
            start_of_poc_validation=start_of_validation,
            poc_validation_wind_down=start + params.poc_validation_wind_down_offset(),
            end_of_poc_validation=end_of_validation,
            poc_validation_exchange_window=ExchangeWindow(
                start_of_validation + 1, end_of_validation
            ),
            set_new_validators=start + params.set_new_validators_offset(),
            claim_money=start + params.claim_money_offset(),
            next_poc_start=next_poc_start,
            inference_validation_cutoff=cutoff,
        )

    def next_poc_start(self) -> int:
        """Return the PoC start height of the following epoch."""
        if self.epoch_index == 0:
            return self.params.epoch_length - self.params.epoch_shift
        return self.poc_start_block_height + self.params.epoch_length

    def next_context(self) -> EpochContext:
        """Return the context of the following epoch, timed by the same params."""
        return EpochContext(self.epoch_index + 1, self.next_poc_start(), self.params)

    def phase_at(self, height: int) -> Phase:
        """Return the phase at `height`, Inference for epoch 0 and before PoC start."""
        if self.epoch_index == 0 or height < self.poc_start_block_height:
            return Phase.INFERENCE
        stages = self.stages()
        if height < stages.poc_wind_down:
            return Phase.POC_GENERATE
        if height < stages.start_of_poc_validation:
            return Phase.POC_GENERATE_WIND_DOWN
        if height < stages.poc_validation_wind_down:
            return Phase.POC_VALIDATE
        if height < stages.end_of_poc_validation:
            return Phase.POC_VALIDATE_WIND_DOWN
        return Phase.INFERENCE

    # Stage predicates. Each is False for epoch 0 except `is_start_of_poc` (epoch 0
    # reports PoC start 0, so height 0 matches) and `is_next_poc_start`, as upstream.

    def is_start_of_poc(self, height: int) -> bool:
        return height == self.stages().poc_start

    def is_end_of_poc(self, height: int) -> bool:
        return self.epoch_index != 0 and height == self.stages().end_of_poc

    def is_start_of_poc_validation(self, height: int) -> bool:
        return self.epoch_index != 0 and height == self.stages().start_of_poc_validation

    def is_end_of_poc_validation(self, height: int) -> bool:
        """Return True at the epoch formation height (end of PoC validation)."""
        return self.epoch_index != 0 and height == self.stages().end_of_poc_validation

    def is_set_new_validators(self, height: int) -> bool:
        """Return True at the switch height, where this epoch becomes effective."""
        return self.epoch_index != 0 and height == self.stages().set_new_validators

    def is_claim_money(self, height: int) -> bool:
        return self.epoch_index != 0 and height == self.stages().claim_money

    def is_next_poc_start(self, height: int) -> bool:
        return height == self.next_poc_start()

    def in_poc_exchange_window(self, height: int) -> bool:
        """Return True where PoC batches are accepted: PoC start + 1 to the deadline."""
        window = self.stages().poc_exchange_window
        return self.epoch_index != 0 and window.start <= height <= window.end

    def in_validation_exchange_window(self, height: int) -> bool:
        """Return True where PoC validations are accepted: start + 1 to formation."""
        window = self.stages().poc_validation_exchange_window
        return self.epoch_index != 0 and window.start <= height <= window.end

    def limits_executors_to_poc_slots(self, height: int) -> bool:
        """Return True when executor selection keeps only members with a POC_SLOT node.

        Upstream keeps every member only in the Inference phase after this context's
        switch height. At the switch height itself the context is already the next
        epoch, so that one block also counts as PoC time.
        """
        if self.phase_at(height) != Phase.INFERENCE:
            return True
        return height <= self.stages().set_new_validators


# --------------------------------------------------------------------------------------
# Epoch numbering and context selection


def poc_start_for_epoch(epoch_index: int, params: EpochParams) -> int:
    """Return the PoC start height of an epoch when no epoch was skipped.

    Epoch 0 starts at 0, epoch 1 at `epoch_length - epoch_shift` and each later epoch
    `epoch_length` blocks after the one before.
    """
    if epoch_index < 0:
        raise InvalidInput(f"invalid epoch index {epoch_index}: must be >= 0")
    if epoch_index == 0:
        return 0
    first = params.epoch_length - params.epoch_shift
    return first + (epoch_index - 1) * params.epoch_length


def epoch_index_for_poc_start(poc_start: int, params: EpochParams) -> int:
    """Return the epoch whose PoC starts at `poc_start` (poc_start_for_epoch inverted).

    Raises InvalidInput when no epoch starts its PoC at that height.
    """
    if poc_start == 0:
        return 0
    first = params.epoch_length - params.epoch_shift
    if poc_start >= first and (poc_start - first) % params.epoch_length == 0:
        return (poc_start - first) // params.epoch_length + 1
    raise InvalidInput(
        f"height {poc_start} is not a PoC start height: PoC starts are 0, {first}, "
        f"{first + params.epoch_length}, ... (every {params.epoch_length} blocks)"
    )


def context_at(
    height: int,
    effective_epoch_index: int,
    effective_poc_start: int,
    params: EpochParams,
) -> EpochContext:
    """Select the epoch context that governs `height`, given the effective epoch E.

    The context is E between E's switch and the next PoC start (both exclusive), and
    E + 1 from then up to and including E + 1's switch height. Upstream panics past
    that height, and this raises InvalidInput naming the valid range instead.
    """
    if height < 0:
        raise InvalidInput(f"invalid block height {height}: must be >= 0")
    effective = EpochContext(effective_epoch_index, effective_poc_start, params)
    upcoming = effective.next_context()
    switch = effective.stages().set_new_validators
    if switch < height < effective.next_poc_start():
        return effective

    last_valid = upcoming.stages().set_new_validators
    if height <= last_valid:
        return upcoming
    raise InvalidInput(
        f"block height {height} is past height {last_valid}, where epoch "
        f"{upcoming.epoch_index} becomes effective after effective epoch "
        f"{effective_epoch_index} (PoC start {effective_poc_start}). This effective "
        f"epoch covers heights up to {last_valid}",
        hint=f"apply the switch to epoch {upcoming.epoch_index} first, or pass the "
        "epoch that is effective at that height",
    )


# --------------------------------------------------------------------------------------
# EndBlock epoch steps


class EndBlockStep(enum.StrEnum):
    """An epoch step of the inference module's EndBlock, in the order it runs them."""

    FORM_EPOCH = "form_epoch"  # end of PoC validation: form the upcoming epoch
    SET_NEW_VALIDATORS = "set_new_validators"  # the switch: upcoming becomes effective
    START_POC = "start_poc"  # create the next epoch record and its parent group


_STEP_NAMES = {
    EndBlockStep.FORM_EPOCH: "epoch formation",
    EndBlockStep.SET_NEW_VALIDATORS: "the switch (SetNewValidators)",
    EndBlockStep.START_POC: "PoC start",
}


@dataclass(frozen=True)
class ChainEvent:
    """One EndBlock epoch step at a height.

    `epoch_index` and `poc_start` name the epoch that the step forms, makes effective
    or starts.
    """

    height: int
    step: EndBlockStep
    epoch_index: int
    poc_start: int


@dataclass(frozen=True)
class EpochState:
    """The epoch pointers that decide which EndBlock steps run.

    `upcoming_poc_start` is the PoC start of epoch E + 1 once its record exists (created
    at its PoC start, consumed at its switch), else None.
    """

    effective_epoch_index: int
    effective_poc_start: int
    upcoming_poc_start: int | None = None

    @classmethod
    def genesis(cls) -> EpochState:
        """Return the state after genesis, with epoch 0 (PoC start 0) effective."""
        return cls(0, 0, None)

    def apply(self, event: ChainEvent) -> EpochState:
        """Return the state after `event`. Formation changes no epoch pointer."""
        if event.step == EndBlockStep.START_POC:
            return EpochState(
                self.effective_epoch_index, self.effective_poc_start, event.poc_start
            )
        if event.step == EndBlockStep.SET_NEW_VALIDATORS:
            return EpochState(event.epoch_index, event.poc_start, None)
        return self


def chain_events_at(
    height: int, state: EpochState, params: EpochParams
) -> list[ChainEvent]:
    """List the EndBlock epoch steps at `height`: formation, switch, then PoC start.

    All three are decided on the context selected before any step runs, as upstream
    does. Formation and switch need the upcoming epoch's record and a PoC start needs
    its absence. A state that breaks this raises Conflict, where upstream would log an
    error and skip the step. A height past the upcoming switch raises InvalidInput.
    """
    context = context_at(
        height, state.effective_epoch_index, state.effective_poc_start, params
    )
    index = state.effective_epoch_index + 1
    events: list[ChainEvent] = []
    if context.is_end_of_poc_validation(height):
        events.append(
            ChainEvent(
                height, EndBlockStep.FORM_EPOCH, index, context.poc_start_block_height
            )
        )
    if context.is_set_new_validators(height):
        events.append(
            ChainEvent(
                height,
                EndBlockStep.SET_NEW_VALIDATORS,
                index,
                context.poc_start_block_height,
            )
        )
    if context.is_start_of_poc(height):
        events.append(ChainEvent(height, EndBlockStep.START_POC, index, height))
    for event in events:
        _check_upcoming_record(event, state)
    return events


def _check_upcoming_record(event: ChainEvent, state: EpochState) -> None:
    upcoming = state.upcoming_poc_start
    if event.step == EndBlockStep.START_POC:
        if upcoming is not None:
            raise Conflict(
                f"height {event.height}: PoC start of epoch {event.epoch_index} is "
                f"due, but that epoch already started its PoC at height {upcoming}"
            )
        return
    if upcoming is None:
        raise Conflict(
            f"height {event.height}: {_STEP_NAMES[event.step]} of epoch "
            f"{event.epoch_index} is due, but the epoch has no record because its "
            f"PoC start at height {event.poc_start} was never applied",
            hint="apply every event from the last applied height on, in order",
        )
    if upcoming != event.poc_start:
        raise Conflict(
            f"height {event.height}: epoch {event.epoch_index} started its PoC at "
            f"height {upcoming}, but the timeline puts its PoC start at "
            f"{event.poc_start}. This happens when the epoch params change after a "
            "PoC start, which the simulator does not support",
        )


def chain_events_between(
    first_height: int, last_height: int, state: EpochState, params: EpochParams
) -> tuple[list[ChainEvent], EpochState]:
    """List the EndBlock epoch steps from `first_height` to `last_height` (inclusive).

    `state` is the state after block `first_height - 1`. Returns the events in block
    and EndBlock order, and the state after block `last_height`. Jumps from one
    candidate height to the next, so long ranges cost a few steps per epoch. Raises
    InvalidInput for params that cannot start every epoch (`timeline_problems`).
    """
    problems = params.validate() or params.timeline_problems()
    if problems:
        raise InvalidInput(
            "epoch params cannot drive the chain: " + "; ".join(problems),
            problems=problems,
        )
    if last_height < first_height:
        return [], state
    context_at(
        first_height, state.effective_epoch_index, state.effective_poc_start, params
    )

    events: list[ChainEvent] = []
    height = first_height
    while (candidate := _next_candidate_height(height, state, params)) <= last_height:
        step_events = chain_events_at(candidate, state, params)
        for event in step_events:
            state = state.apply(event)
        events.extend(step_events)
        height = candidate + 1
    return events, state


def _next_candidate_height(height: int, state: EpochState, params: EpochParams) -> int:
    """Return the first height >= `height` where an epoch step can run for `state`."""
    effective = EpochContext(
        state.effective_epoch_index, state.effective_poc_start, params
    )
    upcoming = effective.next_context().stages()
    candidates = [upcoming.end_of_poc_validation, upcoming.set_new_validators]
    if state.upcoming_poc_start is None:
        candidates.append(upcoming.poc_start)
    later = [candidate for candidate in candidates if candidate >= height]
    # `later` is empty only for a height past the upcoming switch. The caller's
    # context_at check rejects such a height, and the fallback makes chain_events_at
    # raise the same error.
    return min(later, default=upcoming.set_new_validators + 1)
