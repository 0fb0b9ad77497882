"""`inferctl participant …`: join, list, show and the models a participant serves."""

from __future__ import annotations

from typing import Any

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


@click.group("participant")
def participant() -> None:
    """Join, list and show participants.

    \b
    Example:
      inferctl participant list
    """


@participant.command("join")
@click.argument("address", required=False, metavar="ADDR")
@click.option(
    "--url",
    default=None,
    metavar="URL",
    help="Public API URL, http or https (default: none).",
)
@click.option(
    "--validator-key",
    default=None,
    metavar="B64",
    help="ED25519 consensus public key, base64 of 32 bytes (default: none).",
)
@click.option(
    "--worker-key",
    default=None,
    metavar="B64",
    help="Worker public key, base64 of 32 bytes (default: none).",
)
@click.option(
    "--genparticipant",
    default=None,
    metavar="FILE",
    help="Take address, URL and keys from the MsgSubmitNewParticipant of a "
    "signed genparticipant file instead (default: none).",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Overwrite an existing participant (weight, status and stats start "
    "over, as on chain).",
)
@write_options
@json_option
def join(
    address: str | None,
    url: str | None,
    validator_key: str | None,
    worker_key: str | None,
    genparticipant: str | None,
    replace: bool,
    home: str,
    tx_time: str | None,
    lock_timeout: float,
    as_json: bool,
) -> None:
    """Register a participant, as one MsgSubmitNewParticipant.

    The new record has weight -1, status ACTIVE, join_time in milliseconds of ledger
    time and join_height at the chain block height (the ledger height while the
    chain is at genesis). The chain overwrites an existing participant silently;
    this command rejects that unless --replace is given.

    \b
    Example:
      inferctl participant join gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le \\
        --url http://node1.example.com:8000 --replace
    """
    from inferctl.flow.participants import (
        NEW_PARTICIPANT,
        check_new_participant,
        check_not_joined,
    )

    if genparticipant is not None:
        body = _body_from_file(genparticipant, address, url, validator_key, worker_key)
    elif address is None:
        raise click.UsageError("give ADDR, or --genparticipant FILE")
    else:
        body = {
            "creator": address,
            "url": url or "",
            "validator_key": validator_key or "",
            "worker_key": worker_key or "",
        }
    creator = body.get("creator")

    def build(state: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        # The message's own checks come first, so a bad URL or key is reported
        # even for an address that already exists.
        check_new_participant(body, state["prefix"])
        check_not_joined(state, creator, replace)
        return [(NEW_PARTICIPANT, body)]

    result = commit_txs(home, build, tx_time=tx_time, lock_timeout=lock_timeout)
    from inferctl.cli.nodes import report_commit

    report_commit(
        result, as_json, participant=result.results[0] if result.results else None
    )


def _body_from_file(
    path: str,
    address: str | None,
    url: str | None,
    validator_key: str | None,
    worker_key: str | None,
) -> dict[str, Any]:
    given = [
        name
        for name, value in (
            ("--url", url),
            ("--validator-key", validator_key),
            ("--worker-key", worker_key),
        )
        if value is not None
    ]
    if given:
        raise click.UsageError(
            f"--genparticipant cannot be combined with {', '.join(given)}"
        )
    from inferctl.flow.participants import message_from_signed_tx
    from inferctl.jsonio import load_file

    body = message_from_signed_tx(load_file(path, what="genparticipant file"), path)
    if address is not None and body.get("creator") != address:
        from inferctl.errors import InvalidInput

        raise InvalidInput(
            f"{path}: creator {body.get('creator')!r} is not ADDR {address}",
            hint="omit ADDR, or pass the file of that participant",
        )
    return body


@participant.command("list")
@home_option
@json_option
def list_command(home: str, as_json: bool) -> None:
    """List participants in the chain's order (by address bytes).

    JSON: {"participants": [Participant]} with gonka's field names.

    \b
    Example:
      inferctl participant list --json
    """
    from inferctl.flow.participants import sorted_participants

    state, _head = load_state(home)
    records = sorted_participants(state)
    if as_json:
        emit_json({"participants": records})
        return
    if not records:
        note(None, "no participants")
        return
    _print_table(records)


def _print_table(records: list[dict[str, Any]]) -> None:
    header = ("ADDRESS", "WEIGHT", "STATUS", "JOIN_HEIGHT", "URL")
    lines = [header] + [
        (
            r["index"],
            str(r["weight"]),
            r["status"],
            str(r["join_height"]),
            r["inference_url"] or "-",
        )
        for r in records
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    for line in lines:
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        echo("  ".join(cells + [line[-1]]).rstrip())


def _get(state: dict[str, Any], address: str) -> dict[str, Any]:
    record = state.get("participants", {}).get(address)
    if record is None:
        from inferctl.errors import NotFound

        raise NotFound(
            f"participant not found: {address}", hint="see `inferctl participant list`"
        )
    return record


@participant.command("show")
@click.argument("address", metavar="ADDR")
@home_option
@json_option
def show(address: str, home: str, as_json: bool) -> None:
    """Show one participant record.

    JSON: {"participant": Participant} with gonka's field names.

    \b
    Example:
      inferctl participant show gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le
    """
    state, _head = load_state(home)
    record = _get(state, address)
    if as_json:
        emit_json({"participant": record})
        return
    for key, value in record.items():
        if isinstance(value, dict):
            echo(f"{key}:")
            for inner_key, inner_value in value.items():
                echo(f"  {inner_key}: {inner_value}")
        else:
            echo(f"{key}: {value}")


@participant.command("models")
@click.argument("address", metavar="ADDR")
@home_option
@json_option
def models(address: str, home: str, as_json: bool) -> None:
    """List the models a participant's nodes serve: unique ids, sorted, one a line.

    Read from the chain form of the nodes, so a change counts for routing only from
    the next epoch formation. JSON: {"address": ADDR, "models": [id]}.

    \b
    Example:
      inferctl participant models gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le
    """
    from inferctl.flow.participants import participant_models

    state, _head = load_state(home)
    if address not in state.get("hardware", {}):
        _get(state, address)
    model_ids = participant_models(state, address)
    if as_json:
        emit_json({"address": address, "models": model_ids})
        return
    for model_id in model_ids:
        echo(model_id)
