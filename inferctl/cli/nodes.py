"""`inferctl node …`: register, remove, enable, disable, list and show ML nodes."""

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

PARTICIPANT_HELP = "Account address (bech32) of the participant that owns the nodes."


@click.group("node")
def node() -> None:
    """Register, remove, enable, disable, list and show ML nodes (hardware).

    \b
    Example:
      inferctl node list
    """


def report_commit(result: Any, as_json: bool, **extra: Any) -> None:
    """Print the appended records: `HEIGHT HASH` lines, or JSON with `extra` fields."""
    records = [
        {"height": r.height, "hash": r.hash, "type": r.type} for r in result.records
    ]
    if as_json:
        emit_json({"records": records, **extra})
        return
    for record in records:
        echo(f"{record['height']} {record['hash']}")


# ----- register ----------------------------------------------------------------


@node.command("register")
@click.option("--participant", required=True, metavar="ADDR", help=PARTICIPANT_HELP)
@click.option(
    "--file",
    "file",
    metavar="FILE",
    help="gonka node-config JSON (an array of entries or one entry); "
    "`-` reads standard input. Replaces the node options below. "
    "Default: none, the options describe one node.",
)
@click.option("--id", "node_id", metavar="ID", help="Node id (the chain's local_id). Required without --file.")
@click.option("--host", metavar="HOST", help="Host name or IP address of the ML node. Required without --file.")
@click.option(
    "--inference-port", type=int, metavar="PORT", help="Inference port, 1 to 65535. Required without --file."
)
@click.option(
    "--poc-port",
    type=int,
    metavar="PORT",
    help="PoC port, 1 to 65535 (sent to the chain as the node's port). "
    "Required without --file.",
)
@click.option(
    "--max-concurrent",
    type=int,
    metavar="N",
    help="Maximum simultaneous requests, at least 1. Required without --file.",
)
@click.option(
    "--model",
    "models",
    multiple=True,
    metavar="ID",
    help="Model id the node serves (repeatable; no launch arguments). "
    "Default: none.",
)
@click.option(
    "--hardware",
    multiple=True,
    metavar="TYPE:COUNT",
    help="Hardware entry such as A100:8 (repeatable; order is kept). "
    "Default: none.",
)
@click.option(
    "--inference-segment",
    default="",
    metavar="PATH",
    help="Path prefix of the inference URL (default: none).",
)
@click.option(
    "--poc-segment",
    default="",
    metavar="PATH",
    help="Path prefix of the PoC URL (default: none).",
)
@click.option(
    "--node-version",
    default="",
    metavar="VERSION",
    help="ML-node version used for request routing (default: none).",
)
@write_options
@json_option
def register(
    participant: str,
    file: str | None,
    node_id: str | None,
    host: str | None,
    inference_port: int | None,
    poc_port: int | None,
    max_concurrent: int | None,
    models: tuple[str, ...],
    hardware: tuple[str, ...],
    inference_segment: str,
    poc_segment: str,
    node_version: str,
    home: str,
    tx_time: str | None,
    lock_timeout: float,
    as_json: bool,
) -> None:
    """Register ML nodes for a participant, from a node-config file or options.

    Records the node configs and the hardware diff that the API node sends to the
    chain, as one /inferctl.v1.RegisterNodes transaction. Every model must be in the
    registry. A node whose id is already registered is replaced, but registering the
    same configuration again records nothing. New nodes report status UNKNOWN.

    \b
    Example:
      inferctl node register --participant \\
        gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le \\
        --id node1 --host 10.0.0.5 --inference-port 5000 --poc-port 8080 \\
        --max-concurrent 500 --model Qwen/Qwen2.5-7B-Instruct --hardware A100:1
    """
    from inferctl.flow.nodes import REGISTER_NODES

    options = {
        "--id": node_id,
        "--host": host,
        "--inference-port": inference_port,
        "--poc-port": poc_port,
        "--max-concurrent": max_concurrent,
    }
    if file is not None:
        entries = _entries_from_file(file, options, models, hardware)
    else:
        entries = _entries_from_options(
            options,
            models,
            hardware,
            {
                "inference_segment": inference_segment,
                "poc_segment": poc_segment,
                "version": node_version,
            },
        )
    body = {"participant": participant, "nodes": entries}
    result = commit_txs(
        home, [(REGISTER_NODES, body)], tx_time=tx_time, lock_timeout=lock_timeout
    )
    changed = result.results[0]["changed"] if result.results else []
    if changed:
        note(None, f"registered {', '.join(changed)} for {participant}")
    report_commit(result, as_json, participant=participant, changed=changed)


def _entries_from_file(
    file: str,
    options: dict[str, Any],
    models: tuple[str, ...],
    hardware: tuple[str, ...],
) -> list[dict[str, Any]]:
    given = [name for name, value in options.items() if value is not None]
    given += ["--model"] * bool(models) + ["--hardware"] * bool(hardware)
    if given:
        raise click.UsageError(f"--file cannot be combined with {', '.join(given)}")
    from inferctl.cli.filekind import NODE_CONFIG, expect_kind
    from inferctl.flow.nodeconfig import parse_node_file
    from inferctl.jsonio import read_bytes

    data = read_bytes(file, what="node-config file")
    with expect_kind(data, file, NODE_CONFIG):
        return parse_node_file(data, file)


def _entries_from_options(
    options: dict[str, Any],
    models: tuple[str, ...],
    hardware: tuple[str, ...],
    extra: dict[str, str],
) -> list[dict[str, Any]]:
    missing = [name for name, value in options.items() if value is None]
    if missing:
        raise click.UsageError(
            f"missing {', '.join(missing)}; give every node option, or --file FILE"
        )
    from inferctl.flow.nodeconfig import check_entries, entry_from_options

    entry = entry_from_options(
        options["--id"],
        options["--host"],
        options["--inference-port"],
        options["--poc-port"],
        options["--max-concurrent"],
        models,
        hardware,
        extra,
    )
    return check_entries([entry], "node options")


# ----- remove, enable, disable -------------------------------------------------


@node.command("remove")
@click.option("--participant", required=True, metavar="ADDR", help=PARTICIPANT_HELP)
@click.argument("node_ids", nargs=-1, required=True, metavar="ID...")
@write_options
@json_option
def remove(
    participant: str,
    node_ids: tuple[str, ...],
    home: str,
    tx_time: str | None,
    lock_timeout: float,
    as_json: bool,
) -> None:
    """Remove ML nodes of a participant, as one MsgSubmitHardwareDiff.

    Every id must be registered for the participant, otherwise nothing is removed.

    \b
    Example:
      inferctl node remove node1 --participant \\
        gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le
    """
    from inferctl.flow.nodes import HARDWARE_DIFF, removal_diff

    def build(state: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        return [(HARDWARE_DIFF, removal_diff(state, participant, list(node_ids)))]

    result = commit_txs(home, build, tx_time=tx_time, lock_timeout=lock_timeout)
    note(None, f"removed {', '.join(dict.fromkeys(node_ids))} of {participant}")
    report_commit(
        result, as_json, participant=participant, removed=list(dict.fromkeys(node_ids))
    )


def _set_admin_state(
    participant: str,
    node_id: str,
    enabled: bool,
    home: str,
    tx_time: str | None,
    lock_timeout: float,
    as_json: bool,
) -> None:
    from inferctl.flow.nodes import SET_ADMIN_STATE

    body = {"participant": participant, "node_id": node_id, "enabled": enabled}
    result = commit_txs(
        home, [(SET_ADMIN_STATE, body)], tx_time=tx_time, lock_timeout=lock_timeout
    )
    if result.results:
        admin_state = result.results[0]["admin_state"]
        word = "enabled" if enabled else "disabled"
        note(
            None,
            f"{word} node {node_id} of {participant} at epoch {admin_state['epoch']}",
        )
    report_commit(result, as_json, participant=participant, id=node_id, enabled=enabled)


@node.command("enable")
@click.option("--participant", required=True, metavar="ADDR", help=PARTICIPANT_HELP)
@click.argument("node_id", metavar="ID")
@write_options
@json_option
def enable(
    participant: str,
    node_id: str,
    home: str,
    tx_time: str | None,
    lock_timeout: float,
    as_json: bool,
) -> None:
    """Enable an ML node from the latest epoch on.

    In the epoch it is enabled in, the node serves only during the inference phase.
    It serves fully from the next epoch on.

    \b
    Example:
      inferctl node enable node1 --participant \\
        gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le
    """
    _set_admin_state(participant, node_id, True, home, tx_time, lock_timeout, as_json)


@node.command("disable")
@click.option("--participant", required=True, metavar="ADDR", help=PARTICIPANT_HELP)
@click.argument("node_id", metavar="ID")
@write_options
@json_option
def disable(
    participant: str,
    node_id: str,
    home: str,
    tx_time: str | None,
    lock_timeout: float,
    as_json: bool,
) -> None:
    """Disable an ML node: it serves through the latest epoch and stops after it.

    \b
    Example:
      inferctl node disable node1 --participant \\
        gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le
    """
    _set_admin_state(participant, node_id, False, home, tx_time, lock_timeout, as_json)


# ----- list, show --------------------------------------------------------------


@node.command("list")
@click.option(
    "--participant",
    metavar="ADDR",
    default=None,
    help="Only this participant's nodes (default: every participant).",
)
@home_option
@json_option
def list_command(participant: str | None, home: str, as_json: bool) -> None:
    """List ML nodes: chain form and API-node config side by side.

    JSON: {"nodes": [{participant, id, chain, config, admin_state}]}, ordered by
    participant address, then node id. `chain` is the HardwareNode the chain stores.
    `config` is the node-config entry, or null for a node that a raw hardware diff
    created.

    \b
    Example:
      inferctl node list --json
    """
    from inferctl.flow.nodes import list_nodes

    state, _head = load_state(home)
    rows = list_nodes(state, participant)
    if as_json:
        emit_json({"nodes": rows})
        return
    if not rows:
        note(None, "no nodes registered")
        return
    _print_table(rows)


def _print_table(rows: list[dict[str, Any]]) -> None:
    header = (
        "PARTICIPANT",
        "ID",
        "STATUS",
        "HOST",
        "POC_PORT",
        "INFERENCE_PORT",
        "MAX_CONCURRENT",
        "ENABLED",
        "MODELS",
    )
    lines = [header] + [_table_row(row) for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    for line in lines:
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        echo("  ".join(cells + [line[-1]]).rstrip())


def _table_row(row: dict[str, Any]) -> tuple[str, ...]:
    chain, config = row["chain"], row["config"] or {}
    return (
        row["participant"],
        row["id"],
        chain["status"],
        chain["host"],
        chain["port"],
        str(config.get("inference_port", "-")),
        str(config.get("max_concurrent", "-")),
        "yes" if row["admin_state"]["enabled"] else "no",
        ",".join(chain["models"]) or "-",
    )


@node.command("show")
@click.option("--participant", required=True, metavar="ADDR", help=PARTICIPANT_HELP)
@click.argument("node_id", metavar="ID")
@home_option
@json_option
def show(participant: str, node_id: str, home: str, as_json: bool) -> None:
    """Show one ML node: chain form, node config and admin state.

    JSON: {"node": {participant, id, chain, config, admin_state}}.

    \b
    Example:
      inferctl node show node1 --participant \\
        gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le
    """
    from inferctl.flow.nodes import get_node, node_view

    state, _head = load_state(home)
    view = node_view(participant, node_id, get_node(state, participant, node_id))
    if as_json:
        emit_json({"node": view})
        return
    for line in _detail_lines(view):
        echo(line)


def _detail_lines(view: dict[str, Any]) -> list[str]:
    chain, config, admin = view["chain"], view["config"], view["admin_state"]
    hardware = ", ".join(f"{h['type']} x{h['count']}" for h in chain["hardware"])
    lines = [
        f"participant: {view['participant']}",
        f"id: {view['id']}",
        "chain:",
        f"  status: {chain['status']}",
        f"  host: {chain['host']}",
        f"  port: {chain['port']}",
        f"  models: {', '.join(chain['models']) or '-'}",
        f"  hardware: {hardware or '-'}",
        f"admin_state: {'enabled' if admin['enabled'] else 'disabled'} at epoch "
        f"{admin['epoch']}",
    ]
    return lines + _config_lines(config)


def _config_lines(config: dict[str, Any] | None) -> list[str]:
    if config is None:
        return ["config: none (the node was added by a hardware diff)"]
    lines = ["config:"]
    for key in (
        "host",
        "inference_port",
        "poc_port",
        "max_concurrent",
        "inference_segment",
        "poc_segment",
        "version",
    ):
        lines.append(f"  {key}: {config[key]}")
    lines.append("  models:")
    for model_id, settings in config["models"].items():
        lines.append(f"    {model_id}: {' '.join(settings['args'])}".rstrip())
    return lines
