"""Build the genesis document of `inferctl genesis init` from a TOML config file.

The config overrides parts of the built-in template (`codec.default_genesis`):

* `[params.<message>]` and `[genesis_only_params]` set inference-module params by
  their proto field names, checked against `schema`;
* `[gov]` sets `app_state.gov.params`;
* `[[models]]` and `[[participants]]` fill `model_list` and `participant_list`.

Every problem names the file, the line when it can be found, and the TOML key, and
all problems are reported together in one InvalidInput. docs/config.md describes
every key.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from inferctl import bech32, timeutil
from inferctl.errors import InvalidInput
from inferctl.genesis import codec, protojson, schema
from inferctl.genesis.protojson import show

TOP_LEVEL_KEYS = ("params", "genesis_only_params", "gov", "models", "participants")
PARTICIPANT_KEYS = ("name", "address", "inference_url", "validator_key", "weight")
GENESIS_PARTICIPANT_WEIGHT = 1
DECIMAL = "Decimal"
INFERENCE = codec.INFERENCE_PATH

# app_state.gov.params of Cosmos SDK x/gov v1, by the form each value takes.
GOV_COINS = ("min_deposit", "expedited_min_deposit")
GOV_DURATIONS = ("max_deposit_period", "voting_period", "expedited_voting_period")
GOV_THRESHOLDS = ("threshold", "veto_threshold", "expedited_threshold")
GOV_RATIOS = (
    "quorum",
    "min_initial_deposit_ratio",
    "proposal_cancel_ratio",
    "min_deposit_ratio",
)
GOV_BOOLS = ("burn_vote_quorum", "burn_proposal_deposit_prevote", "burn_vote_veto")
GOV_ADDRESSES = ("proposal_cancel_dest",)
GOV_KEYS = (
    GOV_COINS + GOV_DURATIONS + GOV_THRESHOLDS + GOV_RATIOS + GOV_BOOLS + GOV_ADDRESSES
)

LEGACY_DEC_PLACES = 18  # cosmossdk.io/math LegacyDec precision
MAX_AMOUNT_DIGITS = 78  # 2**256 - 1, the largest cosmossdk.io/math Int, has 78 digits
_DECIMAL_TEXT = re.compile(r"([+-]?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?")
_COIN = re.compile(r"([0-9]+)\s*([a-zA-Z][a-zA-Z0-9/:._-]{2,127})")
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_NANOS = timeutil.NANOS


@dataclass(frozen=True)
class FloatText:
    """A TOML float, kept as the text the file wrote so that no digit is lost."""

    text: str


@dataclass(frozen=True)
class DateText:
    """A TOML date, time or date-time, which no config key takes."""

    text: str


_NO_VALUE = object()


# --- public API -----------------------------------------------------------------


def validator_key_for_name(name: str) -> str:
    """Return the deterministic test validator key for `name`.

    It is base64 of sha256("validator-key:" + name): 32 bytes, the size of an
    ED25519 consensus public key. `inferctl validator-key NAME` prints the same key.
    """
    digest = hashlib.sha256(f"validator-key:{name}".encode()).digest()
    return base64.b64encode(digest).decode("ascii")


def build_genesis(
    chain_id: str, genesis_time_ns: int, config_path: str | None = None
) -> dict[str, Any]:
    """Return the genesis document for `genesis init`: the template plus the config.

    With a config, the document is checked as `genesis import` checks it, and a
    problem in a value from the config is reported under that config key.
    """
    doc = codec.default_genesis(chain_id, genesis_time_ns)
    if config_path is None:
        return doc
    config = read_config(config_path)
    apply_config(doc, config, genesis_time_ns)
    check_document(doc, config)
    return doc


@dataclass
class Config:
    """A parsed config file: plain values, the file name and its key lines."""

    source: str
    values: dict[str, Any]
    lines: dict[str, int]


def read_config(path: str) -> Config:
    """Read and parse a TOML config file, raising InvalidInput on a syntax error."""
    from inferctl.jsonio import read_bytes

    data = read_bytes(path, what="config file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{path}: invalid UTF-8 at byte {exc.start}", hint="save the file as UTF-8"
        ) from None
    return parse_config(text, path)


def parse_config(text: str, source: str) -> Config:
    """Parse TOML text into a Config, raising InvalidInput that names the bad line."""
    import tomlkit
    from tomlkit.exceptions import ParseError, TOMLKitError

    try:
        document = tomlkit.parse(text)
    except ParseError as exc:
        raise InvalidInput(
            f"{source}:{exc.line}: invalid TOML at line {exc.line} column {exc.col}: "
            f"{_parse_message(exc)}",
            hint="fix the TOML syntax",
        ) from None
    except TOMLKitError as exc:
        raise InvalidInput(
            f"{source}: invalid TOML: {exc}", hint="fix the TOML syntax"
        ) from None
    return Config(source, _plain(document), key_lines(text))


def apply_config(doc: dict[str, Any], config: Config, genesis_time_ns: int) -> None:
    """Apply every section of `config` to the genesis document `doc` in place.

    Raises one InvalidInput listing every problem, and `doc` may then be half-changed.
    """
    problems = Problems(config)
    values = config.values
    for key in values:
        if key not in TOP_LEVEL_KEYS:
            problems.unknown(key, key, TOP_LEVEL_KEYS)
    app_state = doc["app_state"]
    state = protojson.decode("GenesisState", app_state["inference"], INFERENCE, [])
    _apply_params(state, values, problems)
    if "models" in values:
        state["model_list"] = _models(values["models"], problems)
    if "participants" in values:
        seconds = genesis_time_ns // _NANOS
        state["participant_list"] = _participants(
            values["participants"], seconds, problems
        )
    if "gov" in values:
        _apply_gov(app_state["gov"]["params"], values["gov"], problems)
    problems.raise_if_any()
    app_state["inference"] = protojson.encode("GenesisState", state)


def check_document(doc: dict[str, Any], config: Config) -> None:
    """Run the import checks on `doc` and report each fault under its config key."""
    try:
        codec.parse_genesis_doc(doc, config.source)
    except InvalidInput as exc:
        problems = Problems(config)
        for text in exc.problems:
            problems.add_codec_problem(text)
        problems.raise_if_any()
        raise


# --- TOML values ----------------------------------------------------------------


def _parse_message(exc: Exception) -> str:
    """Return a tomlkit parse message without its trailing position text."""
    return re.sub(r"\.? at line \d+ col \d+$", "", str(exc))


def _plain(item: Any) -> Any:
    """Convert tomlkit items into plain values, keeping float and date text."""
    from tomlkit import items

    if isinstance(item, items.Float):
        return FloatText(item.as_string())
    if isinstance(item, (items.DateTime, items.Date, items.Time)):
        return DateText(item.as_string())
    if isinstance(item, bool):
        return item
    if isinstance(item, int):
        return int(item)
    if isinstance(item, str):
        return str(item)
    if isinstance(item, dict) or hasattr(item, "items"):
        return {str(key): _plain(value) for key, value in item.items()}
    if isinstance(item, list):
        return [_plain(value) for value in item]
    return item


def show_value(value: Any) -> str:
    """Render a config value for a message the way the file wrote it."""
    if isinstance(value, (FloatText, DateText)):
        return value.text
    return show(value)


def toml_type(value: Any) -> str:
    """Return the TOML name of a value's type with its article, for messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, FloatText):
        return "a float"
    if isinstance(value, DateText):
        return "a date"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


# --- key lines ------------------------------------------------------------------

_BARE_OR_QUOTED = r'[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\''
_KEY_PART = re.compile(_BARE_OR_QUOTED)
_DOTTED_KEY = re.compile(rf"(?:{_BARE_OR_QUOTED})(?:\s*\.\s*(?:{_BARE_OR_QUOTED}))*")
_ASSIGNMENT = re.compile(rf"\s*({_DOTTED_KEY.pattern})\s*=")
_HEADER = re.compile(r"\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")


def key_lines(text: str) -> dict[str, int]:
    """Map each key path of a TOML text ("models[0].id") to the line it is set on.

    This is a line scanner, not a parser. It reads table headers and `key =` lines
    and skips multi-line strings. Keys inside inline tables map to the line of the
    inline table's key. Paths use the notation of config error messages.
    """
    lines: dict[str, int] = {}
    array_counts: dict[str, int] = {}
    prefix = ""
    in_string = False
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string:
            in_string = _toggles_multiline(line, in_string)
            continue
        header = _HEADER.match(line)
        if header and _DOTTED_KEY.fullmatch(header.group(2)):
            prefix = _header_path(header.group(1), header.group(2), array_counts)
            lines.setdefault(prefix, number)
        else:
            assignment = _ASSIGNMENT.match(line)
            if assignment:
                path = _join(prefix, ".".join(_key_parts(assignment.group(1))))
                lines.setdefault(path, number)
        in_string = _toggles_multiline(line, False)
    return lines


def _header_path(brackets: str, name: str, array_counts: dict[str, int]) -> str:
    parts = _key_parts(name)
    path = ""
    for index, part in enumerate(parts):
        plain = ".".join(parts[: index + 1])
        path = _join(path, part)
        last = index == len(parts) - 1
        if last and brackets == "[[":
            array_counts[plain] = array_counts.get(plain, -1) + 1
        if plain in array_counts:
            path += f"[{array_counts[plain]}]"
    return path


def _key_parts(text: str) -> list[str]:
    return [part.strip("\"'") for part in _KEY_PART.findall(text)]


def _toggles_multiline(line: str, in_string: bool) -> bool:
    """Return whether a multi-line string is open after `line`."""
    count = line.count('"""') + line.count("'''")
    return in_string != (count % 2 == 1)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# --- problems -------------------------------------------------------------------


class Problems:
    """Collects config problems as "FILE:LINE: KEY = VALUE: RULE" lines."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.lines: list[str] = []

    def add(self, path: str, rule: str, value: Any = _NO_VALUE) -> None:
        """Record one problem with the config key `path`."""
        where = self._where(path)
        shown = "" if value is _NO_VALUE else f" = {show_value(value)}"
        self.lines.append(f"{where}: {path}{shown}: {rule}")

    def unknown(self, path: str, key: str, valid: tuple[str, ...] | list[str]) -> None:
        """Record an unknown key, with the closest valid key as a suggestion."""
        close = difflib.get_close_matches(key, list(valid), n=1)
        if close:
            self.add(
                path, f"unknown key {key!r}; the closest valid key is {close[0]!r}"
            )
        else:
            self.add(path, f"unknown key {key!r}; valid keys: {', '.join(valid)}")

    def add_codec_problem(self, text: str) -> None:
        """Record a problem that the genesis codec reported, under its config key."""
        source = self.config.source
        detail = text.removeprefix(f"{source}: ")
        path, separator, rest = detail.partition(" = ")
        key = _config_path(path) if separator else None
        if key is None:
            self.lines.append(f"{source}: {detail}")
            return
        self.lines.append(f"{self._where(key)}: {key} = {rest}")

    def raise_if_any(self) -> None:
        """Raise one InvalidInput for every recorded problem, if there is any."""
        if not self.lines:
            return
        count = len(self.lines)
        first = self.lines[0]
        message = first if count == 1 else f"{count} problems; first: {first}"
        raise InvalidInput(
            message,
            hint=f"fix {self.config.source} and run the command again",
            problems=list(self.lines),
        )

    def _where(self, path: str) -> str:
        line = _find_line(self.config.lines, path)
        source = self.config.source
        return f"{source}:{line}" if line else source


def _find_line(lines: dict[str, int], path: str) -> int | None:
    """Return the line of `path`, or of its nearest parent that has one."""
    while path:
        if path in lines:
            return lines[path]
        parent = re.sub(r"(\.[^.\[]*|\[[0-9]+\])$", "", path)
        if parent == path:
            return None
        path = parent
    return None


_CODEC_PATHS = (
    (f"{INFERENCE}.params.", "params."),
    (f"{INFERENCE}.genesis_only_params.", "genesis_only_params."),
    (f"{INFERENCE}.model_list[", "models["),
    (f"{INFERENCE}.participant_list[", "participants["),
)


def _config_path(path: str) -> str | None:
    """Translate a genesis path from a codec problem into a config key path."""
    for genesis_prefix, config_prefix in _CODEC_PATHS:
        if path.startswith(genesis_prefix):
            key = config_prefix + path[len(genesis_prefix) :]
            return re.sub(r"\.index$", ".address", key)
    return None


# --- params ---------------------------------------------------------------------


def _apply_params(
    state: dict[str, Any], values: dict[str, Any], problems: Problems
) -> None:
    for section, message in (
        ("params", "Params"),
        ("genesis_only_params", "GenesisOnlyParams"),
    ):
        if section not in values:
            continue
        table = values[section]
        if not isinstance(table, dict):
            problems.add(section, f"must be a table, not {toml_type(table)}", table)
            continue
        state[section] = overlay(message, state[section], table, section, problems)
    if "genesis_only_params" in values and state["genesis_only_params"] is not None:
        _check_guardians(state["genesis_only_params"], problems)


def overlay(
    message: str,
    base: dict[str, Any] | None,
    table: dict[str, Any],
    path: str,
    problems: Problems,
) -> dict[str, Any]:
    """Return `base` (or the message defaults) with the fields of `table` set."""
    result = dict(base) if base is not None else protojson.defaults(message)
    fields = {item.name: item for item in schema.MESSAGES[message]}
    for key, value in table.items():
        item = fields.get(key)
        key_path = _join(path, key)
        if item is None:
            problems.unknown(key_path, key, list(fields))
            continue
        result[key] = convert_field(item, value, result.get(key), key_path, problems)
    return result


def convert_field(
    item: schema.Field, value: Any, current: Any, path: str, problems: Problems
) -> Any:
    """Convert a config value for a schema field into internal form."""
    if not item.repeated:
        return _convert_single(item, value, current, path, problems)
    if not isinstance(value, list):
        problems.add(path, f"must be an array, not {toml_type(value)}", value)
        return current
    return [
        _convert_single(item, element, None, f"{path}[{index}]", problems)
        for index, element in enumerate(value)
    ]


def _convert_single(
    item: schema.Field, value: Any, current: Any, path: str, problems: Problems
) -> Any:
    kind = item.kind
    if kind == schema.MESSAGE and item.target == DECIMAL:
        return decimal_value(value, path, problems)
    if kind == schema.MESSAGE:
        if not isinstance(value, dict):
            problems.add(path, f"must be a table, not {toml_type(value)}", value)
            return current
        return overlay(item.target or "", current, value, path, problems)
    if kind in schema.INTEGER_KINDS:
        return integer_value(kind, value, path, problems)
    if kind == schema.STRING:
        return _typed(value, str, "string", path, problems, "")
    if kind == schema.BOOL:
        return _typed(value, bool, "boolean (true or false)", path, problems, False)
    if kind == schema.BYTES:
        return _bytes_value(value, path, problems)
    if kind == schema.ENUM:
        return _enum_value(item.target or "", value, path, problems)
    problems.add(path, "this field cannot be set from a config file")
    return current


def _typed(
    value: Any, kind: type, wording: str, path: str, problems: Problems, default: Any
) -> Any:
    if isinstance(value, kind) and (kind is bool or not isinstance(value, bool)):
        return value
    problems.add(path, f"must be a {wording}, not {toml_type(value)}", value)
    return default


def integer_value(kind: str, value: Any, path: str, problems: Problems) -> int:
    """Convert a TOML integer, or a string of decimal digits, for an integer field."""
    low, high = schema.INTEGER_RANGES[kind]
    rule = f"{kind} takes a whole number from {low} to {high}"
    if isinstance(value, FloatText):
        problems.add(path, f"a TOML float is not a whole number; {rule}", value)
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        problems.add(path, f"must be an integer, not {toml_type(value)}; {rule}", value)
        return 0
    found: list[str] = []
    number = protojson.decode_integer(kind, value, path, found)
    if found:
        problems.add(path, f"not a valid {kind}; {rule}", value)
    return number


def _bytes_value(value: Any, path: str, problems: Problems) -> str:
    if isinstance(value, str) and protojson.is_base64(value):
        return value
    problems.add(path, "bytes must be a base64 string", value)
    return ""


def _enum_value(enum: str, value: Any, path: str, problems: Problems) -> str:
    names = schema.ENUM_NAMES[enum]
    if isinstance(value, str) and value in schema.ENUMS[enum]:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value in names:
        return names[value]
    valid = ", ".join(names.values())
    problems.add(path, f"not a {enum} name or number; valid: {valid}", value)
    return names[0]


def _check_guardians(params: dict[str, Any], problems: Problems) -> None:
    prefix = f"{codec.DEFAULT_PREFIX}valoper"
    for index, address in enumerate(params.get("genesis_guardian_addresses") or []):
        path = f"genesis_only_params.genesis_guardian_addresses[{index}]"
        try:
            bech32.check_account_address(address, prefix, what="operator address")
        except InvalidInput as exc:
            reason = exc.message.split(": ", 1)[-1]
            problems.add(path, f"not a valid {prefix} address: {reason}", address)


# --- decimals -------------------------------------------------------------------


def decimal_value(value: Any, path: str, problems: Problems) -> dict[str, int] | None:
    """Convert "0.98", 0.98, 98 or {value = 98, exponent = -2} into a Decimal.

    Decimal text and TOML floats are converted exactly from the digits written,
    then trailing zeros after the point are dropped: "0.980" becomes
    {value 98, exponent -2}. A table is taken as written.
    """
    if isinstance(value, dict):
        return _decimal_table(value, path, problems)
    if isinstance(value, FloatText):
        text = value.text.replace("_", "")
    elif isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        problems.add(
            path,
            f'a decimal is a string such as "0.98" or a table {{value, exponent}}, '
            f"not {toml_type(value)}",
            value,
        )
        return None
    parsed = parse_decimal(text)
    if parsed is None:
        problems.add(
            path, 'not a decimal number; write e.g. "0.98" or "-4.75e-4"', value
        )
        return None
    return _decimal_in_range(parsed, value, path, problems)


def parse_decimal(text: str) -> tuple[int, int] | None:
    """Parse decimal text exactly into (value, exponent), or return None."""
    match = _DECIMAL_TEXT.fullmatch(text)
    if match is None:
        return None
    sign, whole, fraction, exponent = match.groups()
    fraction = fraction or ""
    try:
        number = int(f"{sign}{whole}{fraction}")
        power = int(exponent or 0) - len(fraction)
    except ValueError:  # more digits than int() converts
        return None
    while power < 0 and number % 10 == 0 and number != 0:
        number //= 10
        power += 1
    if number == 0:
        power = 0
    return number, power


def _decimal_in_range(
    parsed: tuple[int, int], shown: Any, path: str, problems: Problems
) -> dict[str, int] | None:
    number, power = parsed
    low, high = schema.INTEGER_RANGES[schema.INT64]
    exp_low, exp_high = schema.INTEGER_RANGES[schema.INT32]
    if not (low <= number <= high and exp_low <= power <= exp_high):
        problems.add(
            path, "too many digits for a Decimal (int64 value, int32 exponent)", shown
        )
        return None
    return {"value": number, "exponent": power}


def _decimal_table(
    table: dict[str, Any], path: str, problems: Problems
) -> dict[str, int] | None:
    for key in table:
        if key not in ("value", "exponent"):
            problems.unknown(_join(path, key), key, ["value", "exponent"])
    if "value" not in table:
        problems.add(path, "a Decimal table needs `value` (and `exponent`, default 0)")
        return None
    return {
        "value": integer_value(schema.INT64, table["value"], f"{path}.value", problems),
        "exponent": integer_value(
            schema.INT32, table.get("exponent", 0), f"{path}.exponent", problems
        ),
    }


# --- models ---------------------------------------------------------------------


def _models(value: Any, problems: Problems) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        problems.add("models", "write each model as a [[models]] table", value)
        return []
    models = [_model(table, f"models[{i}]", problems) for i, table in enumerate(value)]
    _report_duplicates([m["id"] for m in models], "models", "id", problems)
    return models


def _model(table: dict[str, Any], path: str, problems: Problems) -> dict[str, Any]:
    model = protojson.defaults("Model")
    model["proposed_by"] = codec.GENESIS_PROPOSER
    if "proposed_by" in table:
        problems.add(
            f"{path}.proposed_by",
            'set by inferctl: genesis models are always proposed by "genesis"',
        )
        table = {k: v for k, v in table.items() if k != "proposed_by"}
    model = overlay("Model", model, table, path, problems)
    if "id" not in table:
        problems.add(path, "missing key `id`; every model needs its id")
    elif isinstance(table["id"], str) and not table["id"]:
        problems.add(f"{path}.id", "a model id must not be empty", "")
    return model


def _report_duplicates(
    keys: list[str], section: str, key: str, problems: Problems
) -> None:
    seen: dict[str, int] = {}
    for index, value in enumerate(keys):
        if not value:
            continue
        if value in seen:
            problems.add(
                f"{section}[{index}].{key}",
                f"duplicate {key}; {section}[{seen[value]}] has it too",
                value,
            )
        else:
            seen[value] = index


# --- participants ---------------------------------------------------------------


def _participants(value: Any, seconds: int, problems: Problems) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        problems.add(
            "participants", "write each participant as a [[participants]] table", value
        )
        return []
    participants = [
        _participant(table, f"participants[{index}]", seconds, problems)
        for index, table in enumerate(value)
    ]
    seen: dict[str, int] = {}
    for index, (table, participant) in enumerate(zip(value, participants, strict=True)):
        address = participant["address"]
        if address and address in seen:
            key = "name" if "name" in table else "address"
            problems.add(
                f"participants[{index}].{key}",
                f"same address as participants[{seen[address]}] ({address})",
                table[key],
            )
        seen.setdefault(address, index)
    return participants


def _participant(
    table: dict[str, Any], path: str, seconds: int, problems: Problems
) -> dict[str, Any]:
    """Build a participant as the ceremony's patch-genesis step records one."""
    for key in table:
        if key not in PARTICIPANT_KEYS:
            problems.unknown(f"{path}.{key}", key, PARTICIPANT_KEYS)
    address, name = _participant_address(table, path, problems)
    participant = protojson.defaults("Participant")
    participant.update(
        index=address,
        address=address,
        weight=_weight(table, path, problems),
        join_time=seconds,
        last_inference_time=seconds,
        inference_url=_inference_url(table, path, problems),
        status="ACTIVE",
        validator_key=_validator_key(table, name, path, problems),
        current_epoch_stats=protojson.defaults("CurrentEpochStats"),
    )
    return participant


def _participant_address(
    table: dict[str, Any], path: str, problems: Problems
) -> tuple[str, str | None]:
    """Return the participant's address and its name (None when not given)."""
    has_name = "name" in table
    if has_name == ("address" in table):
        problems.add(path, "give exactly one of `name` and `address`")
        return "", None
    if has_name:
        name = _typed(table["name"], str, "string", f"{path}.name", problems, "")
        if name == "" and isinstance(table["name"], str):
            problems.add(f"{path}.name", "a name must not be empty", "")
        return bech32.test_address(name, codec.DEFAULT_PREFIX) if name else "", name
    address = _typed(table["address"], str, "string", f"{path}.address", problems, "")
    if isinstance(table["address"], str):
        try:
            bech32.check_account_address(
                address, codec.DEFAULT_PREFIX, what="account address"
            )
        except InvalidInput as exc:
            reason = exc.message.split(": ", 1)[-1]
            problems.add(
                f"{path}.address", f"not a valid account address: {reason}", address
            )
            return "", None
    return address, None


def _weight(table: dict[str, Any], path: str, problems: Problems) -> int:
    if "weight" not in table:
        return GENESIS_PARTICIPANT_WEIGHT
    return integer_value(schema.INT32, table["weight"], f"{path}.weight", problems)


def _inference_url(table: dict[str, Any], path: str, problems: Problems) -> str:
    from urllib.parse import urlsplit

    key_path = f"{path}.inference_url"
    if "inference_url" not in table:
        problems.add(path, "missing key `inference_url`, e.g. http://localhost:8001")
        return ""
    url = _typed(table["inference_url"], str, "string", key_path, problems, "")
    if not isinstance(table["inference_url"], str):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        problems.add(key_path, "must be an http or https URL with a host", url)
    return url


def _validator_key(
    table: dict[str, Any], name: str | None, path: str, problems: Problems
) -> str:
    if "validator_key" not in table:
        return validator_key_for_name(name) if name else ""
    key_path = f"{path}.validator_key"
    key = _typed(table["validator_key"], str, "string", key_path, problems, "")
    if key and not _is_consensus_key(key):
        problems.add(
            key_path,
            "must be standard base64 of a 32-byte ED25519 consensus public key",
            key,
        )
    return key


def _is_consensus_key(key: str) -> bool:
    import binascii

    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(raw) == codec.VALIDATOR_KEY_BYTES


# --- gov ------------------------------------------------------------------------


def _apply_gov(params: dict[str, Any], table: Any, problems: Problems) -> None:
    if not isinstance(table, dict):
        problems.add("gov", f"must be a table, not {toml_type(table)}", table)
        return
    for key, value in table.items():
        path = f"gov.{key}"
        if key not in GOV_KEYS:
            problems.unknown(path, key, GOV_KEYS)
            continue
        converted = gov_value(key, value, path, problems)
        if converted is not None:
            params[key] = converted


def gov_value(key: str, value: Any, path: str, problems: Problems) -> Any:
    """Convert one [gov] value into the JSON form of app_state.gov.params."""
    if key in GOV_COINS:
        return coins_value(value, path, problems)
    if key in GOV_DURATIONS:
        return duration_value(value, path, problems)
    if key in GOV_THRESHOLDS or key in GOV_RATIOS:
        return ratio_value(value, path, problems, positive=key in GOV_THRESHOLDS)
    if key in GOV_BOOLS:
        return _typed(value, bool, "boolean (true or false)", path, problems, None)
    return _dest_address(value, path, problems)


def coins_value(
    value: Any, path: str, problems: Problems
) -> list[dict[str, str]] | None:
    """Convert "1000ngonka" (or a list of such) into Cosmos coins, sorted by denom."""
    texts = value if isinstance(value, list) else [value]
    if isinstance(value, str):
        texts = [part.strip() for part in value.split(",")]
    if not texts:
        problems.add(path, 'needs at least one amount, e.g. "1000ngonka"', value)
        return None
    coins: dict[str, str] = {}
    for text in texts:
        match = _COIN.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            problems.add(
                path, 'not an amount with a denom; write e.g. "1000ngonka"', text
            )
            return None
        amount, denom = match.groups()
        if len(amount.lstrip("0")) > MAX_AMOUNT_DIGITS or int(amount) >= 2**256:
            problems.add(path, "amount is larger than a 256-bit Cosmos amount", text)
            return None
        if int(amount) == 0:
            problems.add(path, "a deposit amount must be positive", text)
            return None
        if denom in coins:
            problems.add(path, f"denom {denom!r} appears twice", value)
            return None
        coins[denom] = str(int(amount))
    return [{"denom": denom, "amount": coins[denom]} for denom in sorted(coins)]


def duration_value(value: Any, path: str, problems: Problems) -> str | None:
    """Convert a Go duration ("30s", "48h", "1h30m") into proto JSON ("1800s")."""
    if not isinstance(value, str):
        problems.add(
            path, f'a duration is a string such as "30s", not {toml_type(value)}', value
        )
        return None
    nanos = parse_duration(value)
    if nanos is None:
        problems.add(path, 'not a duration; write e.g. "30s", "48h" or "1h30m"', value)
        return None
    if nanos <= 0:
        problems.add(path, "a period must be longer than 0s", value)
        return None
    return format_duration(nanos)


def parse_duration(text: str) -> int | None:
    """Parse Go duration syntax into nanoseconds, or return None if it is not one.

    Like Go's time.ParseDuration, a fraction below one nanosecond is truncated.
    """
    if text == "0":
        return 0
    position = 0
    total = Fraction(0)
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        if match is None:
            return None
        number, unit = match.groups()
        try:
            amount = Fraction(number if number[-1] != "." else number[:-1])
        except ValueError:  # more digits than Fraction converts
            return None
        total += amount * _DURATION_UNITS[unit]
        position = match.end()
    return int(total) if position else None


def format_duration(nanos: int) -> str:
    """Format nanoseconds as proto JSON: seconds with 0, 3, 6 or 9 fraction digits."""
    seconds, fraction = divmod(nanos, _NANOS)
    if fraction == 0:
        return f"{seconds}s"
    digits = f"{fraction:09d}"
    while digits.endswith("000"):
        digits = digits[:-3]
    return f"{seconds}.{digits}s"


def ratio_value(
    value: Any, path: str, problems: Problems, *, positive: bool
) -> str | None:
    """Convert "0.334" into a Cosmos LegacyDec string ("0.334000000000000000")."""
    if isinstance(value, FloatText):
        text = value.text.replace("_", "")
    elif isinstance(value, str):
        text = value
    else:
        problems.add(
            path, f'a ratio is a string such as "0.334", not {toml_type(value)}', value
        )
        return None
    parsed = parse_decimal(text)
    if parsed is None:
        problems.add(path, 'not a decimal number; write e.g. "0.334"', value)
        return None
    return _legacy_dec(parsed, value, path, problems, positive)


def _legacy_dec(
    parsed: tuple[int, int], shown: Any, path: str, problems: Problems, positive: bool
) -> str | None:
    number, power = parsed
    if number != 0 and power > 0:
        problems.add(path, "must be at most 1", shown)
        return None
    if power < -LEGACY_DEC_PLACES:
        problems.add(path, f"more than {LEGACY_DEC_PLACES} decimal places", shown)
        return None
    scaled = number * 10 ** (LEGACY_DEC_PLACES + power)
    one = 10**LEGACY_DEC_PLACES
    if scaled < 0 or scaled > one or (positive and scaled == 0):
        bound = "greater than 0" if positive else "at least 0"
        problems.add(path, f"must be {bound} and at most 1", shown)
        return None
    return f"{scaled // one}.{scaled % one:0{LEGACY_DEC_PLACES}d}"


def _dest_address(value: Any, path: str, problems: Problems) -> str | None:
    if not isinstance(value, str):
        problems.add(path, f"must be a string, not {toml_type(value)}", value)
        return None
    if value:
        try:
            bech32.check_account_address(value, codec.DEFAULT_PREFIX, what="address")
        except InvalidInput as exc:
            reason = exc.message.split(": ", 1)[-1]
            problems.add(
                path,
                f'not a valid account address: {reason}; use "" to burn cancelled '
                "deposits",
                value,
            )
            return None
    return value
