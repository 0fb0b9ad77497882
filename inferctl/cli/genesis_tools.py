"""`inferctl genesis init` and `inferctl genesis diff`."""

from __future__ import annotations

import click

from inferctl.cli.common import echo, emit_json, home_option, json_option, note


def _genesis_time_ns(text: str | None) -> int:
    """Return --genesis-time, else SOURCE_DATE_EPOCH, else now, in nanoseconds."""
    from inferctl import timeutil

    if text is not None:
        return timeutil.parse_rfc3339(text, what="--genesis-time")
    from_environment = timeutil.source_date_epoch()
    if from_environment is not None:
        return from_environment
    return timeutil.now_nanos()


@click.command("init")
@click.option("--chain-id", required=True, metavar="ID",
              help="Chain id written to the genesis, e.g. gonka-local.")
@click.option("--genesis-time", metavar="RFC3339", default=None,
              help="Genesis time (default: SOURCE_DATE_EPOCH, else now).")
@click.option("--config", "config_path", metavar="FILE.toml", default=None,
              help="TOML file with params, gov params, models and participants "
                   "(default: none, the template as is).")
@click.option("--lock-timeout", type=click.FloatRange(min=0), default=10.0,
              show_default=True, metavar="SECONDS",
              help="How long to wait for another writer to release the ledger lock.")
@home_option
@json_option
def init(chain_id: str, genesis_time: str | None, config_path: str | None,
         lock_timeout: float, home: str, as_json: bool) -> None:
    """Start a new ledger from the built-in genesis template and an optional config.

    The template has gonka's default inference params, the mainnet gov params and
    no models, participants or accounts. --config overrides any of them (see
    docs/config.md and samples/testnet.toml). The genesis document goes through
    the same checks as `genesis import`; the ledger's first record is stamped with
    the genesis time. Refuses to start over an existing ledger.

    \b
    Example:
      inferctl genesis init --chain-id gonka-testnet \\
          --genesis-time 2025-01-01T00:00:00Z --config samples/testnet.toml
    """
    from inferctl.cli.genesis import create_ledger
    from inferctl.genesis.codec import dump_json
    from inferctl.genesis.config import build_genesis

    genesis_time_ns = _genesis_time_ns(genesis_time)
    doc = build_genesis(chain_id, genesis_time_ns, config_path)
    source = config_path or "built-in genesis template"
    summary = create_ledger(home, dump_json(doc), source, lock_timeout=lock_timeout,
                            label="init")
    if as_json:
        emit_json(summary)
        return
    note(None, f"started ledger at {home}: chain {summary['chain_id']}, "
               f"{summary['models']} models, {summary['participants']} participants")
    echo(f"{summary['height']} {summary['hash']}")


@click.command("diff")
@click.argument("file_a", metavar="A")
@click.argument("file_b", metavar="B")
@json_option
@click.pass_context
def diff(ctx: click.Context, file_a: str, file_b: str, as_json: bool) -> None:
    """Compare two genesis files by meaning; exit 1 when they differ.

    Prints one line per differing JSON path, `PATH: VALUE_A != VALUE_B`, and
    nothing when the files are equal. Forms that give the chain the same state
    count as equal. Key order and whitespace never count. In app_state.inference,
    integers as numbers or strings, enums as numbers or names, fields missing or
    at their default, and the order of model_list (by id) and participant_list
    (by address) do not count either. RFC 3339 times of the same instant are
    equal everywhere. docs/config.md lists every rule.

    \b
    Example:
      inferctl genesis export -o exported-genesis.json
      inferctl genesis diff samples/mainnet-genesis.json exported-genesis.json
    """
    from inferctl.genesis.diff import MISSING, diff_files, render_value

    result = diff_files(file_a, file_b)
    for text in result.notes:
        note(None, text)
    if as_json:
        emit_json({
            "a": file_a,
            "b": file_b,
            "equal": not result.differences,
            "differences": [item.as_json() for item in result.differences],
        })
    else:
        for item in result.differences:
            left = "<missing>" if item.a is MISSING else render_value(item.a)
            right = "<missing>" if item.b is MISSING else render_value(item.b)
            echo(f"{item.path}: {left} != {right}")
    if result.differences:
        from inferctl.errors import ExitCode

        ctx.exit(int(ExitCode.FAILURE))
