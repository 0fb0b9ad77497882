"""inferctl: gonka's model-management flow, offline, on a hash-chained JSON ledger."""

from typing import Any

__version__ = "0.1.0"

# Version of the on-disk ledger layout (records, segments, snapshot). Bumped on any
# change that an older inferctl could misread.
LEDGER_FORMAT = 1

# Set by the command line for commands that run once: a large state parsed from a
# snapshot may then be frozen out of the garbage collector's scans (gc.freeze),
# which in a long-running process would also keep any cyclic garbage of the moment.
freeze_parsed_states = False


# ----- logging, imported on first use -------------------------------------------------
# Importing `logging` costs several milliseconds, about a tenth of a read command's
# start-up, and most commands never log. Library modules therefore take a stand-in
# from get_logger(), and the command line's log settings wait until the first
# record, unless `logging` is already loaded.

# "level": settings not yet applied; "threshold": the level below which records are
# dropped while `logging` is not loaded (30, WARNING, is also Python's default).
_log_settings: dict[str, int] = {"threshold": 30}
_METHOD_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40,
                  "exception": 40, "critical": 50}


def _discard(*args: object, **kwargs: object) -> None:
    return None


class _LazyLogger:
    """Stands in for logging.getLogger(name); imports logging when first used.

    A call below the configured level while `logging` is not loaded is dropped
    without importing it.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attribute: str) -> Any:
        import sys

        level = _METHOD_LEVELS.get(attribute)
        if (level is not None and level < _log_settings["threshold"]
                and "logging" not in sys.modules):
            return _discard
        import logging

        _apply_log_settings()
        return getattr(logging.getLogger(self.name), attribute)


def get_logger(name: str) -> Any:
    """Return a logger for `name` that imports `logging` only when it is used."""
    return _LazyLogger(name)


def set_log_level(level: int) -> None:
    """Send inferctl's log records to stderr from `level` up (a logging level number).

    The handler is installed now when `logging` is loaded, else before the first
    record is logged through get_logger().
    """
    import sys

    _log_settings["level"] = level
    _log_settings["threshold"] = level
    if "logging" in sys.modules:
        _apply_log_settings()


def _apply_log_settings() -> None:
    level = _log_settings.pop("level", None)
    if level is None:
        return
    import logging
    import sys

    class StderrFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return f"{record.levelname.lower()}: {record.getMessage()}"

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(StderrFormatter())
    root = logging.getLogger("inferctl")
    root.handlers[:] = [handler]
    root.propagate = False
    root.setLevel(level)
