"""The exception hierarchy and the exit codes that the command line maps it to.

Library code raises these; the command line turns them into one `error: …` line and
an exit code in exactly one place (`inferctl.cli.main`).
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit codes. Scripts depend on these numbers; never renumber them."""

    OK = 0
    FAILURE = 1  # generic failure; also `genesis diff` when the files differ
    USAGE = 2  # bad command line (click's own code)
    INVALID_INPUT = 3  # a value, file or transaction was rejected
    NOT_FOUND = 4  # a model, node, participant, proposal, epoch or ledger is missing
    VERIFY_FAILED = 5  # the ledger is damaged or was tampered with
    LOCKED = 6  # another process holds the ledger lock past --lock-timeout
    CONFLICT = 7  # the request contradicts the state (e.g. ledger already exists)
    IO_ERROR = 8  # the file system failed (disk full, read-only, permissions)
    NO_EXECUTOR = 9  # no member can be picked for a model


class InferctlError(Exception):
    """Root of every error that inferctl reports to a user.

    `hint` is the next step for the user; it is appended to the message on the `error:` line.
    """

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}; {self.hint}"
        return self.message


class InvalidInput(InferctlError, ValueError):
    """A value, file or transaction body breaks a rule."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(
        self, message: str, *, hint: str | None = None, problems: list[str] | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems or []


class NotFound(InferctlError, LookupError):
    exit_code = ExitCode.NOT_FOUND


class Conflict(InferctlError):
    exit_code = ExitCode.CONFLICT


class ChainBroken(InferctlError):
    """The ledger failed verification: damage or tampering, never a torn tail."""

    exit_code = ExitCode.VERIFY_FAILED

    def __init__(
        self, message: str, *, height: int | None = None, path: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.height = height
        self.path = path


class LedgerLocked(InferctlError, TimeoutError):
    exit_code = ExitCode.LOCKED


class StorageError(InferctlError, OSError):
    """The file system refused a read or write (disk full, read-only, permissions)."""

    exit_code = ExitCode.IO_ERROR


class NoExecutor(InferctlError):
    """No member of the effective epoch can be picked for the requested model."""

    exit_code = ExitCode.NO_EXECUTOR
