"""`inferctl executor …`: pick executors for a model as the chain's query does."""

from __future__ import annotations

from typing import Any

import click

from inferctl import get_logger
from inferctl.cli.common import echo, emit_json, home_option, json_option, load_state

log = get_logger("inferctl.executor")

MODEL_HELP = ('Model id, compared exactly; "" picks from the parent group, which '
              "holds every member of the epoch.")
PHASE_HELP = ("Epoch phase of the pick: inference keeps every member, poc keeps only "
              "members with a POC_SLOT node for the model (default: the phase the "
              "chain uses at its block height).")


@click.group("executor")
def executor() -> None:
    """Pick executors for a model, as the chain's query does.

    \b
    Example:
      inferctl executor list --model Qwen/QwQ-32B
    """


def _phase_option(function: Any) -> Any:
    return click.option("--phase", type=click.Choice(["inference", "poc"]),
                        default=None, help=PHASE_HELP)(function)


def find_candidates(state: dict[str, Any], model_id: str, phase: str | None) -> Any:
    """Return the pick's candidates, in the block height's phase unless one is given."""
    from inferctl.flow.executor import candidates, candidates_at_height

    if phase is not None:
        return candidates(state, model_id, phase)
    found = candidates_at_height(state, model_id)
    log.info("phase %s at block %d", found.phase, state.get("block_height", 0))
    return found


@executor.command("pick")
@click.option("--model", "model_id", required=True, metavar="ID", help=MODEL_HELP)
@click.option("--seed", type=click.IntRange(min=0), default=None, metavar="S",
              help="Seed of the draw; the same ledger and seed give the same picks "
              "(default: a random seed, shown with -v).")
@click.option("--count", type=click.IntRange(min=1, max=1_000_000), default=1,
              show_default=True, metavar="N", help="Number of picks, drawn in turn.")
@_phase_option
@home_option
@json_option
def pick(model_id: str, seed: int | None, count: int, phase: str | None, home: str,
         as_json: bool) -> None:
    """Pick a member of the effective epoch to run an inference of a model.

    Each pick is a member of the model's sub-group, drawn with probability
    proportional to its epoch weight among the first 100 members by address, as
    the chain's GetRandomExecutor query does. The draw is
    random.Random(S).randrange(total weight), so a seed repeats every pick.
    From a PoC start through the switch block, only members with a POC_SLOT node
    for the model can be picked, as on chain.

    \b
    Example:
      inferctl executor pick --model Qwen/QwQ-32B --seed 7 --count 3
    """
    from inferctl.flow.executor import inference_url, pick_many

    # Lazy: a pick reads the routing table and a few participants, not the state.
    state, _head = load_state(home, lazy=True)
    found = find_candidates(state, model_id, phase)
    if seed is None:
        import secrets

        seed = secrets.randbits(63)
    log.info("seed %d", seed)
    picks = [
        {"address": member.address, "inference_url": inference_url(state, member.address),
         "weight": member.weight}
        for member in pick_many(found, seed, count)
    ]
    if as_json:
        emit_json({"epoch_index": found.epoch_index, "model_id": model_id,
                   "phase": found.phase, "block_height": state.get("block_height", 0),
                   "seed": seed, "total_weight": found.total, "picks": picks})
        return
    for row in picks:
        echo(f"{row['address']}  {row['inference_url'] or '-'}  weight {row['weight']}"
             f"  epoch {found.epoch_index}")


@executor.command("list")
@click.option("--model", "model_id", required=True, metavar="ID", help=MODEL_HELP)
@_phase_option
@home_option
@json_option
def list_command(model_id: str, phase: str | None, home: str, as_json: bool) -> None:
    """List the members a pick draws from, with weights and exact probabilities.

    Text output rounds each probability to 4 decimals. --json gives it exactly, as
    a reduced fraction {"numerator", "denominator"}.

    \b
    Example:
      inferctl executor list --model Qwen/QwQ-32B --json
    """
    from inferctl.flow.executor import MAX_LISTED_MEMBERS

    state, _head = load_state(home)
    found = find_candidates(state, model_id, phase)
    rows = []
    for member in found.members:
        chance = found.probability(member)
        rows.append({"address": member.address, "weight": member.weight,
                     "probability": {"numerator": chance.numerator,
                                     "denominator": chance.denominator}})
    if as_json:
        emit_json({"epoch_index": found.epoch_index, "model_id": model_id,
                   "phase": found.phase, "block_height": state.get("block_height", 0),
                   "member_count": found.member_count,
                   "total_weight": found.total, "members": rows})
        return
    for row, member in zip(rows, found.members, strict=True):
        echo(f"{row['address']}  weight {row['weight']}  "
             f"{format_probability(found.probability(member))}")
    if found.member_count > MAX_LISTED_MEMBERS:
        log.warning("only the first %d of %d members by address can be picked",
                    len(rows), found.member_count)


def format_probability(chance: Any) -> str:
    """Format a Fraction in [0, 1] with 4 decimals, rounding half up, exactly."""
    scaled = (chance.numerator * 20000 + chance.denominator) // (2 * chance.denominator)
    return f"{scaled // 10000}.{scaled % 10000:04d}"
