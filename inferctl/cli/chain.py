"""`inferctl chain …`: move the chain block height forward, running EndBlock steps."""

from __future__ import annotations

from typing import Any

import click

from inferctl.cli.common import (
    commit_txs,
    echo,
    emit_json,
    json_option,
    note,
    write_options,
)


@click.group("chain")
def chain() -> None:
    """Move the chain block height forward, running EndBlock steps.

    \b
    Example:
      inferctl chain advance --blocks 1
    """


@chain.command("advance")
@click.option("--blocks", type=click.IntRange(min=1), default=None, metavar="N",
              help="Number of blocks to advance. Exactly one of --blocks, --to-height "
              "and --to is required.")
@click.option("--to-height", type=click.IntRange(min=0), default=None, metavar="H",
              help="Block height to advance to. Exactly one of --blocks, --to-height "
              "and --to is required.")
@click.option("--to", "to_stage", type=click.Choice(["next-epoch"]), default=None,
              help="next-epoch: advance through the switch block (SetNewValidators) "
              "of the upcoming epoch. Exactly one of --blocks, --to-height and --to "
              "is required.")
@write_options
@json_option
def advance(blocks: int | None, to_height: int | None, to_stage: str | None, home: str,
            tx_time: str | None, lock_timeout: float, as_json: bool) -> None:
    """Advance the chain block height, running the chain's epoch steps on the way.

    At the heights the epoch params give, this runs gonka's EndBlock epoch steps
    in EndBlock order: formation of the upcoming epoch at the end of PoC
    validation, the switch (SetNewValidators), and the next epoch's record at its
    PoC start. Each step is its own ledger record, and the blocks in between are
    AdvanceBlocks records. All records are one batch: if any step fails, for
    example a formation in which no participant qualifies, nothing is written.
    --to next-epoch needs PoC results for the upcoming epoch.

    \b
    Example:
      inferctl chain advance --blocks 10
      inferctl chain advance --to-height 300
    """
    from inferctl.flow.chain import plan_advance, resolve_target

    chosen = [blocks is not None, to_height is not None, to_stage is not None]
    if chosen.count(True) != 1:
        raise click.UsageError("give exactly one of --blocks, --to-height and --to")
    plans: list[Any] = []

    def build(state: dict[str, Any]) -> Any:
        target = resolve_target(state, blocks=blocks, to_height=to_height,
                                next_epoch=to_stage == "next-epoch")
        plans.append(plan_advance(state, target))
        return plans[0].txs

    result = commit_txs(home, build, tx_time=tx_time, lock_timeout=lock_timeout)
    plan = plans[0]
    steps = _step_reports(plan, result)
    for step in steps:
        note(None, _step_text(step))
    if not result.records:
        note(None, f"the chain is already at block {plan.target}")
    else:
        note(None, f"the chain is at block {plan.target}")
    _report(result, plan, steps, as_json)


def _step_reports(plan: Any, result: Any) -> list[dict[str, Any]]:
    """Pair each EndBlock step of the plan with its record's result."""
    from inferctl.flow.chain import ADVANCE_BLOCKS

    outcomes = [outcome for record, outcome in zip(result.records, result.results,
                                                   strict=True)
                if record.type != ADVANCE_BLOCKS]
    return [{"block_height": step.height, "step": str(step.step),
             "epoch_index": step.epoch_index, "result": outcome}
            for step, outcome in zip(plan.steps, outcomes, strict=True)]


def _step_text(step: dict[str, Any]) -> str:
    outcome = step["result"]
    prefix = f"block {step['block_height']}: epoch {step['epoch_index']}"
    if step["step"] == "start_poc":
        return f"{prefix} starts its PoC"
    if step["step"] == "form_epoch":
        models = ", ".join(f"{model} ({count})"
                           for model, count in outcome["models"].items())
        count = outcome["member_count"]
        members = "1 member" if count == 1 else f"{count} members"
        return (f"{prefix} formed with {members}, total weight "
                f"{outcome['total_weight']}, models: {models or 'none'}")
    return (f"{prefix} is effective (unit of compute price "
            f"{outcome['unit_of_compute_price']})")


def _report(result: Any, plan: Any, steps: list[dict[str, Any]], as_json: bool
            ) -> None:
    records = [{"height": r.height, "hash": r.hash, "type": r.type}
               for r in result.records]
    if as_json:
        emit_json({"from_height": plan.start, "block_height": plan.target,
                   "steps": steps, "records": records})
        return
    for record in records:
        echo(f"{record['height']} {record['hash']}")
