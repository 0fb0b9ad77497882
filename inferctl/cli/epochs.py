"""`inferctl poc …` and `inferctl epoch …`: PoC results, formation, the switch, views."""

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


def report_commit(result: Any, as_json: bool, **extra: Any) -> None:
    """Print the appended records as `HEIGHT HASH` lines, or JSON with `extra`."""
    records = [{"height": r.height, "hash": r.hash, "type": r.type}
               for r in result.records]
    if as_json:
        emit_json({"records": records, **extra})
        return
    for record in records:
        echo(f"{record['height']} {record['hash']}")


def upcoming_index(state: dict[str, Any]) -> int:
    """Return the index of the upcoming epoch: the effective one plus 1."""
    return int(state.get("effective_epoch", 0)) + 1


# ----- poc ---------------------------------------------------------------------------


@click.group("poc")
def poc() -> None:
    """Record PoC results for the upcoming epoch."""


@poc.command("submit")
@click.argument("address", metavar="ADDR")
@click.option("--weight", required=True, type=click.IntRange(min=1), metavar="N",
              help="Validated PoC weight: the number of nonces that validation "
              "accepted (an integer >= 1).")
@write_options
@json_option
def submit(address: str, weight: int, home: str, tx_time: str | None,
           lock_timeout: float, as_json: bool) -> None:
    """Record ADDR's validated PoC weight for the upcoming epoch.

    inferctl simulates neither nonces nor validator votes: the weight is what
    validation would accept. A later result for the same participant and epoch
    replaces the earlier one. The chain stores it as one ML-node entry without a
    node id, which `epoch form` splits over the participant's ML nodes.

    \b
    Example:
      inferctl poc submit gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le --weight 100
    """
    from inferctl.flow.epochs import SUBMIT_POC_RESULT

    def build(state: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        body = {"participant": address, "epoch_index": upcoming_index(state),
                "weight": weight}
        return [(SUBMIT_POC_RESULT, body)]

    result = commit_txs(home, build, tx_time=tx_time, lock_timeout=lock_timeout)
    outcome = result.results[0] if result.results else None
    if outcome is not None:
        note(None, f"recorded PoC weight {weight} for {address} in epoch "
                   f"{outcome['epoch_index']}")
    report_commit(result, as_json, poc_result=outcome)


@poc.command("list")
@click.option("--epoch", "epoch_index", type=click.IntRange(min=1), default=None,
              metavar="N", help="Epoch index (default: the upcoming epoch).")
@home_option
@json_option
def poc_list(epoch_index: int | None, home: str, as_json: bool) -> None:
    """List the recorded PoC weights of an epoch, by participant address.

    \b
    Example:
      inferctl poc list --epoch 1 --json
    """
    state, _head = load_state(home)
    index = epoch_index if epoch_index is not None else upcoming_index(state)
    results = state.get("poc_results", {}).get(str(index), {})
    rows = [{"participant": address, "weight": results[address]}
            for address in sorted(results)]
    if as_json:
        emit_json({"epoch_index": index, "results": rows})
        return
    if not rows:
        note(None, f"no PoC results for epoch {index}")
    for row in rows:
        echo(f"{row['participant']}  {row['weight']}")


# ----- epoch: form, activate -----------------------------------------------------------


@click.group("epoch")
def epoch() -> None:
    """Form, activate, list and show epochs and their groups."""


@epoch.command("form")
@write_options
@json_option
def form(home: str, tx_time: str | None, lock_timeout: float, as_json: bool) -> None:
    """Form the upcoming epoch from the recorded PoC results and ML nodes.

    Runs the chain's end-of-PoC-validation steps. Weights come from the PoC results
    and from nodes carried over from the last PoC. Then come power capping, model
    assignment with the chain's legacy weight split and the 50 % POC_SLOT choice.
    Last, the parent group and one sub-group per model are filled. The epoch is
    started first if needed.
    A formed epoch never changes. It becomes effective with `epoch activate`.

    \b
    Example:
      inferctl epoch form && inferctl epoch activate
    """
    from inferctl.flow.epochs import FORM_EPOCH

    def build(state: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        return [(FORM_EPOCH, {"epoch_index": upcoming_index(state)})]

    result = commit_txs(home, build, tx_time=tx_time, lock_timeout=lock_timeout)
    summary = result.results[0]
    models = ", ".join(f"{model} ({count})" for model, count in summary["models"].items())
    note(None, f"formed epoch {summary['epoch_index']}: {summary['member_count']} "
               f"members, total weight {summary['total_weight']}, models: "
               f"{models or 'none'}")
    report_commit(result, as_json, formation=summary)


@epoch.command("activate")
@write_options
@json_option
def activate(home: str, tx_time: str | None, lock_timeout: float, as_json: bool) -> None:
    """Make the formed upcoming epoch effective (the chain's SetNewValidators).

    From then on executor picks use its groups. The epoch's unit-of-compute price is
    the default param for epoch 1 and the previous epoch's price after that.

    \b
    Example:
      inferctl epoch activate --json
    """
    from inferctl.flow.epochs import SET_NEW_VALIDATORS

    def build(state: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        return [(SET_NEW_VALIDATORS, {"epoch_index": upcoming_index(state)})]

    result = commit_txs(home, build, tx_time=tx_time, lock_timeout=lock_timeout)
    outcome = result.results[0]
    note(None, f"epoch {outcome['epoch_index']} is effective from block "
               f"{outcome['effective_block_height']} (unit of compute price "
               f"{outcome['unit_of_compute_price']})")
    report_commit(result, as_json, activation=outcome)


# ----- epoch: list, show -----------------------------------------------------------


@epoch.command("list")
@home_option
@json_option
def list_command(home: str, as_json: bool) -> None:
    """List epochs: index, PoC start, effective or not, members and models.

    \b
    Example:
      inferctl epoch list --json
    """
    from inferctl.flow.epochs import PARENT, is_formed

    state, _head = load_state(home)
    effective = int(state.get("effective_epoch", 0))
    rows = []
    for key in sorted(state.get("epochs", {}), key=int):
        parent = state.get("epoch_groups", {}).get(key, {}).get(PARENT, {})
        index = int(key)
        rows.append({
            "epoch_index": index,
            "poc_start_block_height": state["epochs"][key]["poc_start_block_height"],
            "effective": index == effective,
            "formed": index == 0 or is_formed(state, index),
            "member_count": len(parent.get("validation_weights", [])),
            "models": list(parent.get("sub_group_models", [])),
        })
    if as_json:
        emit_json({"effective_epoch": effective, "epochs": rows})
        return
    echo(f"{'EPOCH':>5}  {'POC START':>10}  {'STATE':<9}  {'MEMBERS':>7}  MODELS")
    for row in rows:
        echo(f"{row['epoch_index']:>5}  {row['poc_start_block_height']:>10}  "
             f"{_epoch_state(row, effective):<9}  {row['member_count']:>7}  "
             f"{', '.join(row['models']) or '-'}")


def _epoch_state(row: dict[str, Any], effective: int) -> str:
    if row["epoch_index"] < effective:
        return "past"
    if row["epoch_index"] == effective:
        return "effective"
    return "formed" if row["formed"] else "started"


@epoch.command("show")
@click.argument("index", required=False, type=click.IntRange(min=0), metavar="[N]")
@home_option
@json_option
def show(index: int | None, home: str, as_json: bool) -> None:
    """Show epoch N's parent group and every model sub-group (default: effective).

    --json prints {"epoch_index", "parent", "sub_groups"} where each group is an
    EpochGroupData in the chain's JSON form: upstream field names, 64-bit integers
    as strings.

    \b
    Example:
      inferctl epoch show 1 --json
    """
    from inferctl.flow.epochs import PARENT, groups_of

    state, _head = load_state(home)
    if index is None:
        index = int(state.get("effective_epoch", 0))
    groups = groups_of(state, index)
    parent = groups[PARENT]
    sub_groups = [groups[model_id] for model_id in parent["sub_group_models"]]
    if as_json:
        emit_json({"epoch_index": index, "parent": group_json(parent),
                   "sub_groups": [group_json(group) for group in sub_groups]})
        return
    echo(f"epoch {index}  PoC start {parent['poc_start_block_height']}  "
         f"effective from {parent['effective_block_height']}  unit of compute price "
         f"{parent['unit_of_compute_price']}")
    _print_group("parent group", parent)
    for group in sub_groups:
        _print_group(f"model {group['model_id']}", group)


def _print_group(title: str, group: dict[str, Any]) -> None:
    echo(f"{title}: group {group['epoch_group_id']}, "
         f"{len(group['validation_weights'])} members, total weight "
         f"{group['total_weight']}")
    for weight in group["validation_weights"]:
        nodes = ", ".join(_node_text(node) for node in weight["ml_nodes"])
        suffix = f"  nodes: {nodes}" if nodes else ""
        echo(f"  {weight['member_address']}  weight {weight['weight']}  "
             f"reputation {weight['reputation']}{suffix}")


def _node_text(node: dict[str, Any]) -> str:
    slot = " POC_SLOT" if node["timeslot_allocation"][1:2] == [True] else ""
    return f"{node['node_id']} (poc weight {node['poc_weight']}{slot})"


# ----- proto JSON of EpochGroupData ----------------------------------------------------


def group_json(group: dict[str, Any]) -> dict[str, Any]:
    """Return an EpochGroupData in proto JSON: field order, 64-bit ints as strings."""
    from inferctl.genesis.protojson import encode

    return {
        "poc_start_block_height": str(group["poc_start_block_height"]),
        "epoch_group_id": str(group["epoch_group_id"]),
        "epoch_policy": group["epoch_policy"],
        "effective_block_height": str(group["effective_block_height"]),
        "last_block_height": str(group["last_block_height"]),
        "member_seed_signatures": [
            {"member_address": s["member_address"], "signature": s["signature"]}
            for s in group["member_seed_signatures"]
        ],
        "validation_weights": [_weight_json(w) for w in group["validation_weights"]],
        "unit_of_compute_price": str(group["unit_of_compute_price"]),
        "number_of_requests": str(group["number_of_requests"]),
        "previous_epoch_requests": str(group["previous_epoch_requests"]),
        "validation_params": encode("ValidationParams", group["validation_params"]),
        "total_weight": str(group["total_weight"]),
        "model_id": group["model_id"],
        "sub_group_models": list(group["sub_group_models"]),
        "epoch_index": str(group["epoch_index"]),
        "model_snapshot": encode("Model", group["model_snapshot"]),
        "total_throughput": str(group["total_throughput"]),
    }


def _weight_json(weight: dict[str, Any]) -> dict[str, Any]:
    return {
        "member_address": weight["member_address"],
        "weight": str(weight["weight"]),
        "reputation": int(weight["reputation"]),
        "ml_nodes": [
            {"node_id": node["node_id"], "throughput": str(node["throughput"]),
             "poc_weight": str(node["poc_weight"]),
             "timeslot_allocation": list(node["timeslot_allocation"])}
            for node in weight["ml_nodes"]
        ],
    }
