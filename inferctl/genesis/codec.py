"""Read, check and write gonka genesis files.

`parse_genesis` decodes `app_state.inference` through the schema, runs every check
and reports all faults in one InvalidInput. `export_genesis` writes a document with
`app_state.inference` re-encoded and everything else exactly as parsed.
`default_genesis` returns the template that `inferctl genesis init` starts from.

Deliberate differences from the chain (gonka-ai/gonka, module `x/inference`):

* `model_list[].proposed_by` may be "genesis" or the gov module address. The chain
  accepts only "genesis", yet its own export writes the gov module address, so the
  chain cannot re-import its own export. Accepting both lets inferctl import exports
  from the chain and from inferctl.
* Duplicate model ids and duplicate participant addresses are errors. The chain
  silently keeps the last one.
* Export writes `proposed_by: "genesis"` so that the chain's InitGenesis accepts it.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Any, NoReturn

from inferctl import bech32, jsonio, timeutil
from inferctl.errors import InvalidInput
from inferctl.genesis import protojson, schema
from inferctl.genesis.protojson import problem

INFERENCE_PATH = "app_state.inference"
DEFAULT_PREFIX = "gonka"
GENESIS_PROPOSER = "genesis"
VALIDATOR_KEY_BYTES = 32

# The rules of the chain's EpochParams.Validate, as (field, minimum, wording).
_EPOCH_RULES = (
    ("epoch_length", 1, "must be greater than 0"),
    ("epoch_multiplier", 1, "must be greater than 0"),
    ("default_unit_of_compute_price", 0, "must not be negative"),
    ("poc_stage_duration", 1, "must be greater than 0"),
    ("poc_exchange_duration", 1, "must be greater than 0"),
    ("poc_validation_delay", 0, "must not be negative"),
    ("poc_validation_duration", 1, "must be greater than 0"),
    ("set_new_validators_delay", 0, "must not be negative"),
    ("inference_validation_cutoff", 0, "must not be negative"),
    ("inference_pruning_epoch_threshold", 1, "must be at least 1"),
)


@dataclass
class Genesis:
    """A parsed, checked genesis document and its decoded inference state.

    `params`, `genesis_only_params`, `cosm_wasm_params`, `models` and `participants`
    are in the internal form of `protojson`. `gov_params` is `app_state.gov.params`
    as parsed JSON. `doc` is the whole document as parsed.
    """

    doc: dict[str, Any]
    chain_id: str
    genesis_time_ns: int
    prefix: str
    params: dict[str, Any]
    genesis_only_params: dict[str, Any] | None
    cosm_wasm_params: dict[str, Any] | None
    models: list[dict[str, Any]]
    participants: list[dict[str, Any]]
    gov_params: dict[str, Any] | None


# --- parse --------------------------------------------------------------------


def parse_genesis(data: bytes, source: str, *, prefix: str | None = None) -> Genesis:
    """Parse genesis JSON bytes and run every check, raising one InvalidInput for all.

    `prefix` is the bech32 account prefix. Without it, the prefix of the first
    account address in the document is used, or "gonka" when there is none.
    """
    doc = jsonio.loads_strict(data, source)
    # The JSON reader turns NaN and Infinity into floats. Without those words in the
    # text there is nothing to find, so the walk over the document is skipped.
    has_constants = b"NaN" in data or b"Infinity" in data
    return parse_genesis_doc(doc, source, prefix=prefix, check_numbers=has_constants)


def validate_genesis(data: bytes, source: str) -> Genesis:
    """Parse and check a genesis file (`inferctl genesis validate`)."""
    return parse_genesis(data, source)


def parse_genesis_doc(
    doc: Any, source: str, *, prefix: str | None = None, check_numbers: bool = True
) -> Genesis:
    """Check a parsed genesis document and raise one InvalidInput listing every fault.

    With `check_numbers`, the whole document is also searched for NaN and Infinity.
    """
    problems: list[str] = []
    if not isinstance(doc, dict):
        problems.append(problem("(document)", doc, "a genesis file is a JSON object"))
        _raise_problems(source, problems)
    if check_numbers:
        _check_finite_numbers(doc, problems)
    chain_id = _check_chain_id(doc, problems)
    genesis_time_ns = _check_genesis_time(doc, problems)
    account_prefix = prefix or derive_prefix(doc)
    state = _decode_inference(doc, problems)
    if state is not None:
        _check_state(state, account_prefix, problems)
    if problems or state is None:
        _raise_problems(source, problems)
    return Genesis(
        doc=doc,
        chain_id=chain_id,
        genesis_time_ns=genesis_time_ns,
        prefix=account_prefix,
        params=state["params"],
        genesis_only_params=state["genesis_only_params"],
        cosm_wasm_params=state["cosm_wasm_params"],
        models=state["model_list"],
        participants=state["participant_list"],
        gov_params=_gov_params(doc),
    )


def _raise_problems(source: str, problems: list[str]) -> NoReturn:
    count = len(problems)
    noun = "problem" if count == 1 else "problems"
    listed = [f"{source}: {text}" for text in problems]
    raise InvalidInput(
        f"{source}: {count} {noun}; first: {problems[0]}",
        hint="fix every listed problem and run the command again",
        problems=listed,
    )


def _check_chain_id(doc: dict[str, Any], problems: list[str]) -> str:
    chain_id = doc.get("chain_id")
    if "chain_id" not in doc:
        problems.append("chain_id: missing; a genesis file names its chain")
    elif not isinstance(chain_id, str) or not chain_id:
        problems.append(problem("chain_id", chain_id, "must be a non-empty string"))
    return chain_id if isinstance(chain_id, str) else ""


def _check_genesis_time(doc: dict[str, Any], problems: list[str]) -> int:
    if "genesis_time" not in doc:
        problems.append(
            "genesis_time: missing; write an RFC 3339 time such as "
            "2025-08-22T08:42:00.713839Z"
        )
        return 0
    value = doc["genesis_time"]
    try:
        return timeutil.parse_rfc3339(value, what="genesis_time")
    except InvalidInput:
        problems.append(
            problem(
                "genesis_time",
                value,
                "not an RFC 3339 time with 0 to 9 "
                "fractional digits and an offset (Z or +HH:MM)",
            )
        )
        return 0


def _check_finite_numbers(doc: dict[str, Any], problems: list[str]) -> None:
    """Report NaN and Infinity, which the JSON reader accepts but JSON forbids."""
    stack: list[tuple[str, Any]] = [("", doc)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend(
                (f"{path}.{key}" if path else key, v) for key, v in value.items()
            )
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(f"{path} = {value}: NaN and Infinity are not valid JSON")


def _gov_params(doc: dict[str, Any]) -> dict[str, Any] | None:
    gov = _app_state(doc).get("gov")
    params = gov.get("params") if isinstance(gov, dict) else None
    return params if isinstance(params, dict) else None


def _app_state(doc: dict[str, Any]) -> dict[str, Any]:
    app_state = doc.get("app_state")
    return app_state if isinstance(app_state, dict) else {}


def derive_prefix(doc: dict[str, Any]) -> str:
    """Return the bech32 prefix of the first account address in `doc`, else "gonka".

    Looks at participant addresses, then auth accounts, then bank balances.
    """
    for address in _candidate_addresses(doc):
        try:
            hrp, _ = bech32.decode(address)
        except InvalidInput:
            continue
        return hrp
    return DEFAULT_PREFIX


def _candidate_addresses(doc: dict[str, Any]) -> list[str]:
    app_state = _app_state(doc)
    candidates: list[Any] = []
    inference = app_state.get("inference")
    if isinstance(inference, dict):
        candidates += [
            p.get("address") for p in _dicts(inference.get("participant_list"))
        ]
    auth = app_state.get("auth")
    if isinstance(auth, dict):
        for account in _dicts(auth.get("accounts")):
            base = account.get("base_account")
            candidates.append(base.get("address") if isinstance(base, dict) else None)
            candidates.append(account.get("address"))
    bank = app_state.get("bank")
    if isinstance(bank, dict):
        candidates += [b.get("address") for b in _dicts(bank.get("balances"))]
    return [c for c in candidates if isinstance(c, str)]


def _dicts(value: Any) -> list[dict[str, Any]]:
    return (
        [item for item in value if isinstance(item, dict)]
        if isinstance(value, list)
        else []
    )


def _decode_inference(
    doc: dict[str, Any], problems: list[str]
) -> dict[str, Any] | None:
    """Decode app_state.inference, or return None if it is missing or not an object."""
    app_state = doc.get("app_state")
    if not isinstance(app_state, dict):
        problems.append(problem("app_state", app_state, "must be a JSON object"))
        return None
    if "inference" not in app_state:
        problems.append(
            f"{INFERENCE_PATH}: missing; the inference module needs its state"
        )
        return None
    section = app_state["inference"]
    if not isinstance(section, dict):
        problems.append(problem(INFERENCE_PATH, section, "must be a JSON object"))
        return None
    return protojson.decode("GenesisState", section, INFERENCE_PATH, problems)


# --- checks on the decoded state ----------------------------------------------


def _check_state(state: dict[str, Any], prefix: str, problems: list[str]) -> None:
    _check_params(state["params"], problems)
    _check_models(state["model_list"], prefix, problems)
    _check_participants(state["participant_list"], prefix, problems)


def _check_params(params: dict[str, Any] | None, problems: list[str]) -> None:
    path = f"{INFERENCE_PATH}.params"
    if params is None:
        problems.append(problem(path, None, "params must be set"))
        return
    for name in schema.REQUIRED_PARAM_MESSAGES:
        if params.get(name) is None:
            problems.append(
                problem(
                    f"{path}.{name}", None, "nested param messages must be non-null"
                )
            )
    epoch_params = params.get("epoch_params")
    if epoch_params is not None:
        _check_epoch_params(epoch_params, f"{path}.epoch_params", problems)


def _check_epoch_params(epoch: dict[str, Any], path: str, problems: list[str]) -> None:
    for name, minimum, wording in _EPOCH_RULES:
        field_path = f"{path}.{name}"
        if _has_problem(problems, field_path):
            continue  # a decode problem is already reported for this field
        value = epoch[name]
        if value < minimum:
            problems.append(problem(field_path, str(value), f"{name} {wording}"))


def _has_problem(problems: list[str], path: str) -> bool:
    return any(text.startswith(f"{path} = ") for text in problems)


def _check_models(
    models: list[dict[str, Any]], prefix: str, problems: list[str]
) -> None:
    gov_address = bech32.module_address("gov", prefix)
    allowed = (GENESIS_PROPOSER, gov_address)
    positions: dict[str, list[int]] = {}
    for index, model in enumerate(models):
        path = f"{INFERENCE_PATH}.model_list[{index}]"
        if not isinstance(model, dict):
            problems.append(problem(path, model, "expected a Model object"))
            continue
        if model["proposed_by"] not in allowed:
            problems.append(
                problem(
                    f"{path}.proposed_by",
                    model["proposed_by"],
                    f'must be "genesis" or the gov module address {gov_address}',
                )
            )
        if not model["id"]:
            problems.append(
                problem(f"{path}.id", model["id"], "model id must not be empty")
            )
        positions.setdefault(model["id"], []).append(index)
    _report_duplicates(positions, "model_list", "id", "model id", problems)


def _report_duplicates(
    positions: dict[str, list[int]],
    list_name: str,
    key: str,
    what: str,
    problems: list[str],
) -> None:
    for value, indexes in positions.items():
        if len(indexes) < 2:
            continue
        where = ", ".join(f"[{i}]" for i in indexes)
        for index in indexes:
            problems.append(
                problem(
                    f"{INFERENCE_PATH}.{list_name}[{index}].{key}",
                    value,
                    f"duplicate {what} (entries {where}); each must be unique",
                )
            )


def _check_participants(
    participants: list[dict[str, Any]], prefix: str, problems: list[str]
) -> None:
    positions: dict[str, list[int]] = {}
    for index, participant in enumerate(participants):
        path = f"{INFERENCE_PATH}.participant_list[{index}]"
        if not isinstance(participant, dict):
            problems.append(problem(path, participant, "expected a Participant object"))
            continue
        for key in ("index", "address"):
            _check_address(participant[key], prefix, f"{path}.{key}", problems)
        _check_validator_key(
            participant["validator_key"], f"{path}.validator_key", problems
        )
        positions.setdefault(participant["address"], []).append(index)
    _report_duplicates(
        positions, "participant_list", "address", "participant address", problems
    )


def _check_address(address: str, prefix: str, path: str, problems: list[str]) -> None:
    try:
        bech32.check_account_address(address, prefix, what="account address")
    except InvalidInput as exc:
        reason = exc.message.split(": ", 1)[-1]
        problems.append(
            problem(path, address, f"not a valid {prefix} account address: {reason}")
        )


def _check_validator_key(key: str, path: str, problems: list[str]) -> None:
    if not key:
        return
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        problems.append(problem(path, key, "validator_key must be standard base64"))
        return
    if len(raw) != VALIDATOR_KEY_BYTES:
        problems.append(
            problem(
                path,
                key,
                f"validator_key is {len(raw)} bytes; an ED25519 "
                f"consensus public key is {VALIDATOR_KEY_BYTES} bytes",
            )
        )


# --- export -------------------------------------------------------------------


def export_genesis(
    doc: dict[str, Any],
    *,
    params: dict[str, Any],
    genesis_only_params: dict[str, Any] | None,
    cosm_wasm_params: dict[str, Any] | None,
    models: list[dict[str, Any]],
    participants: list[dict[str, Any]],
) -> bytes:
    """Write `doc` with `app_state.inference` replaced by the given state.

    Models are sorted by id and participants by account-address bytes (the order
    the chain's stores iterate in), models get `proposed_by: "genesis"`, and the
    inference section is Cosmos proto JSON. Every other part of `doc` is written
    as parsed. Output: 2-space indent, UTF-8, newline at the end, deterministic.
    """
    state = _extra_inference_fields(doc)
    state.update(
        params=params,
        genesis_only_params=genesis_only_params,
        model_list=[_as_genesis_model(m) for m in sorted(models, key=_model_key)],
        cosm_wasm_params=cosm_wasm_params,
        participant_list=sorted(participants, key=_participant_key),
    )
    output = dict(doc)
    app_state = dict(_app_state(doc))
    app_state["inference"] = protojson.encode("GenesisState", state)
    output["app_state"] = app_state
    return dump_json(output)


def _extra_inference_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """Return the inference fields other than the five export replaces, as parsed."""
    inference = _app_state(doc).get("inference")
    if not isinstance(inference, dict):
        return {}
    state = protojson.decode("GenesisState", inference, INFERENCE_PATH, [])
    return dict(state) if state else {}


def _as_genesis_model(model: dict[str, Any]) -> dict[str, Any]:
    copy = dict(model)
    copy["proposed_by"] = GENESIS_PROPOSER
    return copy


def _model_key(model: dict[str, Any]) -> bytes:
    return str(model.get("id", "")).encode("utf-8")


def _participant_key(participant: dict[str, Any]) -> tuple[bytes, bytes]:
    address = str(participant.get("address", ""))
    try:
        _, raw = bech32.decode(address)
    except InvalidInput:
        raw = b""
    return raw, address.encode("utf-8")


def dump_json(doc: Any) -> bytes:
    """Serialise a document with 2-space indent, UTF-8 and a final newline.

    orjson is used when it can represent the document. It cannot represent integers
    outside the 64-bit range, and then the standard library writes the same layout.
    """
    import orjson

    try:
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
    except TypeError:
        text = json.dumps(doc, indent=2, ensure_ascii=False)
        return text.encode("utf-8") + b"\n"


# --- template -----------------------------------------------------------------


def default_genesis(chain_id: str, genesis_time_ns: int) -> dict[str, Any]:
    """Return a fresh genesis document from the built-in template.

    The template (package data `template.json`) is the gonka mainnet genesis
    (gonka-ai/gonka, `genesis/genesis.json` at commit
    312044d28c7170d7f08bf88e41427396f3b95817) with all 35 modules kept, reduced to
    a chain with no accounts:

    * emptied: `auth.accounts`, `authz.authorization`, `bank.balances`,
      `bank.supply`, `distribution.fee_pool.community_pool` (it must match the
      empty supply), `genutil.gen_txs`, and the inference `model_list`,
      `participant_list` and `genesis_guardian_addresses`;
    * kept as on mainnet: every module's params (gov included), bank denom
      metadata, and the cw20 wasm code in `cosm_wasm_params`;
    * inference params and genesis-only params: the defaults of
      `x/inference/types/params.go` (DefaultParams, DefaultGenesisOnlyParams).
      Bandwidth limits, which DefaultParams leaves unset, get the keeper's
      fallback values (1024 KB per block, 0.0023 and 0.64 KB per token).

    NOTE: params.go was read from a copy of the gonka repository (vedenij/small,
    commit d9714dc43d68a3f0085a5a93b4417f1b1428e1ab), the available version closest
    to the mainnet commit. Mainnet differs from it in three values that the mainnet
    override file does not set (vesting periods 180, collateral_per_weight_unit 4.2,
    initial_epoch_reward 323000000000000), so the mainnet-era defaults may have been
    those.
    """
    if not isinstance(chain_id, str) or not chain_id:
        raise InvalidInput(
            f"invalid chain id {chain_id!r}: must be a non-empty string",
            hint="pass --chain-id, e.g. gonka-local",
        )
    doc = json.loads(_template_bytes())
    doc["chain_id"] = chain_id
    doc["genesis_time"] = timeutil.format_rfc3339(genesis_time_ns)
    return doc


_TEMPLATE: list[bytes] = []


def _template_bytes() -> bytes:
    if not _TEMPLATE:
        from importlib import resources

        data = (
            resources.files("inferctl.genesis").joinpath("template.json").read_bytes()
        )
        _TEMPLATE.append(data)
    return _TEMPLATE[0]
