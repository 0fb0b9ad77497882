"""`inferctl model …`: register, propose, list and show models."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from inferctl.cli.common import (
    commit_txs,
    echo,
    emit_json,
    home_option,
    json_option,
    load_state,
    note,
    write_options,
)
from inferctl.errors import InvalidInput

F = TypeVar("F", bound=Callable[..., Any])

UINT64 = click.IntRange(0, 2**64 - 1)

MODEL_FILE_FIELDS = (
    "id",
    "units_of_compute_per_token",
    "hf_repo",
    "hf_commit",
    "model_args",
    "v_ram",
    "throughput_per_nonce",
    "validation_threshold",
)
PROPOSAL_FILE_FIELDS = (
    "proposer",
    "title",
    "summary",
    "metadata",
    "deposit",
    "expedited",
)


@click.group("model")
def model() -> None:
    """Register, propose, list and show models.

    \b
    Examples:
      inferctl model list
      inferctl model show Qwen/QwQ-32B
    """


def model_field_options(function: F) -> F:
    """Add the optional MsgRegisterModel field options."""
    options = [
        click.option(
            "--units-of-compute-per-token",
            "units_of_compute_per_token",
            type=UINT64,
            default=None,
            metavar="N",
            help="Price weight: the per-token price is N times the epoch's "
            "unit-of-compute price. Default 0.",
        ),
        click.option(
            "--hf-repo",
            default=None,
            metavar="REPO",
            help="Hugging Face repository, e.g. Qwen/QwQ-32B. Default empty.",
        ),
        click.option(
            "--hf-commit",
            default=None,
            metavar="SHA",
            help="Hugging Face commit. Default empty.",
        ),
        click.option(
            "--model-arg",
            "model_args",
            multiple=True,
            metavar="ARG",
            help="One launch argument for ML nodes; repeat it for each "
            "argument, e.g. --model-arg=--quantization --model-arg=fp8. "
            "Default none.",
        ),
        click.option(
            "--v-ram",
            "v_ram",
            type=UINT64,
            default=None,
            metavar="GB",
            help="GPU memory the model needs, in GB. Default 0.",
        ),
        click.option(
            "--throughput-per-nonce",
            type=UINT64,
            default=None,
            metavar="N",
            help="Declared throughput per PoC nonce (stored, unused by "
            "gonka's epoch logic). Default 0.",
        ),
        click.option(
            "--validation-threshold",
            default=None,
            metavar="DECIMAL",
            help="Inference validation passes when the score is above this "
            "number in [0, 1], e.g. 0.98. Default null (not set).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _given_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Return the model field options that were given on the command line."""
    fields = {
        name: values[name]
        for name in MODEL_FILE_FIELDS[1:]
        if values.get(name) is not None
    }
    if values.get("model_args"):
        fields["model_args"] = list(values["model_args"])
    else:
        fields.pop("model_args", None)
    return fields


@model.command("register")
@click.option(
    "--authority",
    required=True,
    metavar="ADDR",
    help="Signer; must be the gov module address of the chain "
    "(gonka10d07y265gmmuvt4z0w9aw880jnsr700j2h5m33 on gonka).",
)
@click.option(
    "--proposed-by",
    required=True,
    metavar="ADDR",
    help="Account recorded as the model's proposer.",
)
@click.option(
    "--id",
    "model_id",
    required=True,
    metavar="ID",
    help="Model id, compared exactly and case-sensitively.",
)
@model_field_options
@write_options
def register(
    authority: str,
    proposed_by: str,
    model_id: str,
    home: str,
    tx_time: str | None,
    lock_timeout: float,
    **values: Any,
) -> None:
    """Register or replace a model directly, as a gov-executed MsgRegisterModel.

    On the real chain only a passed gov proposal can run this message. Here the
    gov authority address replaces the vote (`inferctl model propose` goes
    through voting instead). An existing model with the same id is replaced
    whole: every field that is not given becomes zero, empty or null. Prints the
    model id.

    \b
    Example:
      inferctl model register \\
        --authority gonka10d07y265gmmuvt4z0w9aw880jnsr700j2h5m33 \\
        --proposed-by "$(inferctl address alice)" --id Qwen/Qwen3-8B \\
        --units-of-compute-per-token 100 --v-ram 24 --validation-threshold 0.98
    """
    from inferctl.flow import models

    body = models.register_model_body(
        authority, proposed_by, model_id, _given_fields(values)
    )
    result = commit_txs(
        home,
        [(models.REGISTER_MODEL, body)],
        tx_time=tx_time,
        lock_timeout=lock_timeout,
    )
    if result.records:
        note(None, f"registered model {model_id} at height {result.records[-1].height}")
    echo(model_id)


@model.command("propose")
@click.option(
    "--proposer",
    default=None,
    metavar="ADDR",
    help="Account that submits the proposal; it becomes the model's "
    "proposed_by. Required here or in --file.",
)
@click.option(
    "--id",
    "model_id",
    default=None,
    metavar="ID",
    help="Model id. Required here or in --file.",
)
@model_field_options
@click.option(
    "--title",
    default=None,
    metavar="TEXT",
    help='Proposal title. Default "<id> model proposal".',
)
@click.option(
    "--summary",
    default=None,
    metavar="TEXT",
    help="Proposal summary. Default: the summary gonka's admin API writes.",
)
@click.option(
    "--metadata",
    default=None,
    metavar="TEXT",
    help='Proposal metadata. Default "Created via inferctl".',
)
@click.option(
    "--deposit",
    default=None,
    metavar="COINS",
    help="Initial deposit, e.g. 25000000ngonka. Default: the gov minimum "
    "deposit (the expedited minimum with --expedited).",
)
@click.option(
    "--expedited/--no-expedited",
    default=None,
    help="Use the expedited voting period and threshold. Default off.",
)
@click.option(
    "--file",
    "file_path",
    default=None,
    metavar="FILE",
    help="Read the model and proposal fields from a .toml or .json file; "
    "options given on the command line win. Default: none.",
)
@write_options
def propose(
    proposer: str | None,
    model_id: str | None,
    file_path: str | None,
    home: str,
    tx_time: str | None,
    lock_timeout: float,
    **values: Any,
) -> None:
    """Submit a gov proposal that registers a model when it passes.

    Builds a gov v1 MsgSubmitProposal wrapping one MsgRegisterModel, with the
    defaults of gonka's admin API (title, summary, expedited off) and the gov
    minimum deposit. Its voting period starts at once. Prints the proposal id.

    \b
    Example:
      inferctl model propose --proposer "$(inferctl address alice)" \\
        --id Qwen/Qwen3-8B --units-of-compute-per-token 100 \\
        --time 2025-09-01T00:00:00Z
    """
    from inferctl.flow import gov

    settings = load_model_file(file_path) if file_path else {}
    settings.update(_given_fields(values))
    for name in ("title", "summary", "metadata", "expedited"):
        if values.get(name) is not None:
            settings[name] = values[name]
    if values.get("deposit") is not None:
        settings["deposit"] = gov.parse_coins_text(values["deposit"])
    if proposer is not None:
        settings["proposer"] = proposer
    if model_id is not None:
        settings["id"] = model_id
    _require(settings, "proposer", "--proposer")
    _require(settings, "id", "--id")
    result = commit_txs(
        home, _proposal_builder(settings), tx_time=tx_time, lock_timeout=lock_timeout
    )
    proposal_id = result.results[0]
    note(None, f"submitted proposal {proposal_id} to register model {settings['id']}")
    echo(str(proposal_id))


def _require(settings: dict[str, Any], key: str, option: str) -> None:
    if not settings.get(key):
        raise click.UsageError(f"missing {option} (or `{key}` in --file)")


def _proposal_builder(settings: dict[str, Any]) -> Callable[[dict], list]:
    """Return a builder that makes the MsgSubmitProposal from the ledger's state."""
    from inferctl.flow import gov

    def build(state: dict[str, Any]) -> list:
        fields = {k: settings[k] for k in MODEL_FILE_FIELDS[1:] if k in settings}
        body = gov.model_proposal(
            state, settings["proposer"], settings["id"], fields,
            deposit=settings.get("deposit"), title=settings.get("title"),
            summary=settings.get("summary"), metadata=settings.get("metadata"),
            expedited=bool(settings.get("expedited", False)),
        )
        return [(gov.SUBMIT_PROPOSAL, body)]

    return build


def load_model_file(path: str) -> dict[str, Any]:
    """Read model and proposal fields from a TOML or JSON file and check their types."""
    if path.endswith(".toml"):
        values = _load_toml(path)
    elif path.endswith(".json"):
        from inferctl.jsonio import load_file

        values = load_file(path, what="model file")
    else:
        raise InvalidInput(
            f"{path}: unknown model file type", hint="name the file *.toml or *.json"
        )
    if not isinstance(values, dict):
        raise InvalidInput(f"{path}: expected a table (TOML) or an object (JSON)")
    allowed = MODEL_FILE_FIELDS + PROPOSAL_FILE_FIELDS
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise InvalidInput(
            f"{path}: unknown field {unknown[0]!r}",
            hint=f"the fields are {', '.join(allowed)}",
        )
    return {key: _file_value(path, key, value) for key, value in values.items()}


def _load_toml(path: str) -> dict[str, Any]:
    import tomllib
    from decimal import Decimal

    from inferctl.jsonio import read_bytes

    data = read_bytes(path, what="model file")
    try:
        # Decimal keeps a TOML float such as 0.98 exact.
        return tomllib.loads(data.decode("utf-8"), parse_float=Decimal)
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: invalid UTF-8 at byte {exc.start}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{path}: invalid TOML: {exc}") from None


def _file_value(path: str, key: str, value: Any) -> Any:
    """Convert one file value to the form the command-line options produce."""
    from inferctl.flow import gov, models

    def wrong(expected: str) -> InvalidInput:
        return InvalidInput(f"{path}: {key} = {value!r}: expected {expected}")

    if key in models.UINT64_FIELDS:
        return _file_uint64(value, wrong)
    if key == "model_args":
        if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
            raise wrong("a list of strings")
        return value
    if key == "validation_threshold":
        return _file_threshold(value, wrong)
    if key == "deposit":
        if not isinstance(value, str):
            raise wrong("coin text such as 25000000ngonka")
        return gov.parse_coins_text(value, what=f"{path}: deposit")
    if key == "expedited":
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if not isinstance(value, str):
        raise wrong("a string")
    return value


def _file_uint64(value: Any, wrong: Callable[[str], InvalidInput]) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise wrong("a whole number")
    if not 0 <= value <= 2**64 - 1:
        raise wrong("a number from 0 to 2^64-1")
    return value


def _file_threshold(value: Any, wrong: Callable[[str], InvalidInput]) -> Any:
    from decimal import Decimal

    from inferctl.flow import models

    if isinstance(value, bool):
        raise wrong("a decimal number such as 0.98")
    if isinstance(value, float):
        # A JSON number arrives as a binary float. Its shortest repr gives back the
        # written digits for any number with at most 15 significant digits.
        return models.parse_threshold(repr(value))
    if isinstance(value, int):
        return models.parse_threshold(str(value))
    if isinstance(value, (str, Decimal)):
        return models.parse_threshold(value)
    if isinstance(value, dict):
        return value
    raise wrong("a decimal number such as 0.98")


@model.command("list")
@home_option
@json_option
def list_command(home: str, as_json: bool) -> None:
    """List registered models in id order (byte order, as gonka lists them).

    The JSON form uses gonka's Model field names, with 64-bit integers as strings.

    \b
    Example:
      inferctl model list --json
    """
    from inferctl.flow import models

    state, _head = load_state(home)
    entries = models.list_models(state)
    if as_json:
        emit_json({"models": [models.model_json(m) for m in entries]})
        return
    rows: list[tuple[str, ...]] = [("ID", "UNITS", "V_RAM", "THRESHOLD", "PROPOSED_BY")]
    for entry in entries:
        rows.append(
            (
                entry["id"],
                str(entry["units_of_compute_per_token"]),
                str(entry["v_ram"]),
                models.threshold_text(entry["validation_threshold"]),
                entry["proposed_by"],
            )
        )
    print_table(rows)


def print_table(rows: list[tuple[str, ...]]) -> None:
    """Print rows as columns separated by two spaces, padded to the widest cell."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        echo("  ".join(cells).rstrip())


@model.command("show")
@click.argument("model_id", metavar="ID")
@home_option
@json_option
def show(model_id: str, home: str, as_json: bool) -> None:
    """Show every field of one model.

    \b
    Example:
      inferctl model show Qwen/QwQ-32B --json
    """
    from inferctl.flow import models

    state, _head = load_state(home)
    entry = models.get_model(state, model_id)
    encoded = models.model_json(entry)
    if as_json:
        emit_json({"model": encoded})
        return
    for name, value in encoded.items():
        if name == "validation_threshold":
            value = models.threshold_text(entry["validation_threshold"])
        elif name == "model_args":
            value = json.dumps(value)
        echo(f"{name}: {value}")
