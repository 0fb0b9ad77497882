"""`inferctl proposal …`: vote on, tally, list and show governance proposals."""

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

PROPOSAL_ID = click.IntRange(0, 2**64 - 1)


@click.group("proposal")
def proposal() -> None:
    """Vote on, tally, list and show governance proposals.

    \b
    Examples:
      inferctl proposal list
      inferctl proposal show 1
    """


@proposal.command("vote")
@click.argument("proposal_id", metavar="ID", type=PROPOSAL_ID)
@click.argument(
    "option",
    metavar="OPTION",
    type=click.Choice(["yes", "no", "abstain", "no_with_veto"], case_sensitive=False),
)
@click.option(
    "--voter",
    required=True,
    metavar="ADDR",
    help="Account that votes; its voting power counts at the tally.",
)
@click.option(
    "--metadata", default="", metavar="TEXT", help="Vote metadata. Default empty."
)
@write_options
def vote(
    proposal_id: int,
    option: str,
    voter: str,
    metadata: str,
    home: str,
    tx_time: str | None,
    lock_timeout: float,
) -> None:
    """Vote yes, no, abstain or no_with_veto on a proposal in its voting period.

    A later vote by the same voter replaces the earlier one. Votes are accepted
    until the voting end time (ledger time, set with --time).

    \b
    Example:
      inferctl proposal vote 1 yes \\
        --voter gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le \\
        --time 2025-09-01T01:00:00Z
    """
    from inferctl.flow import gov

    body = {
        "proposal_id": proposal_id,
        "voter": voter,
        "option": gov.VOTE_OPTIONS[option.lower()],
        "metadata": metadata,
    }
    result = commit_txs(
        home, [(gov.VOTE, body)], tx_time=tx_time, lock_timeout=lock_timeout
    )
    if result.records:
        note(None, f"proposal {proposal_id}: {voter} voted {body['option']}")


@proposal.command("tally")
@click.argument("proposal_id", metavar="ID", type=PROPOSAL_ID)
@write_options
@json_option
def tally(
    proposal_id: int, home: str, tx_time: str | None, lock_timeout: float, as_json: bool
) -> None:
    """Count the votes of a proposal whose voting period is over, and decide it.

    Uses the gov params of the genesis (quorum, threshold, veto threshold) and the
    current voting power. A passed proposal registers its model in the same
    transaction. A failed expedited proposal becomes a regular one, as in Cosmos.
    Prints the new status.

    \b
    Example:
      inferctl proposal tally 1 --time 2025-09-03T00:00:00Z
    """
    from inferctl.flow import gov

    result = commit_txs(
        home,
        [(gov.TALLY, {"proposal_id": proposal_id})],
        tx_time=tx_time,
        lock_timeout=lock_timeout,
    )
    decided = result.results[0]
    if as_json:
        emit_json({"proposal": gov.proposal_json(decided)})
        return
    note(None, f"proposal {proposal_id}: {decided['tally_outcome']}")
    echo(decided["status"])


@proposal.command("list")
@home_option
@json_option
def list_command(home: str, as_json: bool) -> None:
    """List proposals in id order with status, voting end time and title.

    \b
    Example:
      inferctl proposal list --json
    """
    from inferctl.cli.models import print_table
    from inferctl.flow import gov
    from inferctl.timeutil import format_rfc3339

    state, _head = load_state(home)
    entries = gov.list_proposals(state)
    if as_json:
        emit_json({"proposals": [gov.proposal_json(p) for p in entries]})
        return
    rows: list[tuple[str, ...]] = [("ID", "STATUS", "VOTING_END_TIME", "TITLE")]
    for entry in entries:
        rows.append(
            (
                str(entry["id"]),
                entry["status"],
                format_rfc3339(entry["voting_end_time"]),
                entry["title"],
            )
        )
    print_table(rows)


@proposal.command("show")
@click.argument("proposal_id", metavar="ID", type=PROPOSAL_ID)
@home_option
@json_option
def show(proposal_id: int, home: str, as_json: bool) -> None:
    """Show one proposal: status, times, tally, votes and its messages.

    The JSON form uses gov v1 Proposal field names; `votes` and `tally_outcome`
    are inferctl additions.

    \b
    Example:
      inferctl proposal show 1 --json
    """
    from inferctl.flow import gov

    state, _head = load_state(home)
    encoded = gov.proposal_json(gov.get_proposal(state, proposal_id))
    if as_json:
        emit_json({"proposal": encoded})
        return
    _print_proposal(encoded)


def _print_proposal(encoded: dict[str, Any]) -> None:
    from inferctl.flow import gov

    for name in (
        "id",
        "status",
        "title",
        "summary",
        "proposer",
        "metadata",
        "expedited",
        "submit_time",
        "voting_start_time",
        "voting_end_time",
        "failed_reason",
        "tally_outcome",
    ):
        value = encoded[name]
        if isinstance(value, bool):
            value = "true" if value else "false"
        echo(f"{name}: {value}")
    echo(f"total_deposit: {gov.coins_text(encoded['total_deposit'])}")
    tally_counts = encoded["final_tally_result"]
    echo(
        "final_tally_result: " + ", ".join(f"{k} {v}" for k, v in tally_counts.items())
    )
    for vote_entry in encoded["votes"]:
        echo(f"vote: {vote_entry['voter']} {vote_entry['options'][0]['option']}")
    for message in encoded["messages"]:
        echo(f"message: {message['@type']} id={message['id']}")
