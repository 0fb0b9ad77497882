"""gonka's ML-node config entries and the chain's HardwareNode form.

A node-config file, as the API node reads it (`deploy/join/node-config.json`), is a
JSON array of entries. A single entry object is accepted too. Each entry has:

    id              string, non-empty: the node id, on chain `local_id`
    host            string, non-empty: host name or IP address
    inference_port  integer 1..65535
    poc_port        integer 1..65535: on chain `port`, as a decimal string
    max_concurrent  integer 1..4294967295: maximum simultaneous requests
    models          object: model id -> {"args": [string, ...]}
    hardware        optional array of {"type": non-empty string, "count": uint32}
    inference_segment, poc_segment, version   optional strings

The API node ignores unknown keys and fills missing numbers with 0. Here an unknown
key, a missing required key or a value out of range is rejected with its path, so a
typo never turns into a silent default.

The chain form (`HardwareNode`) is {local_id, status, models, hardware, host, port}.
"""

from __future__ import annotations

from typing import Any

from inferctl.errors import InvalidInput
from inferctl.genesis.protojson import problem

UINT32_MAX = 2**32 - 1
PORT_RANGE = (1, 65535)
MAX_CONCURRENT_RANGE = (1, UINT32_MAX)

REQUIRED_KEYS = ("id", "host", "inference_port", "poc_port", "max_concurrent", "models")
# Optional keys and the value a missing one stands for.
OPTIONAL_DEFAULTS: dict[str, Any] = {
    "hardware": [],
    "inference_segment": "",
    "poc_segment": "",
    "version": "",
}
CONFIG_KEYS = REQUIRED_KEYS + tuple(OPTIONAL_DEFAULTS)

# HardwareNodeStatus of `hardware_node.proto`, by number.
HARDWARE_STATUSES = ("UNKNOWN", "INFERENCE", "POC", "TRAINING", "STOPPED", "FAILED")
# The status a newly registered node reports on chain. The API node sends the status
# it observes, but offline there is no ML node to observe. The API node itself
# starts every node at UNKNOWN until its first status query returns.
REGISTERED_STATUS = "UNKNOWN"

CHAIN_KEYS = ("local_id", "status", "models", "hardware", "host", "port")


def parse_node_file(data: bytes, source: str) -> list[dict[str, Any]]:
    """Parse and check node-config bytes: an array of entries, or one entry."""
    from inferctl.jsonio import loads_strict

    value = loads_strict(data, source)
    if isinstance(value, dict):
        value = [value]
    return check_entries(value, source)


def check_entries(value: Any, source: str) -> list[dict[str, Any]]:
    """Check a list of node-config entries and return them with optional keys filled in.

    Raises InvalidInput listing every problem, including ids used twice.
    """
    if not isinstance(value, list):
        raise InvalidInput(
            f"{source}: expected a JSON array of node entries, "
            f"got {type(value).__name__}",
            hint='write [{"id": ..., "host": ..., ...}]',
        )
    if not value:
        raise InvalidInput(
            f"{source}: the list of nodes is empty", hint="add at least one node entry"
        )
    problems: list[str] = []
    entries = [check_entry(item, f"[{i}]", problems) for i, item in enumerate(value)]
    _check_unique_ids(entries, problems)
    raise_problems(source, problems)
    return entries


def _check_unique_ids(entries: list[dict[str, Any]], problems: list[str]) -> None:
    first_index: dict[Any, int] = {}
    for i, entry in enumerate(entries):
        node_id = entry.get("id")
        if not isinstance(node_id, str) or not node_id:
            continue
        if node_id in first_index:
            problems.append(
                problem(
                    f"[{i}].id",
                    node_id,
                    f"duplicate node id, already used by entry "
                    f"[{first_index[node_id]}]",
                )
            )
        else:
            first_index[node_id] = i


def raise_problems(source: str, problems: list[str]) -> None:
    """Raise InvalidInput naming the first problem and listing all, if there are any."""
    if not problems:
        return
    count = len(problems)
    noun = "problem" if count == 1 else "problems"
    raise InvalidInput(
        f"{source}: {count} {noun}; first: {problems[0]}",
        hint="fix every listed problem and run the command again",
        problems=[f"{source}: {text}" for text in problems],
    )


def check_entry(entry: Any, path: str, problems: list[str]) -> dict[str, Any]:
    """Check one node-config entry and return it with every optional key present."""
    if not isinstance(entry, dict):
        problems.append(problem(path, entry, "a node entry must be a JSON object"))
        return {}
    for key in entry:
        if key not in CONFIG_KEYS:
            problems.append(
                problem(
                    f"{path}.{key}",
                    entry[key],
                    f"unknown key; node entries have {', '.join(CONFIG_KEYS)}",
                )
            )
    for key in REQUIRED_KEYS:
        if key not in entry:
            problems.append(f"{path}.{key}: missing required key")
    checked = {key: entry.get(key, OPTIONAL_DEFAULTS.get(key)) for key in CONFIG_KEYS}
    _check_entry_values(checked, path, problems, present=entry)
    return checked


def _check_entry_values(
    entry: dict[str, Any], path: str, problems: list[str], present: dict[str, Any]
) -> None:
    for key in ("id", "host"):
        if key in present:
            check_string(entry[key], f"{path}.{key}", problems, non_empty=True)
    for key in ("inference_port", "poc_port"):
        if key in present:
            check_integer(entry[key], f"{path}.{key}", problems, PORT_RANGE)
    if "max_concurrent" in present:
        check_integer(
            entry["max_concurrent"],
            f"{path}.max_concurrent",
            problems,
            MAX_CONCURRENT_RANGE,
        )
    if "models" in present:
        entry["models"] = _check_models(entry["models"], f"{path}.models", problems)
    entry["hardware"] = check_hardware(entry["hardware"], f"{path}.hardware", problems)
    for key in ("inference_segment", "poc_segment", "version"):
        check_string(entry[key], f"{path}.{key}", problems)


def check_string(
    value: Any, path: str, problems: list[str], *, non_empty: bool = False
) -> None:
    """Append a problem unless `value` is a string (and non-empty, if required)."""
    if not isinstance(value, str):
        problems.append(problem(path, value, "must be a JSON string"))
    elif non_empty and not value:
        problems.append(problem(path, value, "must not be empty"))


def check_integer(
    value: Any, path: str, problems: list[str], bounds: tuple[int, int]
) -> None:
    """Append a problem unless `value` is a JSON integer within `bounds` (inclusive)."""
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(
            problem(path, value, f"must be a JSON integer from {low} to {high}")
        )
    elif not low <= value <= high:
        problems.append(problem(path, value, f"out of range; allowed: {low} to {high}"))


def _check_models(models: Any, path: str, problems: list[str]) -> dict[str, Any]:
    if not isinstance(models, dict):
        problems.append(
            problem(path, models, 'must be an object of model id -> {"args": [...]}')
        )
        return {}
    checked: dict[str, Any] = {}
    for model_id, settings in models.items():
        where = f"{path}[{model_id!r}]"
        if not model_id:
            problems.append(problem(path, model_id, "model ids must not be empty"))
        checked[model_id] = {"args": _check_model_args(settings, where, problems)}
    return checked


def _check_model_args(settings: Any, path: str, problems: list[str]) -> list[Any]:
    if not isinstance(settings, dict):
        problems.append(problem(path, settings, 'must be an object {"args": [...]}'))
        return []
    for key in settings:
        if key != "args":
            problems.append(
                problem(
                    f"{path}.{key}",
                    settings[key],
                    "unknown key; model settings have only args",
                )
            )
    args = settings.get("args", [])
    if not isinstance(args, list):
        problems.append(problem(f"{path}.args", args, "must be an array of strings"))
        return []
    for i, arg in enumerate(args):
        check_string(arg, f"{path}.args[{i}]", problems)
    return list(args)


def check_hardware(hardware: Any, path: str, problems: list[str]) -> list[Any]:
    """Check a list of {type, count} hardware entries and return a copy."""
    if not isinstance(hardware, list):
        problems.append(problem(path, hardware, "must be an array of {type, count}"))
        return []
    checked = []
    for i, item in enumerate(hardware):
        where = f"{path}[{i}]"
        if not isinstance(item, dict):
            problems.append(problem(where, item, "must be an object {type, count}"))
            continue
        for key in item:
            if key not in ("type", "count"):
                problems.append(
                    problem(
                        f"{where}.{key}",
                        item[key],
                        "unknown key; hardware entries have type, count",
                    )
                )
        check_string(item.get("type"), f"{where}.type", problems, non_empty=True)
        check_integer(item.get("count"), f"{where}.count", problems, (0, UINT32_MAX))
        checked.append({"type": item.get("type"), "count": item.get("count")})
    return checked


def to_chain(entry: dict[str, Any], status: str = REGISTERED_STATUS) -> dict[str, Any]:
    """Return the chain's HardwareNode for a checked node-config entry.

    As the API node converts it: models are the sorted keys of `models` (arguments
    are not sent), hardware keeps its order, and `port` is the PoC port as a decimal
    string. Inference port, segments, max_concurrent and version stay off chain.
    """
    return {
        "local_id": entry["id"],
        "status": status,
        "models": sorted(entry["models"]),
        "hardware": [
            {"type": h["type"], "count": h["count"]} for h in entry["hardware"]
        ],
        "host": entry["host"],
        "port": str(entry["poc_port"]),
    }


def check_hardware_node(node: Any, path: str, problems: list[str]) -> dict[str, Any]:
    """Check a HardwareNode of a hardware diff and return it with every field present.

    The chain checks nothing here but the model ids (elsewhere), so any string is
    accepted for ids, host and port. The status may be a name or its number.
    """
    if not isinstance(node, dict):
        problems.append(problem(path, node, "a HardwareNode must be a JSON object"))
        return {}
    for key in node:
        if key not in CHAIN_KEYS:
            problems.append(
                problem(
                    f"{path}.{key}",
                    node[key],
                    f"unknown key; HardwareNode has {', '.join(CHAIN_KEYS)}",
                )
            )
    if "local_id" not in node:
        problems.append(f"{path}.local_id: missing required key")
    checked = {
        "local_id": node.get("local_id", ""),
        "status": _check_status(
            node.get("status", "UNKNOWN"), f"{path}.status", problems
        ),
        "models": _check_string_list(
            node.get("models", []), f"{path}.models", problems
        ),
        "hardware": check_hardware(
            node.get("hardware", []), f"{path}.hardware", problems
        ),
        "host": node.get("host", ""),
        "port": node.get("port", ""),
    }
    for key in ("local_id", "host", "port"):
        check_string(checked[key], f"{path}.{key}", problems)
    return checked


def _check_status(status: Any, path: str, problems: list[str]) -> str:
    if isinstance(status, int) and not isinstance(status, bool):
        if 0 <= status < len(HARDWARE_STATUSES):
            return HARDWARE_STATUSES[status]
    elif status in HARDWARE_STATUSES:
        return str(status)
    valid = ", ".join(f"{i} {name}" for i, name in enumerate(HARDWARE_STATUSES))
    problems.append(
        problem(path, status, f"unknown HardwareNodeStatus; valid: {valid}")
    )
    return "UNKNOWN"


def _check_string_list(values: Any, path: str, problems: list[str]) -> list[Any]:
    if not isinstance(values, list):
        problems.append(problem(path, values, "must be an array of strings"))
        return []
    for i, value in enumerate(values):
        check_string(value, f"{path}[{i}]", problems)
    return list(values)


def entry_from_options(
    node_id: str,
    host: str,
    inference_port: int,
    poc_port: int,
    max_concurrent: int,
    models: tuple[str, ...],
    hardware: tuple[str, ...],
    extra: dict[str, str],
) -> dict[str, Any]:
    """Build a node-config entry from command-line values (checked by the caller)."""
    entry: dict[str, Any] = {
        "id": node_id,
        "host": host,
        "inference_port": inference_port,
        "poc_port": poc_port,
        "max_concurrent": max_concurrent,
        "models": {model_id: {"args": []} for model_id in models},
        "hardware": [parse_hardware_option(text) for text in hardware],
    }
    entry.update(extra)
    return entry


def parse_hardware_option(text: str) -> dict[str, Any]:
    """Parse `TYPE:COUNT` (e.g. `A100:8`) into a hardware entry."""
    kind, separator, count_text = text.rpartition(":")
    if not separator or not kind or not (count_text.isascii() and count_text.isdigit()):
        raise InvalidInput(
            f"invalid --hardware {text!r}: expected TYPE:COUNT",
            hint="write e.g. --hardware A100:8",
        )
    return {"type": kind, "count": int(count_text)}
