"""Tests for gonka's epoch timeline: stage heights, phases, context selection, steps.

Every expected height below is worked out by hand from the formulas, with the
arithmetic next to the values where it is not obvious. Wind-down offsets truncate
80 % of the stage duration: int(4 * 0.8) = 3, int(60 * 0.8) = 48, int(20 * 0.8) = 16,
int(10 * 0.8) = 8, int(6 * 0.8) = 4.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferctl.epochs.context import (
    DEFAULT_PARAMS,
    ChainEvent,
    EndBlockStep,
    EpochContext,
    EpochParams,
    EpochState,
    ExchangeWindow,
    Phase,
    chain_events_at,
    chain_events_between,
    context_at,
    epoch_index_for_poc_start,
    poc_start_for_epoch,
)
from inferctl.errors import Conflict, InvalidInput


def make_params(
    length: int,
    shift: int,
    stage: int,
    exchange: int,
    delay: int,
    validation: int,
    switch_delay: int,
    cutoff: int = 0,
) -> EpochParams:
    return EpochParams(
        epoch_length=length,
        epoch_multiplier=1,
        epoch_shift=shift,
        default_unit_of_compute_price=100,
        poc_stage_duration=stage,
        poc_exchange_duration=exchange,
        poc_validation_delay=delay,
        poc_validation_duration=validation,
        set_new_validators_delay=switch_delay,
        inference_validation_cutoff=cutoff,
        inference_pruning_epoch_threshold=2,
    )


# gonka's test genesis overrides (inference-chain/test_genesis_overrides.json).
TEST_OVERRIDES = make_params(50, 0, 4, 1, 1, 4, 1)
# gonka's mainnet genesis (genesis/genesis.json).
MAINNET = make_params(17280, 16980, 60, 5, 5, 20, 120, cutoff=80)
# The params of upstream's epoch_context_test.go TestZeroEpoch and TestPlain.
UPSTREAM_SHORT = make_params(100, 90, 20, 1, 2, 10, 1)
# The params of upstream's epoch_context_test.go Test.
UPSTREAM_LONG = make_params(2000, 90, 60, 1, 2, 20, 1)

# The epoch_params object of gonka's mainnet genesis/genesis.json, verbatim.
MAINNET_JSON = """{
  "epoch_length": "17280",
  "epoch_multiplier": "1",
  "epoch_shift": "16980",
  "default_unit_of_compute_price": "100",
  "poc_stage_duration": "60",
  "poc_exchange_duration": "5",
  "poc_validation_delay": "5",
  "poc_validation_duration": "20",
  "set_new_validators_delay": "120",
  "inference_validation_cutoff": "80",
  "inference_pruning_epoch_threshold": "2"
}"""


# --------------------------------------------------------------------------------------
# Worked timelines


# Test overrides, epoch 1: PoC start 50 - 0 = 50.
OVERRIDES_EPOCH_1 = [
    ("poc_start", 50),
    ("poc_wind_down", 53),  # 50 + int(3.2)
    ("end_of_poc", 54),  # 50 + 4
    ("poc_exchange_window", ExchangeWindow(51, 55)),  # 50 + 1 .. 54 + 1
    ("start_of_poc_validation", 55),  # 54 + 1
    ("poc_validation_wind_down", 58),  # 55 + int(3.2)
    ("end_of_poc_validation", 59),  # 55 + 4
    ("poc_validation_exchange_window", ExchangeWindow(56, 59)),
    ("set_new_validators", 60),  # 59 + 1
    ("claim_money", 61),
    ("next_poc_start", 100),  # 50 + 50
    ("inference_validation_cutoff", 100),  # 100 - 0
]

# Mainnet, epoch 1: PoC start 17280 - 16980 = 300.
MAINNET_EPOCH_1 = [
    ("poc_start", 300),
    ("poc_wind_down", 348),  # 300 + 48
    ("end_of_poc", 360),  # 300 + 60
    ("poc_exchange_window", ExchangeWindow(301, 365)),  # 360 + 5
    ("start_of_poc_validation", 365),  # 360 + 5
    ("poc_validation_wind_down", 381),  # 365 + 16
    ("end_of_poc_validation", 385),  # 365 + 20
    ("poc_validation_exchange_window", ExchangeWindow(366, 385)),
    ("set_new_validators", 505),  # 385 + 120
    ("claim_money", 506),
    ("next_poc_start", 17580),  # 300 + 17280
    ("inference_validation_cutoff", 17500),  # 17580 - 80
]

# Defaults, epoch 1: PoC start 40 - 0 = 40.
DEFAULTS_EPOCH_1 = [
    ("poc_start", 40),
    ("poc_wind_down", 48),  # 40 + 8
    ("end_of_poc", 50),  # 40 + 10
    ("poc_exchange_window", ExchangeWindow(41, 52)),  # 50 + 2
    ("start_of_poc_validation", 52),  # 50 + 2
    ("poc_validation_wind_down", 56),  # 52 + 4
    ("end_of_poc_validation", 58),  # 52 + 6
    ("poc_validation_exchange_window", ExchangeWindow(53, 58)),
    ("set_new_validators", 59),  # 58 + 1
    ("claim_money", 60),
    ("next_poc_start", 80),  # 40 + 40
    ("inference_validation_cutoff", 80),  # 80 - 0
]


@pytest.mark.parametrize(("field", "expected"), OVERRIDES_EPOCH_1)
def test_overrides_epoch_1_stage(field: str, expected: object) -> None:
    stages = EpochContext(1, 50, TEST_OVERRIDES).stages()
    assert getattr(stages, field) == expected


@pytest.mark.parametrize(("field", "expected"), MAINNET_EPOCH_1)
def test_mainnet_epoch_1_stage(field: str, expected: object) -> None:
    stages = EpochContext(1, 300, MAINNET).stages()
    assert getattr(stages, field) == expected


@pytest.mark.parametrize(("field", "expected"), DEFAULTS_EPOCH_1)
def test_defaults_epoch_1_stage(field: str, expected: object) -> None:
    stages = EpochContext(1, 40, DEFAULT_PARAMS).stages()
    assert getattr(stages, field) == expected


def test_overrides_epoch_2_stages() -> None:
    stages = EpochContext(2, 100, TEST_OVERRIDES).stages()
    assert stages.epoch_index == 2
    assert stages.poc_start == 100
    assert stages.end_of_poc_validation == 109  # 100 + 4 + 1 + 4
    assert stages.set_new_validators == 110
    assert stages.next_poc_start == 150


def test_mainnet_epoch_2_stages() -> None:
    stages = EpochContext(2, 17580, MAINNET).stages()
    assert stages.end_of_poc_validation == 17665  # 17580 + 60 + 5 + 20
    assert stages.set_new_validators == 17785  # 17665 + 120
    assert stages.next_poc_start == 34860  # 17580 + 17280


def test_next_context_of_mainnet_epoch_1() -> None:
    upcoming = EpochContext(1, 300, MAINNET).next_context()
    assert upcoming.epoch_index == 2
    assert upcoming.poc_start_block_height == 17580
    assert upcoming.params == MAINNET


@pytest.mark.parametrize(
    ("height", "phase"),
    [
        (299, Phase.INFERENCE),  # before the PoC start
        (300, Phase.POC_GENERATE),
        (347, Phase.POC_GENERATE),
        (348, Phase.POC_GENERATE_WIND_DOWN),
        (360, Phase.POC_GENERATE_WIND_DOWN),  # end of PoC is still wind-down
        (364, Phase.POC_GENERATE_WIND_DOWN),
        (365, Phase.POC_VALIDATE),
        (380, Phase.POC_VALIDATE),
        (381, Phase.POC_VALIDATE_WIND_DOWN),
        (384, Phase.POC_VALIDATE_WIND_DOWN),
        (385, Phase.INFERENCE),  # formation
        (505, Phase.INFERENCE),
        (17579, Phase.INFERENCE),
    ],
)
def test_mainnet_epoch_1_phase(height: int, phase: Phase) -> None:
    assert EpochContext(1, 300, MAINNET).phase_at(height) == phase


def test_phase_names_match_upstream() -> None:
    assert [str(phase) for phase in Phase] == [
        "PoCGenerate",
        "PoCGenerateWindDown",
        "PoCValidate",
        "PoCValidateWindDown",
        "Inference",
    ]


# --------------------------------------------------------------------------------------
# Epoch 0


def test_epoch_0_stages_are_zero() -> None:
    stages = EpochContext(0, 0, MAINNET).stages()
    assert stages.poc_start == 0
    assert stages.poc_wind_down == 0
    assert stages.end_of_poc == 0
    assert stages.poc_exchange_window == ExchangeWindow(0, 0)
    assert stages.start_of_poc_validation == 0
    assert stages.poc_validation_wind_down == 0
    assert stages.end_of_poc_validation == 0
    assert stages.poc_validation_exchange_window == ExchangeWindow(0, 0)
    assert stages.set_new_validators == 0
    assert stages.claim_money == 0


def test_epoch_0_next_poc_start() -> None:
    stages = EpochContext(0, 0, MAINNET).stages()
    assert stages.next_poc_start == 300  # 17280 - 16980
    assert stages.inference_validation_cutoff == 220  # 300 - 80


@pytest.mark.parametrize("height", [0, 1, 299, 300, 360, 385, 505, 10**6])
def test_epoch_0_phase_is_inference(height: int) -> None:
    assert EpochContext(0, 0, MAINNET).phase_at(height) == Phase.INFERENCE


@pytest.mark.parametrize("height", [0, 1, 300])
def test_epoch_0_predicates_false(height: int) -> None:
    context = EpochContext(0, 0, MAINNET)
    assert not context.is_end_of_poc(height)
    assert not context.is_start_of_poc_validation(height)
    assert not context.is_end_of_poc_validation(height)
    assert not context.is_set_new_validators(height)
    assert not context.is_claim_money(height)
    assert not context.in_poc_exchange_window(height)
    assert not context.in_validation_exchange_window(height)


def test_epoch_0_start_and_next_poc() -> None:
    context = EpochContext(0, 0, MAINNET)
    # Upstream's start-of-PoC check has no epoch 0 guard: epoch 0 "starts" at 0.
    assert context.is_start_of_poc(0)
    assert not context.is_start_of_poc(300)
    assert context.is_next_poc_start(300)
    assert not context.is_next_poc_start(299)


def test_negative_epoch_index_rejected() -> None:
    with pytest.raises(InvalidInput, match="-1"):
        EpochContext(-1, 0, MAINNET)


# --------------------------------------------------------------------------------------
# Epoch numbering


@pytest.mark.parametrize(
    ("params", "epoch_index", "poc_start"),
    [
        (TEST_OVERRIDES, 0, 0),
        (TEST_OVERRIDES, 1, 50),
        (TEST_OVERRIDES, 2, 100),
        (TEST_OVERRIDES, 3, 150),
        (MAINNET, 0, 0),
        (MAINNET, 1, 300),
        (MAINNET, 2, 17580),  # 300 + 17280
        (MAINNET, 3, 34860),  # 300 + 2 * 17280
        (DEFAULT_PARAMS, 1, 40),
        (DEFAULT_PARAMS, 2, 80),
        (UPSTREAM_SHORT, 1, 10),  # 100 - 90
    ],
)
def test_poc_start_for_epoch(
    params: EpochParams, epoch_index: int, poc_start: int
) -> None:
    assert poc_start_for_epoch(epoch_index, params) == poc_start
    assert epoch_index_for_poc_start(poc_start, params) == epoch_index


def test_poc_start_for_negative_epoch() -> None:
    with pytest.raises(InvalidInput, match="-1"):
        poc_start_for_epoch(-1, MAINNET)


@pytest.mark.parametrize("height", [1, 299, 301, 17579, 17581])
def test_epoch_index_for_non_poc_start(height: int) -> None:
    with pytest.raises(InvalidInput, match=f"height {height} is not a PoC start"):
        epoch_index_for_poc_start(height, MAINNET)


# --------------------------------------------------------------------------------------
# Upstream epoch_context_test.go: TestZeroEpoch and Test


@dataclasses.dataclass(frozen=True)
class Walk:
    """Hand-computed boundaries of one walk through the upcoming epoch's PoC."""

    params: EpochParams
    effective_index: int
    effective_poc_start: int
    first_height: int
    poc_start: int
    wind_down: int
    end_of_poc: int
    poc_window_end: int
    validation_start: int
    validation_wind_down: int
    formation: int
    switch: int


WALKS = {
    # TestZeroEpoch: effective epoch 0, first PoC at 100 - 90 = 10, wind-down
    # 10 + 16 = 26, end of PoC 30, exchange until 31, validation 30 + 2 = 32,
    # validation wind-down 32 + 8 = 40, formation 32 + 10 = 42, switch 43.
    "zero_epoch": Walk(UPSTREAM_SHORT, 0, 0, 1, 10, 26, 30, 31, 32, 40, 42, 43),
    # Test: effective epoch 5 at 2800, next PoC 2800 + 2000 = 4800, wind-down
    # 4800 + 48 = 4848, end of PoC 4860, exchange until 4861, validation 4862,
    # validation wind-down 4862 + 16 = 4878, formation 4882, switch 4883.
    "epoch_5": Walk(
        UPSTREAM_LONG, 5, 2800, 4785, 4800, 4848, 4860, 4861, 4862, 4878, 4882, 4883
    ),
}


def walk_context(walk: Walk, height: int) -> EpochContext:
    return context_at(
        height, walk.effective_index, walk.effective_poc_start, walk.params
    )


def boundary_flags(context: EpochContext, height: int) -> list[bool]:
    return [
        context.is_start_of_poc(height),
        context.is_end_of_poc(height),
        context.is_start_of_poc_validation(height),
        context.is_end_of_poc_validation(height),
        context.is_set_new_validators(height),
        context.is_claim_money(height),
    ]


NO_BOUNDARY = [False] * 6


@pytest.mark.parametrize("name", WALKS)
def test_walk_before_poc(name: str) -> None:
    walk = WALKS[name]
    for height in range(walk.first_height, walk.poc_start):
        context = walk_context(walk, height)
        assert context.epoch_index == walk.effective_index, height
        assert context.phase_at(height) == Phase.INFERENCE, height
        assert not context.in_poc_exchange_window(height), height
        assert not context.in_validation_exchange_window(height), height
        assert boundary_flags(context, height) == NO_BOUNDARY, height


@pytest.mark.parametrize("name", WALKS)
def test_walk_at_poc_start(name: str) -> None:
    walk = WALKS[name]
    height = walk.poc_start
    context = walk_context(walk, height)
    assert context.epoch_index == walk.effective_index + 1
    assert context.poc_start_block_height == height
    assert context.phase_at(height) == Phase.POC_GENERATE
    assert context.is_start_of_poc(height)
    assert not context.in_poc_exchange_window(height)
    assert not context.in_validation_exchange_window(height)


@pytest.mark.parametrize("name", WALKS)
def test_walk_poc_generate(name: str) -> None:
    walk = WALKS[name]
    for height in range(walk.poc_start + 1, walk.wind_down):
        context = walk_context(walk, height)
        assert context.epoch_index == walk.effective_index + 1, height
        assert context.phase_at(height) == Phase.POC_GENERATE, height
        assert context.in_poc_exchange_window(height), height
        assert not context.in_validation_exchange_window(height), height
        assert boundary_flags(context, height) == NO_BOUNDARY, height


@pytest.mark.parametrize("name", WALKS)
def test_walk_poc_wind_down(name: str) -> None:
    walk = WALKS[name]
    for height in range(walk.wind_down, walk.validation_start):
        context = walk_context(walk, height)
        assert context.epoch_index == walk.effective_index + 1, height
        assert context.phase_at(height) == Phase.POC_GENERATE_WIND_DOWN, height
        in_window = height <= walk.poc_window_end
        assert context.in_poc_exchange_window(height) == in_window, height
        assert not context.in_validation_exchange_window(height), height
        if height == walk.end_of_poc:
            assert context.is_end_of_poc(height)
        else:
            assert boundary_flags(context, height) == NO_BOUNDARY, height


@pytest.mark.parametrize("name", WALKS)
def test_walk_validation_start(name: str) -> None:
    walk = WALKS[name]
    height = walk.validation_start
    context = walk_context(walk, height)
    assert context.epoch_index == walk.effective_index + 1
    assert context.phase_at(height) == Phase.POC_VALIDATE
    assert context.is_start_of_poc_validation(height)
    assert not context.in_poc_exchange_window(height)
    assert not context.in_validation_exchange_window(height)


@pytest.mark.parametrize("name", WALKS)
def test_walk_validation(name: str) -> None:
    walk = WALKS[name]
    for height in range(walk.validation_start + 1, walk.validation_wind_down):
        context = walk_context(walk, height)
        assert context.epoch_index == walk.effective_index + 1, height
        assert context.phase_at(height) == Phase.POC_VALIDATE, height
        assert not context.in_poc_exchange_window(height), height
        assert context.in_validation_exchange_window(height), height
        assert boundary_flags(context, height) == NO_BOUNDARY, height


@pytest.mark.parametrize("name", WALKS)
def test_walk_validation_wind_down(name: str) -> None:
    walk = WALKS[name]
    for height in range(walk.validation_wind_down, walk.formation):
        context = walk_context(walk, height)
        assert context.epoch_index == walk.effective_index + 1, height
        assert context.phase_at(height) == Phase.POC_VALIDATE_WIND_DOWN, height
        assert not context.in_poc_exchange_window(height), height
        assert context.in_validation_exchange_window(height), height
        assert boundary_flags(context, height) == NO_BOUNDARY, height


@pytest.mark.parametrize("name", WALKS)
def test_walk_formation(name: str) -> None:
    walk = WALKS[name]
    height = walk.formation
    context = walk_context(walk, height)
    assert context.epoch_index == walk.effective_index + 1
    assert context.phase_at(height) == Phase.INFERENCE
    assert not context.in_poc_exchange_window(height)
    # The validation exchange window closes at formation, inclusive.
    assert context.in_validation_exchange_window(height)
    assert context.is_end_of_poc_validation(height)


@pytest.mark.parametrize("name", WALKS)
def test_walk_switch(name: str) -> None:
    walk = WALKS[name]
    height = walk.switch
    context = walk_context(walk, height)
    assert context.epoch_index == walk.effective_index + 1
    assert context.phase_at(height) == Phase.INFERENCE
    assert not context.in_poc_exchange_window(height)
    assert not context.in_validation_exchange_window(height)
    assert context.is_set_new_validators(height)


@pytest.mark.parametrize("name", WALKS)
def test_walk_past_switch_rejected(name: str) -> None:
    walk = WALKS[name]
    with pytest.raises(InvalidInput):
        walk_context(walk, walk.switch + 1)


@pytest.mark.parametrize("name", WALKS)
def test_walk_claim_after_switch(name: str) -> None:
    walk = WALKS[name]
    height = walk.switch + 1
    new_index = walk.effective_index + 1
    context = context_at(height, new_index, walk.poc_start, walk.params)
    assert context.epoch_index == new_index
    assert context.phase_at(height) == Phase.INFERENCE
    assert not context.is_set_new_validators(height)
    assert context.is_claim_money(height)
    assert not context.in_poc_exchange_window(height)
    assert not context.in_validation_exchange_window(height)


# --------------------------------------------------------------------------------------
# Upstream TestPlain, TestProdBug and epoch_params_test.go TestEpochParamsStages


def test_plain_window_edges() -> None:
    context = EpochContext(1, 10, UPSTREAM_SHORT)
    # PoC start 10.
    assert context.is_start_of_poc(10)
    assert not context.in_poc_exchange_window(10)
    assert not context.in_validation_exchange_window(10)
    # One block later the PoC exchange window opens.
    assert not context.is_start_of_poc(11)
    assert context.in_poc_exchange_window(11)
    assert not context.is_start_of_poc_validation(11)
    assert not context.in_validation_exchange_window(11)
    # Validation starts at 10 + 20 + 2 = 32.
    assert not context.is_start_of_poc(32)
    assert not context.in_poc_exchange_window(32)
    assert context.is_start_of_poc_validation(32)
    assert not context.in_validation_exchange_window(32)
    # One block later the validation exchange window opens.
    assert not context.is_start_of_poc(33)
    assert not context.is_start_of_poc_validation(33)
    assert not context.in_poc_exchange_window(33)
    assert context.in_validation_exchange_window(33)


def test_prod_bug_height_57() -> None:
    # Test overrides, epoch 1 at 50: validation starts at 55, formation at 59.
    context = EpochContext(1, 50, TEST_OVERRIDES)
    assert context.in_validation_exchange_window(57)


@pytest.mark.parametrize(
    ("height", "inside"), [(55, False), (56, True), (59, True), (60, False)]
)
def test_prod_bug_window_edges(height: int, inside: bool) -> None:
    context = EpochContext(1, 50, TEST_OVERRIDES)
    assert context.in_validation_exchange_window(height) == inside


@pytest.mark.parametrize(
    ("height", "inside"), [(50, False), (51, True), (55, True), (56, False)]
)
def test_poc_exchange_window_edges(height: int, inside: bool) -> None:
    context = EpochContext(1, 50, TEST_OVERRIDES)
    assert context.in_poc_exchange_window(height) == inside


def test_params_stage_offsets() -> None:
    params = make_params(2000, 1990, 20, 1, 2, 10, 1)
    poc_start = 10
    assert poc_start + params.end_of_poc_offset() == 30  # 10 + 20
    assert poc_start + params.start_of_poc_validation_offset() == 32  # 30 + 2


def test_mainnet_offsets() -> None:
    assert MAINNET.poc_wind_down_offset() == 48
    assert MAINNET.end_of_poc_offset() == 60
    assert MAINNET.poc_exchange_deadline_offset() == 65
    assert MAINNET.start_of_poc_validation_offset() == 65
    assert MAINNET.poc_validation_wind_down_offset() == 81  # 65 + 16
    assert MAINNET.end_of_poc_validation_offset() == 85
    assert MAINNET.set_new_validators_offset() == 205
    assert MAINNET.claim_money_offset() == 206


def test_epoch_multiplier_does_not_scale() -> None:
    params = dataclasses.replace(TEST_OVERRIDES, epoch_multiplier=3)
    stages = EpochContext(1, 50, params).stages()
    assert stages.end_of_poc_validation == 59
    assert stages.set_new_validators == 60


# --------------------------------------------------------------------------------------
# Context selection


@pytest.mark.parametrize(
    ("height", "effective", "expected"),
    [
        # Effective epoch 0: epoch 1 starts its PoC at 50 and switches at 60.
        (0, (0, 0), (1, 50)),
        (1, (0, 0), (0, 0)),
        (49, (0, 0), (0, 0)),
        (50, (0, 0), (1, 50)),
        (59, (0, 0), (1, 50)),
        (60, (0, 0), (1, 50)),
        # Effective epoch 1 (PoC start 50, switch 60): epoch 2 starts at 100.
        (60, (1, 50), (2, 100)),  # the switch height selects the next epoch
        (61, (1, 50), (1, 50)),
        (99, (1, 50), (1, 50)),
        (100, (1, 50), (2, 100)),
        (110, (1, 50), (2, 100)),
    ],
)
def test_context_selection(
    height: int, effective: tuple[int, int], expected: tuple[int, int]
) -> None:
    context = context_at(height, effective[0], effective[1], TEST_OVERRIDES)
    assert context.epoch_index == expected[0]
    assert context.poc_start_block_height == expected[1]
    assert context.params == TEST_OVERRIDES


def test_context_past_switch_names_range() -> None:
    with pytest.raises(InvalidInput) as raised:
        context_at(111, 1, 50, TEST_OVERRIDES)
    message = str(raised.value)
    assert "111" in message
    assert "up to 110" in message
    assert "epoch 2" in message


def test_context_epoch_0_past_switch() -> None:
    with pytest.raises(InvalidInput, match="up to 60"):
        context_at(61, 0, 0, TEST_OVERRIDES)


def test_context_negative_height() -> None:
    with pytest.raises(InvalidInput, match="-1"):
        context_at(-1, 0, 0, TEST_OVERRIDES)


@pytest.mark.parametrize(
    ("height", "effective", "limited"),
    [
        (45, (0, 0), False),  # epoch 0, Inference after its switch height 0
        (50, (0, 0), True),  # PoC of epoch 1
        (58, (0, 0), True),  # validation wind-down
        (59, (0, 0), True),  # formation: Inference, but not past switch 60
        (60, (0, 0), True),  # switch block, before the switch is applied
        (60, (1, 50), True),  # switch height: context is already epoch 2
        (61, (1, 50), False),
        (99, (1, 50), False),
        (100, (1, 50), True),  # PoC of epoch 2
    ],
)
def test_executor_filter(
    height: int, effective: tuple[int, int], limited: bool
) -> None:
    context = context_at(height, effective[0], effective[1], TEST_OVERRIDES)
    assert context.limits_executors_to_poc_slots(height) == limited


# --------------------------------------------------------------------------------------
# EndBlock steps


def event(height: int, step: EndBlockStep, index: int, poc_start: int) -> ChainEvent:
    return ChainEvent(height, step, index, poc_start)


FORM = EndBlockStep.FORM_EPOCH
SWITCH = EndBlockStep.SET_NEW_VALIDATORS
START = EndBlockStep.START_POC

OVERRIDES_EVENTS = [
    event(50, START, 1, 50),
    event(59, FORM, 1, 50),
    event(60, SWITCH, 1, 50),
    event(100, START, 2, 100),
    event(109, FORM, 2, 100),
    event(110, SWITCH, 2, 100),
]


def test_step_names() -> None:
    assert [str(step) for step in EndBlockStep] == [
        "form_epoch",
        "set_new_validators",
        "start_poc",
    ]


def test_events_overrides_two_epochs() -> None:
    events, state = chain_events_between(1, 120, EpochState.genesis(), TEST_OVERRIDES)
    assert events == OVERRIDES_EVENTS
    assert state == EpochState(2, 100, None)


def test_events_block_by_block() -> None:
    state = EpochState.genesis()
    events: list[ChainEvent] = []
    for height in range(1, 121):
        for step_event in chain_events_at(height, state, TEST_OVERRIDES):
            state = state.apply(step_event)
            events.append(step_event)
    assert events == OVERRIDES_EVENTS
    assert state == EpochState(2, 100, None)


def test_events_split_range() -> None:
    first, middle = chain_events_between(1, 55, EpochState.genesis(), TEST_OVERRIDES)
    assert first == OVERRIDES_EVENTS[:1]
    assert middle == EpochState(0, 0, 50)
    rest, state = chain_events_between(56, 120, middle, TEST_OVERRIDES)
    assert rest == OVERRIDES_EVENTS[1:]
    assert state == EpochState(2, 100, None)


def test_events_mainnet_two_epochs() -> None:
    events, state = chain_events_between(1, 17785, EpochState.genesis(), MAINNET)
    assert events == [
        event(300, START, 1, 300),
        event(385, FORM, 1, 300),
        event(505, SWITCH, 1, 300),
        event(17580, START, 2, 17580),
        event(17665, FORM, 2, 17580),
        event(17785, SWITCH, 2, 17580),
    ]
    assert state == EpochState(2, 17580, None)


def test_events_defaults_epoch_1() -> None:
    events, state = chain_events_between(1, 60, EpochState.genesis(), DEFAULT_PARAMS)
    assert events == [
        event(40, START, 1, 40),
        event(58, FORM, 1, 40),
        event(59, SWITCH, 1, 40),
    ]
    assert state == EpochState(1, 40, None)


def test_events_formation_before_switch() -> None:
    # With no switch delay, formation and switch share height 59, in that order.
    params = dataclasses.replace(TEST_OVERRIDES, set_new_validators_delay=0)
    state = EpochState(0, 0, 50)
    assert chain_events_at(59, state, params) == [
        event(59, FORM, 1, 50),
        event(59, SWITCH, 1, 50),
    ]


def test_events_none_in_epoch_0() -> None:
    events, state = chain_events_between(1, 49, EpochState.genesis(), TEST_OVERRIDES)
    assert events == []
    assert state == EpochState.genesis()


def test_events_empty_range() -> None:
    state = EpochState(1, 50, None)
    assert chain_events_between(70, 69, state, TEST_OVERRIDES) == ([], state)


def test_events_quiet_height() -> None:
    assert chain_events_at(75, EpochState(1, 50, None), TEST_OVERRIDES) == []


def test_events_missing_epoch_record() -> None:
    with pytest.raises(Conflict, match="PoC start at height 50 was never applied"):
        chain_events_at(59, EpochState.genesis(), TEST_OVERRIDES)


def test_events_duplicate_poc_start() -> None:
    with pytest.raises(Conflict, match="already started its PoC at height 50"):
        chain_events_at(50, EpochState(0, 0, 50), TEST_OVERRIDES)


def test_events_mismatched_poc_start() -> None:
    with pytest.raises(Conflict, match="started its PoC at height 52"):
        chain_events_at(59, EpochState(0, 0, 52), TEST_OVERRIDES)


def test_events_range_past_switch() -> None:
    with pytest.raises(InvalidInput, match="up to 110"):
        chain_events_between(111, 200, EpochState(1, 50, None), TEST_OVERRIDES)


def test_events_reject_switch_after_next_poc() -> None:
    # Switch offset 4 + 1 + 4 + 41 = 50 reaches the next PoC start (epoch length 50).
    params = dataclasses.replace(TEST_OVERRIDES, set_new_validators_delay=41)
    with pytest.raises(InvalidInput, match="next PoC never starts") as raised:
        chain_events_between(1, 200, EpochState.genesis(), params)
    assert len(raised.value.problems) == 1


def test_events_reject_invalid_params() -> None:
    params = dataclasses.replace(TEST_OVERRIDES, epoch_length=0)
    with pytest.raises(InvalidInput, match="epoch_length must be > 0, got 0"):
        chain_events_between(1, 200, EpochState.genesis(), params)


def test_state_apply_steps() -> None:
    state = EpochState(1, 50, None)
    started = state.apply(event(100, START, 2, 100))
    assert started == EpochState(1, 50, 100)
    assert started.apply(event(109, FORM, 2, 100)) == started
    assert started.apply(event(110, SWITCH, 2, 100)) == EpochState(2, 100, None)


# --------------------------------------------------------------------------------------
# Params: defaults, parsing and validation


def test_default_params_values() -> None:
    assert DEFAULT_PARAMS.epoch_length == 40
    assert DEFAULT_PARAMS.epoch_multiplier == 1
    assert DEFAULT_PARAMS.epoch_shift == 0
    assert DEFAULT_PARAMS.default_unit_of_compute_price == 100
    assert DEFAULT_PARAMS.poc_stage_duration == 10
    assert DEFAULT_PARAMS.poc_exchange_duration == 2
    assert DEFAULT_PARAMS.poc_validation_delay == 2
    assert DEFAULT_PARAMS.poc_validation_duration == 6
    assert DEFAULT_PARAMS.set_new_validators_delay == 1
    assert DEFAULT_PARAMS.inference_validation_cutoff == 0
    assert DEFAULT_PARAMS.inference_pruning_epoch_threshold == 2


@pytest.mark.parametrize("params", [DEFAULT_PARAMS, MAINNET, TEST_OVERRIDES])
def test_known_params_valid(params: EpochParams) -> None:
    assert params.validate() == []
    assert params.timeline_problems() == []


def test_from_mapping_mainnet_json() -> None:
    assert EpochParams.from_mapping(json.loads(MAINNET_JSON)) == MAINNET


def test_from_mapping_ints() -> None:
    data = {"epoch_length": 50, "poc_stage_duration": "4", "epoch_shift": -5}
    params = EpochParams.from_mapping(data)
    assert params.epoch_length == 50
    assert params.poc_stage_duration == 4
    assert params.epoch_shift == -5


def test_from_mapping_missing_reads_zero() -> None:
    params = EpochParams.from_mapping({"epoch_length": "50"})
    assert params.epoch_length == 50
    assert params.set_new_validators_delay == 0
    assert params.inference_pruning_epoch_threshold == 0


def test_to_mapping_round_trip() -> None:
    mapping = MAINNET.to_mapping()
    assert mapping == json.loads(MAINNET_JSON)
    assert EpochParams.from_mapping(mapping) == MAINNET


def test_from_mapping_unknown_field() -> None:
    with pytest.raises(InvalidInput, match=r"unknown field.*epoch_lenght"):
        EpochParams.from_mapping({"epoch_lenght": "50"})


def test_from_mapping_not_object() -> None:
    with pytest.raises(InvalidInput, match="expected a JSON object"):
        EpochParams.from_mapping(["epoch_length", "50"])


@pytest.mark.parametrize(
    "value", [True, 4.0, "4.0", "1_000", " 4", "+4", "0x10", "", None, [4]]
)
def test_from_mapping_rejects_non_integer(value: object) -> None:
    with pytest.raises(InvalidInput, match="poc_stage_duration"):
        EpochParams.from_mapping({"poc_stage_duration": value})


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("epoch_length", "9223372036854775808", "int64"),  # 2**63
        ("epoch_shift", "-9223372036854775809", "int64"),  # -(2**63) - 1
        ("inference_pruning_epoch_threshold", "-1", "uint64"),
        ("inference_pruning_epoch_threshold", "18446744073709551616", "uint64"),
    ],
)
def test_from_mapping_out_of_range(field: str, value: str, kind: str) -> None:
    with pytest.raises(InvalidInput, match=rf"{field}.*out of {kind} range"):
        EpochParams.from_mapping({field: value})


def test_from_mapping_range_limits_accepted() -> None:
    params = EpochParams.from_mapping(
        {
            "epoch_shift": "-9223372036854775808",
            "epoch_length": "9223372036854775807",
            "inference_pruning_epoch_threshold": "18446744073709551615",
        }
    )
    assert params.epoch_shift == -(2**63)
    assert params.epoch_length == 2**63 - 1
    assert params.inference_pruning_epoch_threshold == 2**64 - 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("epoch_length", 0, "epoch_length must be > 0, got 0"),
        ("epoch_length", -40, "epoch_length must be > 0, got -40"),
        ("epoch_multiplier", 0, "epoch_multiplier must be > 0, got 0"),
        (
            "default_unit_of_compute_price",
            -1,
            "default_unit_of_compute_price must be >= 0, got -1",
        ),
        ("poc_stage_duration", 0, "poc_stage_duration must be > 0, got 0"),
        ("poc_exchange_duration", 0, "poc_exchange_duration must be > 0, got 0"),
        ("poc_validation_delay", -1, "poc_validation_delay must be >= 0, got -1"),
        ("poc_validation_duration", 0, "poc_validation_duration must be > 0, got 0"),
        (
            "set_new_validators_delay",
            -1,
            "set_new_validators_delay must be >= 0, got -1",
        ),
        (
            "inference_validation_cutoff",
            -1,
            "inference_validation_cutoff must be >= 0, got -1",
        ),
        (
            "inference_pruning_epoch_threshold",
            0,
            "inference_pruning_epoch_threshold must be >= 1, got 0",
        ),
        (
            "epoch_length",
            2**63,
            "epoch_length must be at most 9223372036854775807, got 9223372036854775808",
        ),
        ("poc_stage_duration", "10", "poc_stage_duration must be an integer, got '10'"),
        ("epoch_shift", None, "epoch_shift must be an integer, got None"),
    ],
)
def test_validate_rule(field: str, value: Any, message: str) -> None:
    params = dataclasses.replace(DEFAULT_PARAMS, **{field: value})
    assert params.validate() == [message]


@pytest.mark.parametrize(
    "field",
    [
        "default_unit_of_compute_price",
        "poc_validation_delay",
        "set_new_validators_delay",
        "inference_validation_cutoff",
    ],
)
def test_validate_allows_zero(field: str) -> None:
    params = dataclasses.replace(DEFAULT_PARAMS, **{field: 0})
    assert params.validate() == []


def test_validate_negative_shift_allowed() -> None:
    params = dataclasses.replace(DEFAULT_PARAMS, epoch_shift=-10)
    assert params.validate() == []


def test_validate_lists_every_problem() -> None:
    params = dataclasses.replace(DEFAULT_PARAMS, epoch_length=0, poc_stage_duration=0)
    assert params.validate() == [
        "epoch_length must be > 0, got 0",
        "poc_stage_duration must be > 0, got 0",
    ]


def test_timeline_shift_reaches_length() -> None:
    params = dataclasses.replace(TEST_OVERRIDES, epoch_shift=50)
    problems = params.timeline_problems()
    assert len(problems) == 1
    assert "epoch_shift 50 must be below epoch_length 50" in problems[0]


def test_timeline_switch_just_fits() -> None:
    # Switch offset 4 + 1 + 4 + 40 = 49 is one block before the next PoC start.
    params = dataclasses.replace(TEST_OVERRIDES, set_new_validators_delay=40)
    assert params.timeline_problems() == []


def test_timeline_switch_reaches_next_poc() -> None:
    params = dataclasses.replace(TEST_OVERRIDES, set_new_validators_delay=41)
    problems = params.timeline_problems()
    assert len(problems) == 1
    assert "50 blocks after PoC start" in problems[0]


# --------------------------------------------------------------------------------------
# Properties over random params


@st.composite
def runnable_params(draw: st.DrawFn) -> EpochParams:
    stage = draw(st.integers(1, 12))
    exchange = draw(st.integers(1, 4))
    delay = draw(st.integers(0, 4))
    validation = draw(st.integers(1, 12))
    switch_delay = draw(st.integers(0, 6))
    switch_offset = stage + delay + validation + switch_delay
    length = draw(st.integers(switch_offset + 1, switch_offset + 30))
    shift = draw(st.integers(-20, length - 1))
    return make_params(length, shift, stage, exchange, delay, validation, switch_delay)


@settings(max_examples=60, deadline=None)
@given(params=runnable_params())
def test_jumping_matches_block_walk(params: EpochParams) -> None:
    last = params.epoch_length - params.epoch_shift + 3 * params.epoch_length
    state = EpochState.genesis()
    walked: list[ChainEvent] = []
    for height in range(1, last + 1):
        for step_event in chain_events_at(height, state, params):
            state = state.apply(step_event)
            walked.append(step_event)
    jumped, jumped_state = chain_events_between(1, last, EpochState.genesis(), params)
    assert jumped == walked
    assert jumped_state == state


@settings(max_examples=60, deadline=None)
@given(params=runnable_params())
def test_each_epoch_starts_forms_switches(params: EpochParams) -> None:
    last = params.epoch_length - params.epoch_shift + 3 * params.epoch_length
    events, _ = chain_events_between(1, last, EpochState.genesis(), params)
    # Epochs 1 to 4 start their PoC by `last`, and epochs 1 to 3 also form and switch.
    steps = [(item.epoch_index, item.step) for item in events]
    for index in (1, 2, 3):
        assert steps.count((index, START)) == 1
        assert steps.count((index, FORM)) == 1
        assert steps.count((index, SWITCH)) == 1
        assert steps.index((index, START)) < steps.index((index, FORM))
        assert steps.index((index, FORM)) < steps.index((index, SWITCH))
    assert (4, START) in steps


PHASE_ORDER = [
    Phase.POC_GENERATE,
    Phase.POC_GENERATE_WIND_DOWN,
    Phase.POC_VALIDATE,
    Phase.POC_VALIDATE_WIND_DOWN,
    Phase.INFERENCE,
]


@settings(max_examples=60, deadline=None)
@given(params=runnable_params(), poc_start=st.integers(1, 10**6))
def test_phases_run_in_order(params: EpochParams, poc_start: int) -> None:
    context = EpochContext(1, poc_start, params)
    heights = range(poc_start, poc_start + params.epoch_length)
    ranks = [PHASE_ORDER.index(context.phase_at(height)) for height in heights]
    assert ranks == sorted(ranks)
    # A 1-block PoC has wind-down offset int(0.8) = 0, so it starts in wind-down.
    assert ranks[0] == (0 if params.poc_stage_duration >= 2 else 1)
    assert ranks[-1] == PHASE_ORDER.index(Phase.INFERENCE)
