"""RFC 3339 times with nanosecond precision, as integers of nanoseconds since 1970."""

from __future__ import annotations

import calendar
import os
import re
import time

from inferctl.errors import InvalidInput

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)
NANOS = 1_000_000_000
# RFC 3339 has four-digit years, so 9999-12-31T23:59:59Z is the last time it can write.
MAX_SECONDS = 253_402_300_799


def parse_rfc3339(text: object, *, what: str = "time") -> int:
    """Parse RFC 3339 text (0-9 fractional digits, any offset) into UTC nanoseconds."""
    if not isinstance(text, str):
        raise InvalidInput(f"invalid {what} {text!r}: expected an RFC 3339 string")
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        raise InvalidInput(
            f"invalid {what} {text!r}: not RFC 3339",
            hint="write e.g. 2025-08-22T08:42:00.713839Z",
        )
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    if year < 1:
        raise InvalidInput(f"invalid {what} {text!r}: year 0 does not exist")
    fraction = match.group(7) or ""
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59):
        raise InvalidInput(f"invalid {what} {text!r}: a field is out of range")
    if second > 59 or day > calendar.monthrange(year, month)[1]:
        raise InvalidInput(f"invalid {what} {text!r}: a field is out of range")
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    if match.group(9):
        offset = int(match.group(10)) * 3600 + int(match.group(11)) * 60
        if int(match.group(10)) > 23 or int(match.group(11)) > 59:
            raise InvalidInput(f"invalid {what} {text!r}: offset out of range")
        seconds -= offset if match.group(9) == "+" else -offset
    return seconds * NANOS + int(fraction.ljust(9, "0") or 0)


def format_rfc3339(nanos: int) -> str:
    """Format UTC nanoseconds as RFC 3339 with exactly nine fractional digits and Z."""
    seconds, fraction = divmod(nanos, NANOS)
    parts = time.gmtime(seconds)
    return (
        f"{parts.tm_year:04d}-{parts.tm_mon:02d}-{parts.tm_mday:02d}T"
        f"{parts.tm_hour:02d}:{parts.tm_min:02d}:{parts.tm_sec:02d}.{fraction:09d}Z"
    )


def source_date_epoch() -> int | None:
    """Return SOURCE_DATE_EPOCH in nanoseconds, or None when it is not set."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_SECONDS:
        raise InvalidInput(
            f"invalid SOURCE_DATE_EPOCH {value!r}: expected whole seconds since 1970, "
            f"at most {MAX_SECONDS} (9999-12-31T23:59:59Z)"
        )
    return int(value) * NANOS


def now_nanos() -> int:
    return time.time_ns()
