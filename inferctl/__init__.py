"""inferctl: gonka's model-management flow, offline, on a hash-chained JSON ledger."""

__version__ = "0.1.0"

# Version of the on-disk ledger layout (records, segments, snapshot). Bumped on any
# change that an older inferctl could misread.
LEDGER_FORMAT = 1
