"""`inferctl ledger …`: verify, log, show and repair the hash-chained ledger."""

from __future__ import annotations

import click

from inferctl.cli.common import (
    ProgressBar,
    echo,
    emit_json,
    home_option,
    json_option,
    note,
)


@click.group("ledger")
def ledger() -> None:
    """Verify, inspect and repair the hash-chained ledger.

    \b
    Examples:
      inferctl ledger verify
      inferctl ledger log --limit 5
    """


@ledger.command("verify")
@click.option("--from", "start", type=click.IntRange(min=1), default=1, metavar="H",
              show_default=True, help="First height to check.")
@click.option("--replay", is_flag=True,
              help="Also replay every record and compare the result with the snapshot.")
@home_option
@json_option
def verify(start: int, replay: bool, home: str, as_json: bool) -> None:
    """Check every record's hash, link, height and time, and the genesis document.

    Exits 5 and names the first bad height and its file when the ledger is damaged.

    \b
    Example:
      inferctl ledger verify --home ./state
    """
    from inferctl.errors import ChainBroken
    from inferctl.ledger.store import Ledger, verify_ledger

    target = Ledger(home)
    bar = ProgressBar("verifying records")
    try:
        report = verify_ledger(target, start, progress=bar)
    except ChainBroken as exc:
        if exc.hint and "ledger verify" in exc.hint:
            # The generic hint points here; inside verify, say what can be done.
            exc.hint = ("restore the ledger directory from a backup; `inferctl ledger "
                        "repair` fixes only a torn tail or the snapshot")
        raise
    finally:
        bar.close()
    matches = None
    if replay:
        matches = _replay_matches_snapshot(target)
    if report.torn_bytes:
        note(None, f"warning: {report.torn_bytes} bytes of a torn write follow the "
                   f"last record; the next write drops them")
    if report.snapshot in ("missing", "damaged", "stale"):
        note(None, f"warning: snapshot is {report.snapshot}; it is derived data and "
                   f"the next write or `inferctl ledger repair` rebuilds it")
    payload = {"ok": True, "from": start, "records": report.records,
               "head_height": report.head_height, "head_hash": report.head_hash,
               "snapshot": report.snapshot, "torn_bytes": report.torn_bytes}
    if replay:
        payload["replay_matches_snapshot"] = matches
    if as_json:
        emit_json(payload)
    else:
        echo(f"ok: {report.records} records from height {start}, head "
             f"{report.head_height} {report.head_hash}")


def _replay_matches_snapshot(target) -> bool:
    from inferctl.canonical import canonical_bytes
    from inferctl.errors import ChainBroken

    snapshot = target.read_snapshot()
    state, last = target.replay()
    if snapshot is None or last is None or snapshot.height != last.height:
        return False
    if canonical_bytes(snapshot.state) != canonical_bytes(state):
        raise ChainBroken(
            f"snapshot at height {snapshot.height} differs from a full replay",
            path=target.snapshot_path,
            hint="run `inferctl ledger repair` to rebuild it",
        )
    return True


@ledger.command("log")
@click.option("--limit", type=click.IntRange(min=0, max=2**31), default=20,
              show_default=True,
              metavar="N", help="Show the last N records (0: all).")
@home_option
@json_option
def log_command(limit: int, home: str, as_json: bool) -> None:
    """List records, newest last: height, time, type and hash.

    \b
    Example:
      inferctl ledger log --limit 5
    """
    from collections import deque

    from inferctl.ledger.store import Ledger

    target = Ledger(home)
    target.require()
    records = deque(target.iter_records(1), maxlen=limit or None)
    if as_json:
        emit_json({"records": [
            {"height": r.height, "time": r.time, "type": r.type, "hash": r.hash}
            for r in records]})
        return
    from inferctl.cli.output import page_lines

    page_lines(f"{record.height:>6}  {record.time}  {record.type}  {record.hash[:19]}…"
               for record in records)


@ledger.command("show")
@click.argument("height", type=click.IntRange(min=1))
@home_option
@json_option
def show(height: int, home: str, as_json: bool) -> None:
    """Print one record in full.

    \b
    Example:
      inferctl ledger show 1
    """
    import orjson

    from inferctl.ledger.store import Ledger

    target = Ledger(home)
    target.require()
    record = target.record_at(height)
    if as_json:
        emit_json({"record": record.as_dict()})
        return
    echo(orjson.dumps(record.as_dict(), option=orjson.OPT_INDENT_2).decode())


@ledger.command("repair")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--lock-timeout", type=click.FloatRange(min=0), default=10.0,
              show_default=True, metavar="SECONDS",
              help="How long to wait for another writer to release the ledger lock.")
@home_option
@json_option
def repair(yes: bool, lock_timeout: float, home: str, as_json: bool) -> None:
    """Drop a torn last write and rebuild the snapshot; never hides tampering.

    Every record is verified first. If any record is damaged or was edited, repair
    stops with the same error as `ledger verify` and changes nothing.

    \b
    Example:
      inferctl ledger repair --yes
    """
    from inferctl.ledger.repair import repair_ledger

    outcome = repair_ledger(home, confirm=None if yes else _confirm,
                            lock_timeout=lock_timeout)
    if as_json:
        emit_json(outcome)
        return
    echo(f"repaired: dropped {outcome['dropped_bytes']} torn bytes, snapshot rebuilt "
         f"at height {outcome['height']}")


def _confirm(message: str) -> bool:
    return click.confirm(message, default=False, err=True)
