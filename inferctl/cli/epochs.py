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
    """Record PoC results for the upcoming epoch.

    \b
    Example:
      inferctl poc list
    """


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
    """Form, activate, list and show epochs and their groups.

    \b
    Examples:
      inferctl epoch list
      inferctl epoch show
    """


def _at_any_height_option(function: Any) -> Any:
    return click.option(
        "--at-any-height", is_flag=True,
        help="Run the step even when the chain's next block is not the step's "
        "block; the block height then moves to the step's block.",
    )(function)


@epoch.command("form")
@_at_any_height_option
@write_options
@json_option
def form(at_any_height: bool, home: str, tx_time: str | None, lock_timeout: float,
         as_json: bool) -> None:
    """Form the upcoming epoch from the recorded PoC results and ML nodes.

    Runs the chain's end-of-PoC-validation steps. Weights come from the PoC results
    and from nodes carried over from the last PoC. Then come power capping, model
    assignment with the chain's legacy weight split and the 50 % POC_SLOT choice.
    Last, the parent group and one sub-group per model are filled. A formed epoch
    never changes. It becomes effective with `epoch activate`.

    The formation is the EndBlock step of one block, so this runs when the chain
    is at the block before it (`inferctl chain advance --to-height` that block),
    and moves the chain to it. `inferctl chain advance` runs the step itself.
    With --at-any-height it runs at any block, starting the epoch first if needed.

    \b
    Example:
      inferctl epoch form --at-any-height && inferctl epoch activate --at-any-height
    """
    from inferctl.epochs.context import EndBlockStep
    from inferctl.flow.chain import check_step_height
    from inferctl.flow.epochs import FORM_EPOCH

    def build(state: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        if not at_any_height:
            check_step_height(state, EndBlockStep.FORM_EPOCH)
        return [(FORM_EPOCH, {"epoch_index": upcoming_index(state)})]

    result = commit_txs(home, build, tx_time=tx_time, lock_timeout=lock_timeout)
    summary = result.results[0]
    models = ", ".join(f"{model} ({count})" for model, count in summary["models"].items())
    count = summary["member_count"]
    members = "1 member" if count == 1 else f"{count} members"
    note(None, f"formed epoch {summary['epoch_index']}: {members}, total weight "
               f"{summary['total_weight']}, models: {models or 'none'}")
    report_commit(result, as_json, formation=summary)


@epoch.command("activate")
@_at_any_height_option
@write_options
@json_option
def activate(at_any_height: bool, home: str, tx_time: str | None, lock_timeout: float,
             as_json: bool) -> None:
    """Make the formed upcoming epoch effective (the chain's SetNewValidators).

    From then on executor picks use its groups. The epoch's unit-of-compute price is
    the default param for epoch 1 and the previous epoch's price after that.

    The switch is the EndBlock step of one block, so this runs when the chain is at
    the block before it, or at that block when the formation shares it, and moves
    the chain to it. With --at-any-height it runs at any block.

    \b
    Example:
      inferctl epoch activate --at-any-height --json
    """
    from inferctl.epochs.context import EndBlockStep
    from inferctl.flow.chain import check_step_height
    from inferctl.flow.epochs import SET_NEW_VALIDATORS

    def build(state: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        if not at_any_height:
            check_step_height(state, EndBlockStep.SET_NEW_VALIDATORS)
        return [(SET_NEW_VALIDATORS, {"epoch_index": upcoming_index(state)})]

    result = commit_txs(home, build, tx_time=tx_time, lock_timeout=lock_timeout)
    outcome = result.results[0]
    note(None, f"epoch {outcome['epoch_index']} is effective from block "
               f"{outcome['effective_block_height']} (unit of compute price "
               f"{outcome['unit_of_compute_price']})")
    report_commit(result, as_json, activation=outcome)


# ----- epoch: context ------------------------------------------------------------------

# EpochParams field -> help text of its flag, for `epoch context` without a ledger.
PARAM_FLAGS = {
    "epoch_length": "Blocks between two PoC starts.",
    "epoch_shift": "Moves the first PoC start to epoch_length - epoch_shift.",
    "poc_stage_duration": "Blocks of PoC generation.",
    "poc_exchange_duration": "Blocks after the end of PoC that accept batches.",
    "poc_validation_delay": "Blocks from the end of PoC to PoC validation.",
    "poc_validation_duration": "Blocks of PoC validation; its end forms the epoch.",
    "set_new_validators_delay": "Blocks from formation to the switch.",
    "inference_validation_cutoff": "Blocks before the next PoC start.",
}


def _param_flag_options(function: Any) -> Any:
    for name, text in reversed(PARAM_FLAGS.items()):
        function = click.option(
            f"--{name.replace('_', '-')}", name, type=int, default=None, metavar="N",
            help=f"{text} Implies no ledger (default: from --params, else "
            "gonka's default params).",
        )(function)
    return function


@epoch.command("context")
@click.option("--height", type=click.IntRange(min=0, max=2**63 - 1), default=None,
              metavar="H",
              help="Block height (default: the ledger's block height).")
@click.option("--params", "params_file", default=None, metavar="FILE",
              help="JSON file with the epoch params: a genesis, a params object or "
              "an epoch_params object. Implies no ledger (default: the ledger's "
              "params).")
@_param_flag_options
@click.option("--effective-epoch", type=click.IntRange(min=0, max=2**64 - 1),
              default=None,
              metavar="N", help="Take epoch N as the effective epoch, as the chain's "
              "GetEpochContext does (default: the ledger's, or the schedule's).")
@click.option("--poc-start", type=click.IntRange(min=0, max=2**63 - 1), default=None,
              metavar="S",
              help="PoC start height of --effective-epoch (default: its height on "
              "the schedule).")
@home_option
@json_option
def context(height: int | None, params_file: str | None, effective_epoch: int | None,
            poc_start: int | None, home: str, as_json: bool, **flags: int | None
            ) -> None:
    """Show the epoch phase and every stage height at a block height.

    Without --params or a param flag, the params and the effective epoch come from
    the ledger: its history up to its block height, and each later epoch switching
    on time after it. With them, the chain is assumed to have run on time since
    genesis. --effective-epoch pins the effective epoch instead; a height past the
    switch of the epoch after it is an error, where the chain panics.

    \b
    Example:
      inferctl epoch context --params samples/mainnet-genesis.json --height 385
    """
    from inferctl.flow.chain import epoch_context, given_effective

    overrides = {name: value for name, value in flags.items() if value is not None}
    if poc_start is not None and effective_epoch is None:
        raise click.UsageError("--poc-start needs --effective-epoch")
    state = None
    if params_file is None and not overrides:
        from inferctl.flow.epochs import epoch_params

        state, _head = load_state(home)
        params = epoch_params(state)
        if height is None:
            height = int(state.get("block_height", 0))
    else:
        params = _params_without_ledger(params_file, overrides)
        if height is None:
            raise click.UsageError("--height is required with --params or a param flag")
    given = None
    if effective_epoch is not None:
        given = given_effective(effective_epoch, poc_start, params)
    report = epoch_context(height, params, state=state, given=given)
    if as_json:
        emit_json(report)
        return
    _print_context(report)


def _params_without_ledger(params_file: str | None, overrides: dict[str, int]) -> Any:
    from dataclasses import replace

    from inferctl.epochs.context import DEFAULT_PARAMS
    from inferctl.flow.chain import load_epoch_params

    params = load_epoch_params(params_file) if params_file else DEFAULT_PARAMS
    return replace(params, **overrides)


# (label, stage key) in timeline order, for the text output of `epoch context`.
STAGE_LABELS = (
    ("PoC start", "poc_start"),
    ("PoC wind-down", "poc_wind_down"),
    ("end of PoC", "end_of_poc"),
    ("PoC exchange window", "poc_exchange_window"),
    ("start of PoC validation", "start_of_poc_validation"),
    ("PoC validation wind-down", "poc_validation_wind_down"),
    ("formation (end of PoC validation)", "end_of_poc_validation"),
    ("validation exchange window", "poc_validation_exchange_window"),
    ("switch (SetNewValidators)", "set_new_validators"),
    ("claim money", "claim_money"),
    ("next PoC start", "next_poc_start"),
    ("inference validation cutoff", "inference_validation_cutoff"),
)


def _print_context(report: dict[str, Any]) -> None:
    effective = report["effective_epoch"]
    flags = report["at_height"]
    sources = {"ledger": "from the ledger", "schedule": "assuming epochs switch on time",
               "option": "from --effective-epoch"}
    echo(f"block {report['block_height']}: epoch {report['epoch_index']}, phase "
         f"{report['phase']}")
    echo(f"effective epoch {effective['epoch_index']} (PoC start "
         f"{effective['poc_start_block_height']}), {sources[effective['source']]}")
    limited = flags["executors_limited_to_poc_slots"]
    echo("executors: " + ("only members with a POC_SLOT node" if limited
                          else "every member"))
    echo("")
    stages = report["stages"]
    for label, key in STAGE_LABELS:
        value = stages[key]
        if isinstance(value, dict):
            inside = flags["in_poc_exchange_window" if key == "poc_exchange_window"
                           else "in_validation_exchange_window"]
            text = f"{value['start']}-{value['end']}"
            echo(f"{label:<34} {text:>13}  {'open' if inside else 'closed'}")
        else:
            echo(f"{label:<34} {value:>13}")


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
    count = len(group["validation_weights"])
    members = "1 member" if count == 1 else f"{count} members"
    echo(f"{title}: group {group['epoch_group_id']}, {members}, total weight "
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
    from inferctl.flow.epochs import epoch_group_data_json

    return epoch_group_data_json(group)
