"""The writer's file lock: a kernel `flock` on the ledger's `lock` file.

This is the lock that the `filelock` package takes on Unix (an exclusive,
non-blocking `flock`, tried again until a timeout), without the package's import
cost of about 35 ms, which every write command would pay. The kernel drops the lock
when its process dies, so a crashed writer never blocks anyone. Where `fcntl` does
not exist (Windows), `filelock` is used.
"""

from __future__ import annotations

import os
import time
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class Timeout(TimeoutError):
    """The lock was not free within the timeout."""


class FileLock:
    """An exclusive lock on `path`, held from acquire() to release()."""

    def __init__(self, path: str, *, timeout: float, poll_interval: float = 0.05) -> None:
        self.path = path
        self.timeout = timeout
        self.poll_interval = poll_interval
        self._fd: int | None = None
        self._fallback: Any = None  # a filelock.FileLock where fcntl is missing

    def acquire(self) -> None:
        """Wait up to `timeout` seconds for the lock; raise Timeout after that."""
        if fcntl is None:  # pragma: no cover - Windows
            self._acquire_with_filelock()
            return
        deadline = time.monotonic() + self.timeout
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            if self._try_lock(fd):
                self._fd = fd
                return
            if time.monotonic() >= deadline:
                raise Timeout(self.path)
            time.sleep(self.poll_interval)

    def _try_lock(self, fd: int) -> bool:
        """Lock `fd` or close it; False when another process holds the lock."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        # A lock on a file that was removed meanwhile guards nothing; try again.
        if os.fstat(fd).st_nlink == 0:
            os.close(fd)
            return False
        return True

    def release(self) -> None:
        """Release the lock (closing the file descriptor drops the flock)."""
        if self._fallback is not None:  # pragma: no cover - Windows
            self._fallback.release()
            self._fallback = None
            return
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def _acquire_with_filelock(self) -> None:  # pragma: no cover - Windows
        import filelock

        lock = filelock.FileLock(self.path, timeout=self.timeout,
                                 poll_interval=self.poll_interval)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise Timeout(self.path) from None
        self._fallback = lock
