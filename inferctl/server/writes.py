"""Reads and writes of the ledger on behalf of HTTP requests.

A write goes through `inferctl.ledger.session.commit`, the same validate-and-append
path as the command line, as one commit per request. An in-process lock queues the
server's own writers before they reach the ledger's file lock, so parallel requests
wait in turn instead of polling the file lock. The file lock still guards against
other processes, such as a CLI command run next to the server.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from inferctl.errors import LedgerLocked
from inferctl.server.app import HttpError, Request

log = logging.getLogger("inferctl.server")


def read(request: Request) -> tuple[dict[str, Any], Any]:
    """Return the latest state and head record, without any lock."""
    from inferctl.ledger.session import read_state

    return read_state(request.config.home)


def commit(request: Request, txs: Any) -> Any:
    """Commit transactions (or a builder) for one request; return the CommitResult."""
    from inferctl.ledger.session import commit as ledger_commit

    timeout = request.config.lock_timeout
    started = time.monotonic()
    if not request.write_lock.acquire(timeout=timeout):
        raise LedgerLocked(
            f"ledger at {request.config.home} is busy: other requests held it for "
            f"{timeout:g}s",
            hint="retry the request",
        )
    try:
        remaining = max(0.0, timeout - (time.monotonic() - started))
        result = ledger_commit(request.config.home, txs, lock_timeout=remaining)
    finally:
        request.write_lock.release()
    for text in result.notes:
        log.info("%s %s: %s", request.method, request.path, text)
    return result


def require_participant(request: Request) -> str:
    """Return the participant this server acts for; 404 when it acts for none."""
    participant = request.config.participant
    if participant is None:
        raise HttpError(404, f"{request.path} is off: this server acts for no "
                             "participant; restart inferctl serve with --participant "
                             "ADDR")
    return participant


def require_object(value: Any, what: str) -> dict[str, Any]:
    """Return `value` if it is a JSON object; raise HttpError 400 otherwise."""
    if not isinstance(value, dict):
        from inferctl.server.render import json_type_name

        raise HttpError(400, f"{what}: expected a JSON object, got a JSON "
                             f"{json_type_name(value)}")
    return value
