"""The model registry: MsgRegisterModel, as gonka's inference module runs it.

gonka's handler checks two things. First, statelessly, that `authority` and
`proposed_by` are valid bech32 account addresses (ErrInvalidAddress). Second, that
`authority` is the gov module account (ErrInvalidSigner). Then it replaces the whole
model record of that id. Fields that the message does not set become zero or empty,
including the validation threshold, which becomes null.

inferctl adds checks that gonka does not make: the id must not be empty, must not
start or end with whitespace and must not contain control characters, and the
validation threshold must lie in [0, 1]. docs/models.md explains why.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from inferctl.errors import InvalidInput, NotFound
from inferctl.txs import State, TxContext, Unchanged

REGISTER_MODEL = "/inference.inference.MsgRegisterModel"

UINT64_MAX = 2**64 - 1
INT64_RANGE = (-(2**63), 2**63 - 1)
INT32_RANGE = (-(2**31), 2**31 - 1)

# MsgRegisterModel fields in proto field order (inference/inference/tx.proto).
MESSAGE_FIELDS = (
    "authority",
    "proposed_by",
    "id",
    "units_of_compute_per_token",
    "hf_repo",
    "hf_commit",
    "model_args",
    "v_ram",
    "throughput_per_nonce",
    "validation_threshold",
)
UINT64_FIELDS = ("units_of_compute_per_token", "v_ram", "throughput_per_nonce")
STRING_FIELDS = ("authority", "proposed_by", "id", "hf_repo", "hf_commit")

# Model fields in proto field order (inference/inference/model.proto). The four that
# MsgRegisterModel cannot set are zero or empty after every registration.
MODEL_FIELDS = (
    "proposed_by",
    "id",
    "units_of_compute_per_token",
    "context_window",
    "quantization",
    "coins_per_input_token",
    "coins_per_output_token",
    "hf_repo",
    "hf_commit",
    "model_args",
    "v_ram",
    "throughput_per_nonce",
    "validation_threshold",
)
MODEL_UINT64_FIELDS = (
    "units_of_compute_per_token",
    "context_window",
    "coins_per_input_token",
    "coins_per_output_token",
    "v_ram",
    "throughput_per_nonce",
)

_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER_TEXT = re.compile(r"-?[0-9]+")


# --- the validation threshold (a gonka Decimal) -------------------------------------


def parse_threshold(text: Any, *, what: str = "validation threshold") -> dict[str, int]:
    """Convert decimal text such as "0.98" exactly into {"value": 98, "exponent": -2}.

    The digits are kept as written ("0.980" gives value 980, exponent -3), because
    value x 10^exponent is the same number either way.
    """
    if isinstance(text, Decimal):
        number = text
    elif isinstance(text, str) and _DECIMAL_TEXT.fullmatch(text):
        number = Decimal(text)
    else:
        raise InvalidInput(
            f"invalid {what} {text!r}: expected a decimal number such as 0.98",
        )
    if not number.is_finite():
        raise InvalidInput(f"invalid {what} {text!r}: expected a finite number")
    sign, digits, exponent = number.as_tuple()
    value = int("".join(str(d) for d in digits) or "0")
    decimal = {"value": -value if sign else value, "exponent": int(exponent)}
    _check_decimal_ranges(decimal, what, text)
    return decimal


def _check_decimal_ranges(decimal: dict[str, int], what: str, shown: Any) -> None:
    low, high = INT64_RANGE
    if not low <= decimal["value"] <= high:
        raise InvalidInput(
            f"invalid {what} {shown!r}: {decimal['value']} has too many digits for "
            f"the int64 value of a Decimal",
            hint="write fewer digits",
        )
    low, high = INT32_RANGE
    if not low <= decimal["exponent"] <= high:
        raise InvalidInput(
            f"invalid {what} {shown!r}: exponent {decimal['exponent']} is outside "
            f"the int32 range of a Decimal exponent",
        )


def threshold_text(decimal: dict[str, int] | None) -> str:
    """Format a Decimal {"value", "exponent"} as plain decimal text; "null" for None."""
    if decimal is None:
        return "null"
    number = Decimal(decimal["value"]).scaleb(decimal["exponent"])
    return format(number, "f")


def _within_zero_and_one(decimal: dict[str, int]) -> bool:
    value, exponent = decimal["value"], decimal["exponent"]
    if value == 0:
        return True
    if value < 0 or exponent > 0:
        return False
    # An int64 value never exceeds 10^19, so a larger divisor always gives <= 1.
    return -exponent >= 19 or value <= 10**-exponent


# --- stateless checks --------------------------------------------------------------


def check_register_model(body: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Check a MsgRegisterModel body without the state; return it in internal form.

    Accepts what gonka's JSON parser accepts for the integer fields (a JSON number
    or a decimal string). Rejects unknown keys, so that a misspelt field is an error
    and not a silently empty value.
    """
    problems: list[str] = []
    unknown = sorted(set(body) - set(MESSAGE_FIELDS) - {"@type"})
    for key in unknown:
        problems.append(f"{key}: unknown MsgRegisterModel field")
    message: dict[str, Any] = {}
    for name in STRING_FIELDS:
        message[name] = _string_field(body, name, problems)
    for name in UINT64_FIELDS:
        message[name] = _uint64_field(body, name, problems)
    message["model_args"] = _model_args(body.get("model_args"), problems)
    message["validation_threshold"] = _threshold_field(
        body.get("validation_threshold"), problems
    )
    _check_addresses(message, prefix, problems)
    _check_beyond_upstream(message, problems)
    if problems:
        raise InvalidInput(
            f"invalid MsgRegisterModel: {problems[0]}",
            problems=problems,
            hint=None
            if len(problems) == 1
            else f"{len(problems)} problems, listed below",
        )
    return {name: message[name] for name in MESSAGE_FIELDS}


def _string_field(body: dict[str, Any], name: str, problems: list[str]) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append(f"{name}: expected a JSON string, got {value!r}")
        return ""
    return value


def _uint64_field(body: dict[str, Any], name: str, problems: list[str]) -> int:
    value = body.get(name)
    if value is None:
        return 0
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _INTEGER_TEXT.fullmatch(value) and len(value) <= 21:
        number = int(value)
    if number is None:
        problems.append(
            f"{name}: expected a whole number (JSON integer or decimal string), "
            f"got {value!r}"
        )
        return 0
    if not 0 <= number <= UINT64_MAX:
        problems.append(
            f"{name}: {value} is outside the uint64 range 0 to {UINT64_MAX}"
        )
        return 0
    return number


def _model_args(value: Any, problems: list[str]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        problems.append(f"model_args: expected a JSON array of strings, got {value!r}")
        return []
    return list(value)


def _threshold_field(value: Any, problems: list[str]) -> dict[str, int] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"value", "exponent"}:
        problems.append(
            'validation_threshold: expected {"value": INT, "exponent": INT} or null, '
            f"got {value!r}"
        )
        return None
    parts = {}
    for key in ("value", "exponent"):
        part = value.get(key, 0)
        if isinstance(part, str) and _INTEGER_TEXT.fullmatch(part) and len(part) <= 21:
            part = int(part)
        if not isinstance(part, int) or isinstance(part, bool):
            problems.append(
                f"validation_threshold.{key}: expected an integer, got {part!r}"
            )
            return None
        parts[key] = part
    try:
        _check_decimal_ranges(parts, "validation_threshold", value)
    except InvalidInput as exc:
        problems.append(exc.message)
        return None
    return parts


def _check_addresses(message: dict[str, Any], prefix: str, problems: list[str]) -> None:
    from inferctl.bech32 import check_account_address

    for name in ("authority", "proposed_by"):
        try:
            check_account_address(message[name], prefix, what="address")
        except InvalidInput as exc:
            problems.append(f"{name}: {exc.message}")


def _check_beyond_upstream(message: dict[str, Any], problems: list[str]) -> None:
    model_id = message["id"]
    if model_id == "":
        problems.append("id: must not be empty")
    elif model_id != model_id.strip() or any(
        ord(char) < 32 or char == "\x7f" for char in model_id
    ):
        problems.append(f"id {model_id!r}: must not start or end with whitespace or "
                        "contain control characters")
    threshold = message["validation_threshold"]
    if threshold is not None and not _within_zero_and_one(threshold):
        problems.append(
            f"validation_threshold: {threshold_text(threshold)} is outside [0, 1]; "
            "validation passes when a score is above it"
        )


def check_authority(message: dict[str, Any], state: State) -> None:
    """Reject a message whose authority is not the gov module account.

    gonka raises ErrInvalidSigner here.
    """
    expected = state["authority"]
    given = message["authority"]
    if given != expected:
        raise InvalidInput(
            "invalid signer: expected gov account as only signer for proposal "
            f"message; expected {expected}, got {given}",
            hint=f"pass --authority {expected} (the gov module address of this "
            "chain), or propose the model with `inferctl model propose`",
        )


# --- applying ----------------------------------------------------------------------


def model_from_message(message: dict[str, Any]) -> dict[str, Any]:
    """Build the Model record that replaces any model of the same id."""
    model: dict[str, Any] = {
        "proposed_by": message["proposed_by"],
        "id": message["id"],
        "units_of_compute_per_token": message["units_of_compute_per_token"],
        "context_window": 0,
        "quantization": "",
        "coins_per_input_token": 0,
        "coins_per_output_token": 0,
        "hf_repo": message["hf_repo"],
        "hf_commit": message["hf_commit"],
        "model_args": list(message["model_args"]),
        "v_ram": message["v_ram"],
        "throughput_per_nonce": message["throughput_per_nonce"],
        "validation_threshold": _copy_decimal(message["validation_threshold"]),
    }
    return model


def _copy_decimal(decimal: dict[str, int] | None) -> dict[str, int] | None:
    if decimal is None:
        return None
    return {"value": decimal["value"], "exponent": decimal["exponent"]}


def changed_fields(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Return the Model fields whose values differ, in proto field order."""
    return [name for name in MODEL_FIELDS if old.get(name) != new.get(name)]


def store_model(state: State, model: dict[str, Any], ctx: TxContext) -> list[str]:
    """Upsert `model` into the registry; return the changed fields (all for a new id).

    Adds a note for stderr when an existing model is replaced.
    """
    old = state["models"].get(model["id"])
    if old is None:
        state["models"][model["id"]] = model
        return list(MODEL_FIELDS)
    changed = changed_fields(old, model)
    state["models"][model["id"]] = model
    if changed:
        ctx.notes.append(
            f"replaced model {model['id']}: every field is taken from the new "
            f"registration; changed: {', '.join(changed)}"
        )
    return changed


def apply_register_model(state: State, body: dict[str, Any], ctx: TxContext) -> dict:
    """Check and apply a MsgRegisterModel sent directly with the gov authority."""
    message = check_register_model(body, state["prefix"])
    check_authority(message, state)
    model = model_from_message(message)
    old = state["models"].get(model["id"])
    if old is not None and not changed_fields(old, model):
        raise Unchanged(f"model {model['id']} is already registered with these fields")
    store_model(state, model, ctx)
    return model


# --- reading -----------------------------------------------------------------------


def list_models(state: State) -> list[dict[str, Any]]:
    """Return the models in ascending byte order of their ids, as gonka lists them."""
    models = state.get("models", {})
    return [models[key] for key in sorted(models, key=lambda k: k.encode())]


def get_model(state: State, model_id: str) -> dict[str, Any]:
    """Return the model with this exact (case-sensitive) id, or raise NotFound."""
    model = state.get("models", {}).get(model_id)
    if model is None:
        raise NotFound(
            f"model {model_id!r} is not registered",
            hint="ids are case-sensitive; run `inferctl model list` to see them",
        )
    return model


def model_json(model: dict[str, Any]) -> dict[str, Any]:
    """Encode a Model as Cosmos proto JSON, with 64-bit integers as strings."""
    output: dict[str, Any] = {}
    for name in MODEL_FIELDS:
        value = model.get(name)
        if name in MODEL_UINT64_FIELDS:
            value = str(value or 0)
        elif name == "validation_threshold":
            value = decimal_json(value)
        elif name == "model_args":
            value = list(value or [])
        elif value is None:
            value = ""
        output[name] = value
    return output


def decimal_json(decimal: dict[str, int] | None) -> dict[str, Any] | None:
    """Encode a gonka Decimal as proto JSON: the int64 value as a string."""
    if decimal is None:
        return None
    return {"value": str(decimal["value"]), "exponent": decimal["exponent"]}


def message_json(message: dict[str, Any]) -> dict[str, Any]:
    """Encode a MsgRegisterModel in internal form as proto JSON with its @type."""
    output: dict[str, Any] = {"@type": REGISTER_MODEL}
    for name in MESSAGE_FIELDS:
        value = message.get(name)
        if name in UINT64_FIELDS:
            value = str(value or 0)
        elif name == "validation_threshold":
            value = decimal_json(value)
        output[name] = value
    return output


def register_model_body(
    authority: str, proposed_by: str, model_id: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """Build a MsgRegisterModel body; `fields` contains the optional model fields.

    Missing fields get their proto default, so the body always lists every field.
    A threshold given as text or Decimal is converted exactly.
    """
    threshold = fields.get("validation_threshold")
    if threshold is not None and not isinstance(threshold, dict):
        threshold = parse_threshold(threshold)
    return {
        "authority": authority,
        "proposed_by": proposed_by,
        "id": model_id,
        "units_of_compute_per_token": fields.get("units_of_compute_per_token") or 0,
        "hf_repo": fields.get("hf_repo") or "",
        "hf_commit": fields.get("hf_commit") or "",
        "model_args": list(fields.get("model_args") or []),
        "v_ram": fields.get("v_ram") or 0,
        "throughput_per_nonce": fields.get("throughput_per_nonce") or 0,
        "validation_threshold": threshold,
    }
