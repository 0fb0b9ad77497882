"""`inferctl genesis …`: import, init, validate, export, diff, patch, collect, hash."""

from __future__ import annotations

import os
import shutil

import click

from inferctl.cli.common import (
    echo,
    emit_json,
    home_option,
    json_option,
    lazy_group,
    load_state,
    note,
    write_options,
)

LAZY = {
    "diff": ("inferctl.cli.genesis_tools", "diff", "Compare two genesis files."),
    "init": ("inferctl.cli.genesis_tools", "init",
             "Start a ledger from the embedded default genesis."),
    "patch": ("inferctl.cli.ceremony", "patch", "Merge override files into a genesis."),
    "collect": ("inferctl.cli.ceremony", "collect",
                "Collect signed genparticipant and gentx files into a genesis."),
    "hash": ("inferctl.cli.ceremony", "hash_command",
             "Print the digest a genesis ceremony publishes."),
}


@lazy_group("genesis", LAZY)
def genesis() -> None:
    """Import, create, validate, export, diff and patch gonka genesis files.

    \b
    Examples:
      inferctl genesis validate samples/mainnet-genesis.json
      inferctl genesis import samples/mainnet-genesis.json --home ./mainnet
    """


def create_ledger(home: str, data: bytes, source: str, *, lock_timeout: float,
                  label: str) -> dict:
    """Start a new ledger at `home` from genesis bytes; leave nothing behind on failure."""
    from inferctl.genesis.codec import parse_genesis
    from inferctl.ledger.session import commit
    from inferctl.ledger.store import Ledger
    from inferctl.timeutil import format_rfc3339
    from inferctl.txs import GENESIS

    parsed = parse_genesis(data, source)
    ledger = Ledger(home)
    if os.path.isfile(home):
        ledger.require()
    if ledger.exists():
        from inferctl.errors import Conflict

        raise Conflict(f"a ledger already exists at {home}",
                       hint="use another --home, or remove the directory to start over")
    before = set(os.listdir(home)) if os.path.isdir(home) else None

    def build(state: dict) -> list:
        from inferctl.flow.genesis_tx import parsed_documents

        digest = ledger.store_document(data)
        parsed_documents[digest] = parsed
        body = {"chain_id": parsed.chain_id, "document": digest, "source": label}
        return [(GENESIS, body)]

    try:
        result = commit(home, build, create=True, lock_timeout=lock_timeout,
                        explicit_time=format_rfc3339(parsed.genesis_time_ns))
    except BaseException:
        _remove_new_entries(home, before)
        raise
    record = result.records[0]
    return {"height": record.height, "hash": record.hash, "chain_id": parsed.chain_id,
            "document": record.body["document"], "models": len(parsed.models),
            "participants": len(parsed.participants)}


def _remove_new_entries(home: str, before: set[str] | None) -> None:
    if before is None:
        shutil.rmtree(home, ignore_errors=True)
        return
    for name in set(os.listdir(home)) - before:
        path = os.path.join(home, name)
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass


@genesis.command("import")
@click.argument("file", metavar="FILE")
@write_options
@json_option
def import_command(file: str, home: str, tx_time: str | None, lock_timeout: float,
                   as_json: bool) -> None:
    """Start a new ledger from an existing gonka genesis file.

    The record time of the genesis transaction is the file's genesis_time. FILE may be
    `-` for standard input. Refuses to start over an existing ledger.

    \b
    Example:
      inferctl genesis import samples/mainnet-genesis.json --home ./state
    """
    from inferctl.cli.filekind import GENESIS, expect_kind
    from inferctl.jsonio import read_bytes

    data = read_bytes(file, what="genesis file")
    with expect_kind(data, file, GENESIS):
        summary = create_ledger(home, data, file, lock_timeout=lock_timeout,
                                label="import")
    if as_json:
        emit_json(summary)
        return
    note(None, f"imported {file}: chain {summary['chain_id']}, "
               f"{summary['models']} models, {summary['participants']} participants")
    echo(f"{summary['height']} {summary['hash']}")


@genesis.command("validate")
@click.argument("file", metavar="FILE")
@json_option
def validate_command(file: str, as_json: bool) -> None:
    """Check a genesis file with the import rules, without a ledger.

    Also checks that Cosmos integer strings such as gov deposit amounts parse the way
    the chain parses them (base 0, so "25_000_000" is accepted).

    \b
    Example:
      inferctl genesis validate samples/mainnet-genesis.json
    """
    from inferctl.ceremony.patch import check_integer_strings
    from inferctl.cli.filekind import GENESIS, expect_kind
    from inferctl.errors import InvalidInput
    from inferctl.genesis.codec import validate_genesis
    from inferctl.jsonio import read_bytes

    data = read_bytes(file, what="genesis file")
    with expect_kind(data, file, GENESIS):
        parsed = validate_genesis(data, file)
    problems = [f"{file}: {problem}" for problem in check_integer_strings(parsed.doc)]
    if problems:
        raise InvalidInput(f"{file}: {len(problems)} problems; first: {problems[0]}",
                           problems=problems)
    summary = {"file": file, "valid": True, "chain_id": parsed.chain_id,
               "models": len(parsed.models), "participants": len(parsed.participants)}
    if as_json:
        emit_json(summary)
    else:
        echo(f"{file}: valid ({parsed.chain_id}, {len(parsed.models)} models, "
             f"{len(parsed.participants)} participants)")


@genesis.command("export")
@click.option("-o", "--output", metavar="FILE", default="-", show_default=True,
              help="Where to write the genesis (`-` for standard output).")
@click.option("--height", type=click.IntRange(min=1), default=None, metavar="H",
              help="Export the state at ledger height H (default: the head).")
@home_option
def export_command(output: str, height: int | None, home: str) -> None:
    """Write the genesis of the ledger state, as the real chain's InitGenesis takes it.

    \b
    Example:
      inferctl genesis export -o exported-genesis.json
    """
    data = export_bytes(home, height)
    if output == "-":
        import sys

        sys.stdout.buffer.write(data)
        return
    from inferctl.ledger.store import atomic_write

    atomic_write(os.path.abspath(output), data)
    note(None, f"wrote {output} ({len(data)} bytes)")


def export_bytes(home: str, height: int | None) -> bytes:
    """Return the exported genesis of the state at `height` (default: the head)."""
    from inferctl.genesis.codec import export_genesis
    from inferctl.ledger.store import Ledger

    ledger = Ledger(home)
    if height is None:
        state, _head = load_state(home)
    else:
        ledger.require()
        state, last = ledger.replay(upto=height)
        if last is None or last.height < height:
            from inferctl.errors import NotFound

            raise NotFound(f"no record at height {height}",
                           hint="see `inferctl ledger log` for the heights")
    from inferctl.jsonio import loads_strict

    doc = loads_strict(ledger.read_document(state["genesis_document"]), "genesis document")
    return export_genesis(
        doc,
        params=state["params"],
        genesis_only_params=state["genesis_only_params"],
        cosm_wasm_params=_with_wasm_code(state["cosm_wasm_params"], doc),
        models=list(state["models"].values()),
        participants=list(state["participants"].values()),
    )


def _with_wasm_code(params: dict | None, doc: dict) -> dict | None:
    """Put back the cw20 wasm code, which the state leaves in the genesis document."""
    if params is None or "cw20_code" in params:
        return params
    original = doc.get("app_state", {}).get("inference", {}).get("cosm_wasm_params")
    if not isinstance(original, dict) or "cw20_code" not in original:
        return params
    return {"cw20_code": original["cw20_code"], **params}
