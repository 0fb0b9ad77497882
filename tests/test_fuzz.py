"""Property tests for every parser: any input is parsed or rejected, never a crash.

A parser may return a value or raise an InferctlError (InvalidInput and kin); any
other exception is a bug. CI runs a bounded number of examples per test. For a long
local run:

    HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/test_fuzz.py

which runs 20,000 examples per test (docs/reliability.md has the last result).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from conftest import MAINNET_GENESIS, REPO
from inferctl.errors import InferctlError

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
EXAMPLES = os.environ.get("INFERCTL_FUZZ_EXAMPLES")


def fuzz(examples: int):
    """Settings for a fuzz test: `examples` in CI, 20,000 with HYPOTHESIS_PROFILE=long."""
    if EXAMPLES:
        examples = int(EXAMPLES)
    elif LONG:
        examples = 20_000
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


# With INFERCTL_FUZZ_REPORT=FILE, a crash is written to FILE (once per place in the
# code) instead of failing the test, so one long run lists every crash it finds.
REPORT = os.environ.get("INFERCTL_FUZZ_REPORT")


def expect_clean(function, *args: Any) -> Any:
    """Call `function`; an InferctlError is a clean rejection, anything else fails."""
    try:
        return function(*args)
    except InferctlError:
        return None
    except Exception as exc:
        if not REPORT:
            raise
        _report(exc, args)
        return None


def _report(exc: Exception, args: tuple) -> None:
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        site = (f"{type(exc).__name__} at {Path(frames[-1].filename).name}:"
                f"{frames[-1].lineno}")
    else:
        site = str(exc)[:120]
    seen = Path(REPORT).read_text() if Path(REPORT).exists() else ""
    if site not in seen:
        with open(REPORT, "a") as handle:
            handle.write(f"{site}: {exc} <- {repr(args)[:300]}\n")


# ----- JSON values -------------------------------------------------------------------

SCALARS = (st.none() | st.booleans()
           | st.integers(min_value=-(2**70), max_value=2**70)
           | st.sampled_from([0, 1, -1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1])
           | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=30)
           | st.sampled_from(["", "0", "-1", "1e3", "0.5", "18446744073709551616",
                              "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le",
                              "Qwen/QwQ-32B", "2025-01-01T00:00:00Z", "ACTIVE",
                              "\u0000", "\u202e", "a" * 300]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                    max_leaves=12)


def paths_of(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Return the path of every node in a JSON value."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(paths_of(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(paths_of(item, (*prefix, index)))
    return found


@st.composite
def mutation(draw, base: Any, paths: list[tuple] | None = None) -> tuple:
    """Draw one change to `base`: (path, action, new value, new key).

    The test applies it with `mutate`, so a failing example prints as the change
    alone instead of the whole document.
    """
    path = draw(st.sampled_from(paths if paths is not None else paths_of(base)))
    action = draw(st.sampled_from(["replace", "remove", "add"]))
    return path, action, draw(JSON), draw(st.text(max_size=12))


def mutate(base: Any, change: tuple) -> Any:
    """Return a copy of `base` with `change` (from `mutation`) applied."""
    path, action, new_value, new_key = change
    value = copy.deepcopy(base)
    if not path:
        return new_value
    parent = value
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "remove":
        del parent[last]
    elif action == "add" and isinstance(parent[last], dict):
        parent[last][new_key] = new_value
    else:
        parent[last] = new_value
    return value


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


# ----- genesis -----------------------------------------------------------------------


def _small_mainnet() -> dict:
    doc = json.loads(MAINNET_GENESIS.read_text())
    wasm = doc["app_state"]["inference"].get("cosm_wasm_params") or {}
    if "cw20_code" in wasm:
        wasm["cw20_code"] = ""
    return doc


GENESIS = _small_mainnet()
INFERENCE_PATHS = [p for p in paths_of(GENESIS)
                   if p[:2] in (("app_state", "inference"), ("app_state", "gov"))
                   or len(p) <= 1]


@fuzz(150)
@given(st.binary(max_size=400))
def test_genesis_bytes(data):
    from inferctl.genesis.codec import parse_genesis

    expect_clean(parse_genesis, data, "fuzz.json")


@fuzz(150)
@given(mutation(GENESIS, INFERENCE_PATHS))
def test_genesis_mutated(change):
    from inferctl.genesis.codec import parse_genesis

    expect_clean(parse_genesis, json_bytes(mutate(GENESIS, change)), "fuzz.json")


# ----- node config -------------------------------------------------------------------

NODE_CONFIG = [{"id": "node1", "host": "10.0.0.5", "inference_port": 5000,
                "poc_port": 8080, "max_concurrent": 500,
                "models": {"Qwen/QwQ-32B": {"args": ["--quantization", "fp8"]}},
                "hardware": [{"type": "A100", "count": 8}]}]


@fuzz(200)
@given(mutation(NODE_CONFIG))
def test_node_config_mutated(change):
    from inferctl.flow.nodeconfig import parse_node_file, to_chain

    value = mutate(NODE_CONFIG, change)
    entries = expect_clean(parse_node_file, json_bytes(value), "fuzz.json")
    for entry in entries or []:
        to_chain(entry)


@fuzz(150)
@given(JSON)
def test_node_config_any_json(value):
    from inferctl.flow.nodeconfig import check_entries

    expect_clean(check_entries, value, "fuzz.json")


# ----- TOML config -------------------------------------------------------------------

TESTNET_TOML = (REPO / "samples" / "testnet.toml").read_text()
TOML_LINES = TESTNET_TOML.splitlines()
TOML_VALUES = st.sampled_from([
    "0", "-1", "1.5", "1e400", "nan", "inf", "9223372036854775808",
    "18446744073709551616", '""', '"x"', '"0.5"', '"-0.5"', '"1e9"', "true", "[]",
    "[1, 2]", "{}", "{ value = 1, exponent = -999999 }", '"1000ngonka,5stake"',
    '"48h"', '"-1s"', '"99999999999999999999h"', "1979-05-27T07:32:00Z", '"\\u0000"',
])


@st.composite
def toml_variant(draw) -> str:
    """Draw samples/testnet.toml with one `key = value` line given another value."""
    lines = list(TOML_LINES)
    candidates = [i for i, line in enumerate(lines)
                  if " = " in line and not line.lstrip().startswith("#")]
    index = draw(st.sampled_from(candidates))
    key = lines[index].split(" = ", 1)[0]
    lines[index] = f"{key} = {draw(TOML_VALUES)}"
    return "\n".join(lines) + "\n"


def _init_from_config(text: str) -> None:
    from inferctl.genesis import codec, config

    parsed = config.parse_config(text, "fuzz.toml")
    doc = codec.default_genesis("fuzz", 1_735_689_600 * 10**9)
    config.apply_config(doc, parsed, 1_735_689_600 * 10**9)
    config.check_document(doc, parsed)


@fuzz(150)
@given(toml_variant())
def test_toml_config_mutated(text):
    expect_clean(_init_from_config, text)


@fuzz(150)
@given(st.text(max_size=200))
def test_toml_config_any_text(text):
    expect_clean(_init_from_config, text)


# ----- apply lines and transaction handlers ------------------------------------------


_TESTNET: list[tuple[dict, str, dict, int]] = []


def _testnet_steps() -> list[tuple[dict, str, dict, int]]:
    """Return (state before, type, body, time) for each record of the sample testnet.

    Built once per session by running samples/local-testnet.sh. A module-level
    cache rather than a fixture, so a failing example does not print the states.
    """
    if not _TESTNET:
        _TESTNET.extend(_build_testnet())
    return _TESTNET


def _build_testnet() -> list[tuple[dict, str, dict, int]]:
    import tempfile

    from inferctl.ledger.store import Ledger, _time_ns
    from inferctl.txs import GENESIS as GENESIS_TYPE
    from inferctl.txs import TxContext, apply_tx

    root = Path(tempfile.mkdtemp(prefix="fuzz-testnet-"))
    shim = root / "bin" / "inferctl"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m inferctl "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    env = {k: v for k, v in os.environ.items() if k != "INFERCTL_HOME"}
    env["PATH"] = f"{shim.parent}{os.pathsep}{env.get('PATH', '')}"
    home = root / "home"
    done = subprocess.run(["bash", str(REPO / "samples" / "local-testnet.sh"),
                           str(home)], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    state: dict = {}
    steps = []
    for record in Ledger(str(home)).iter_records(1):
        if record.type != GENESIS_TYPE:
            steps.append((copy.deepcopy(state), record.type, record.body,
                          _time_ns(record.time)))
        apply_tx(state, record.type, record.body,
                 TxContext(record.height, _time_ns(record.time), str(home)))
    shutil.rmtree(root)
    return steps


def _apply_checked(state: dict, tx_type: str, body: dict, time_ns: int) -> None:
    from inferctl.canonical import canonical_bytes
    from inferctl.ledger.session import check_storable
    from inferctl.txs import TxContext, Unchanged, apply_tx

    check_storable(tx_type, body)
    try:
        apply_tx(state, tx_type, body, TxContext(10**6, time_ns, "/nonexistent"))
    except Unchanged:
        return
    canonical_bytes(state)  # a state that was accepted must be storable


@fuzz(300)
@given(data=st.data())
def test_handlers_mutated_bodies(data):
    steps = _testnet_steps()
    index = data.draw(st.integers(0, len(steps) - 1), label="record")
    state, tx_type, body, time_ns = steps[index]
    note(f"{tx_type} (record {index + 2} of the sample testnet)")
    changed = mutate(body, data.draw(mutation(body), label="change"))
    if not isinstance(changed, dict):
        changed = {"value": changed}
    expect_clean(_apply_checked, copy.deepcopy(state), tx_type, changed, time_ns)


def _apply_lines(data: bytes) -> None:
    from inferctl.cli.apply import parse_lines

    parse_lines(data, "fuzz.ndjson")


@fuzz(200)
@given(st.binary(max_size=300))
def test_apply_lines_bytes(data):
    expect_clean(_apply_lines, data)


@fuzz(200)
@given(st.lists(JSON, max_size=3))
def test_apply_lines_json(items):
    data = b"\n".join(json_bytes(item) for item in items)
    expect_clean(_apply_lines, data)


# ----- option values -----------------------------------------------------------------

OPTION_TEXT = st.text(max_size=40) | st.sampled_from([
    "2025-02-30T00:00:00Z", "9999-12-31T23:59:59.999999999Z", "0000-01-01T00:00:00Z",
    "2025-01-01T00:00:00+99:99", "2025-01-01T24:00:00Z", "2025-01-01T00:00:60Z",
    "A100:²", "A100:٣", ":8", "A100:", "A100:99999999999999999999999",
    "gonka1", "GONKA1Y2A9P56KV044327UYCMQDEXL7ZS82FS5RYV5LE",
    "gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5lf", "1000ngonka,", ",", "1e9ngonka",
    "0.98", "1.0000000000000000001", "-0", "1/2", "٠.٩",
])


@fuzz(300)
@given(OPTION_TEXT)
def test_option_parsers(text):
    from inferctl import bech32, timeutil
    from inferctl.flow import gov, nodeconfig

    parsed = expect_clean(timeutil.parse_rfc3339, text)
    if parsed is not None:
        expect_clean(timeutil.format_rfc3339, parsed)
    expect_clean(bech32.check_account_address, text, "gonka")
    expect_clean(nodeconfig.parse_hardware_option, text)
    expect_clean(gov.parse_coins_text, text)
    expect_clean(lambda: gov.parse_duration(text, what="fuzz"))
    expect_clean(lambda: gov.parse_legacy_dec(text, what="fuzz"))
    expect_clean(lambda: gov.parse_base0_int(text, what="fuzz"))


@pytest.fixture(scope="module")
def option_home(tmp_path_factory) -> str:
    from conftest import invoke

    home = str(tmp_path_factory.mktemp("options") / "home")
    assert invoke("genesis", "import", str(MAINNET_GENESIS), "--home", home).exit_code == 0
    return home


@fuzz(120)
@given(option=st.sampled_from(["--time", "--validation-threshold", "--v-ram",
                               "--units-of-compute-per-token", "--proposed-by", "--id",
                               "--authority", "--lock-timeout"]),
       text=OPTION_TEXT)
def test_cli_option_values(option_home, option, text):
    from test_hostile_input import run_cli

    from inferctl import bech32

    values = {"--authority": bech32.module_address("gov", "gonka"),
              "--proposed-by": bech32.test_address("alice", "gonka"),
              "--id": "fuzz/model", "--time": "2100-01-01T00:00:00Z"}
    values[option] = text
    args = ["model", "register", "--home", option_home]
    for name, value in values.items():
        args += [name, value]
    outcome = run_cli(*args)
    if "internal error" in outcome.stderr and REPORT:
        _report(RuntimeError(outcome.stderr.strip()), tuple(args))
        return
    assert "internal error" not in outcome.stderr
    assert "Traceback" not in outcome.stderr
    if outcome.exit_code != 0:
        errors = [line for line in outcome.stderr.splitlines()
                  if line.lower().startswith("error:")]
        assert len(errors) == 1, outcome.stderr


# ----- crashes the fuzz tests found --------------------------------------------------
# Each input below once raised something other than an InferctlError. They stay here
# as fixed examples, so CI checks them on every run, not only when a fuzz test
# happens to draw them.


def _genesis_with(change: tuple) -> bytes:
    return json_bytes(mutate(GENESIS, change))


def _vote_with_list_option() -> None:
    steps = _testnet_steps()
    state, tx_type, body, time_ns = next(s for s in steps
                                         if s[1] == "/cosmos.gov.v1.MsgVote")
    _apply_checked(copy.deepcopy(state), tx_type, {**body, "option": []}, time_ns)


def _parse_genesis(data: bytes) -> None:
    from inferctl.genesis.codec import parse_genesis

    parse_genesis(data, "fuzz.json")


def _parse_hardware(text: str) -> None:
    from inferctl.flow.nodeconfig import parse_hardware_option

    parse_hardware_option(text)


def _parse_time(text: str) -> None:
    from inferctl.timeutil import parse_rfc3339

    parse_rfc3339(text, what="--time")


FOUND = {
    "genesis-null-participant": lambda: _parse_genesis(_genesis_with(
        (("app_state", "inference", "participant_list", 1), "replace", None, ""))),
    "genesis-null-model": lambda: _parse_genesis(_genesis_with(
        (("app_state", "inference", "model_list", 0), "replace", None, ""))),
    "vote-option-list": _vote_with_list_option,
    "hardware-superscript-count": lambda: _parse_hardware("A100:\u00b2"),
    "time-year-zero": lambda: _parse_time("0000-01-01T00:00:00Z"),
}


@pytest.mark.parametrize("name", sorted(FOUND))
def test_found_crash(name):
    with pytest.raises(InferctlError):
        FOUND[name]()
