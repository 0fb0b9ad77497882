"""`inferctl status`: the chain, the ledger, the epochs and the lock at a glance."""

from __future__ import annotations

import os
from typing import Any

import click

from inferctl.cli.common import echo, emit_json, home_option, json_option


def lock_state(home: str) -> dict[str, Any]:
    """Return whether a writer holds the lock, and who, without waiting for it."""
    import fcntl

    path = os.path.join(home, "lock")
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return {"held": False}
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return {"held": True, "holder": _holder(home)}
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return {"held": False}
    finally:
        os.close(fd)


def _holder(home: str) -> dict[str, Any] | None:
    import orjson

    try:
        with open(os.path.join(home, "lock.json"), "rb") as handle:
            info = orjson.loads(handle.read())
        return info if isinstance(info, dict) else None
    except (OSError, ValueError):
        return None


def collect_status(home: str) -> dict[str, Any]:
    """Gather the status fields from the snapshot and the tail of the ledger."""
    from inferctl.ledger.store import Ledger

    ledger = Ledger(home)
    ledger.require()
    snapshot = ledger.read_snapshot()
    tail, torn = ledger._tail()
    snapshot_state = "missing"
    if snapshot is not None and tail is not None:
        current = snapshot.height == tail.height and snapshot.head == tail.hash
        snapshot_state = "current" if current else "stale"
    from inferctl.ledger.session import read_state

    state, head = read_state(home)
    epochs = state.get("epochs", {})
    effective = state.get("effective_epoch", 0)
    upcoming = str(effective + 1)
    proposals = state.get("proposals", {}).values()
    open_proposals = sum(1 for p in proposals
                         if p.get("status") == "PROPOSAL_STATUS_VOTING_PERIOD")
    nodes = sum(len(by_id) for by_id in state.get("hardware", {}).values())
    return {
        "chain_id": state.get("chain_id"),
        "ledger": {"home": os.path.abspath(home), "height": head.height,
                   "head_hash": head.hash, "time": head.time,
                   "torn_bytes": len(torn)},
        "block_height": state.get("block_height", 0),
        "phase": epoch_phase(state),
        "effective_epoch": effective,
        "upcoming_epoch": int(upcoming) if upcoming in epochs else None,
        "counts": {"models": len(state.get("models", {})),
                   "participants": len(state.get("participants", {})),
                   "nodes": nodes, "open_proposals": open_proposals},
        "lock": lock_state(home),
        "snapshot": snapshot_state,
    }


def epoch_phase(state: dict[str, Any]) -> str | None:
    """Return the epoch phase at the chain's block height, such as `Inference`.

    Returns None where gonka's GetEpochContext would fail, so status always works.
    """
    from inferctl.errors import InferctlError
    from inferctl.flow.chain import epoch_context
    from inferctl.flow.epochs import epoch_params

    height = int(state.get("block_height", 0))
    try:
        report = epoch_context(height, epoch_params(state), state=state)
    except InferctlError:
        return None
    phase: str = report["phase"]
    return phase


@click.command("status")
@home_option
@json_option
def status(home: str, as_json: bool) -> None:
    """Show the chain, ledger, epoch and lock state at a glance.

    The snapshot is "current" when it matches the last record, "stale" when a writer
    has appended but not yet replaced it (reads catch up on their own), and "missing"
    when it was deleted (the next command rebuilds it).

    \b
    Example:
      inferctl status --home ./state
    """
    info = collect_status(home)
    if as_json:
        emit_json(info)
        return
    ledger = info["ledger"]
    counts = info["counts"]
    lock = info["lock"]
    holder = lock.get("holder") or {}
    lock_text = "free"
    if lock["held"]:
        lock_text = (f"held by pid {holder.get('pid', '?')} since "
                     f"{holder.get('since', '?')}")
    upcoming = info["upcoming_epoch"]
    phase = f" (phase {info['phase']})" if info["phase"] else ""
    echo(f"home             {ledger['home']}")
    echo(f"chain id         {info['chain_id']}")
    echo(f"ledger           height {ledger['height']}, head {ledger['head_hash']}")
    echo(f"ledger time      {ledger['time']}")
    echo(f"block height     {info['block_height']}{phase}")
    echo(f"effective epoch  {info['effective_epoch']}")
    echo(f"upcoming epoch   {upcoming if upcoming is not None else '-'}")
    echo(f"models           {counts['models']}")
    echo(f"participants     {counts['participants']}")
    echo(f"nodes            {counts['nodes']}")
    echo(f"open proposals   {counts['open_proposals']}")
    echo(f"lock             {lock_text}")
    echo(f"snapshot         {info['snapshot']}")
