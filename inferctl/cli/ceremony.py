"""`inferctl genesis collect | patch | hash`: the genesis ceremony, file to file."""

from __future__ import annotations

import os
import sys

import click

from inferctl.cli.common import echo, emit_json, json_option, note


def _write_output(output: str, data: bytes) -> None:
    """Write bytes to a file atomically, or to standard output for `-`."""
    if output == "-":
        sys.stdout.buffer.write(data)
        return
    from inferctl.ledger.store import atomic_write

    atomic_write(os.path.abspath(output), data)


def _reject_json_to_stdout(output: str, as_json: bool) -> None:
    if output == "-" and as_json:
        raise click.UsageError(
            "--json prints the summary on standard output, so -o - cannot be used "
            "with it; write the genesis to a file"
        )


def _output_option(function):
    return click.option(
        "-o", "--output", metavar="FILE", required=True,
        help="Where to write the new genesis (`-` for standard output). The file is "
        "replaced atomically.",
    )(function)


@click.command("collect")
@click.option(
    "--genparticipant-dir", metavar="DIR", required=True,
    help="Directory of signed genparticipant-*.json files, applied in file-name order.",
)
@click.option(
    "--gentx-dir", metavar="DIR", default=None,
    help="Directory of signed gentx-*.json files to add to app_state.genutil.gen_txs "
    "(default: none).",
)
@click.option("-i", "--input", "genesis_file", metavar="GENESIS", required=True,
              help="The draft genesis file to collect into.")
@_output_option
@json_option
def collect(genparticipant_dir: str, gentx_dir: str | None, genesis_file: str,
            output: str, as_json: bool) -> None:
    """Collect signed genparticipant and gentx files into a genesis.

    Every signature is checked against the genesis chain_id with account number 0,
    and the signer must be the participant and the granter of every grant (for a
    gentx: the validator). Each participant is upserted into participant_list,
    each grant into app_state.authz.authorization, and grantees without an account
    get one. The result depends only on the inputs: join_time is the genesis_time.

    \b
    Example:
      inferctl genesis collect --genparticipant-dir samples/ceremony/genparticipants \\
        --gentx-dir samples/ceremony/gentxs -i samples/mainnet-genesis.json \\
        -o collected.json
    """
    from inferctl.ceremony.collect import collect_genesis
    from inferctl.ceremony.patch import file_sha256
    from inferctl.jsonio import read_bytes

    _reject_json_to_stdout(output, as_json)
    data = read_bytes(genesis_file, what="genesis file")
    result = collect_genesis(data, genesis_file, genparticipant_dir, gentx_dir)
    if not result.genparticipant_files:
        note(None, f"no genparticipant-*.json files in {genparticipant_dir}; "
                   "participants unchanged")
    _write_output(output, result.data)
    digest = file_sha256(result.data)
    summary = {
        "output": output, "sha256": digest,
        "chain_id": result.chain_id,
        "genparticipant_files": result.genparticipant_files,
        "gentx_files": result.gentx_files, "participants": result.participants,
        "replaced_participants": result.replaced_participants,
        "grants_added": result.grants_added, "grants_replaced": result.grants_replaced,
        "accounts": result.accounts, "gentxs_added": result.gentxs_added,
        "gentxs_present": result.gentxs_present,
    }
    if as_json:
        emit_json(summary)
        return
    note(None, f"collected {len(result.participants)} participants "
               f"({len(result.replaced_participants)} replaced), "
               f"{result.grants_added} new and {result.grants_replaced} replaced "
               f"grants, {len(result.accounts)} new accounts, "
               f"{result.gentxs_added} gentxs ({result.gentxs_present} already "
               f"present) into {output}")
    if output != "-":
        echo(digest)


@click.command("patch")
@click.argument("genesis_file", metavar="GENESIS")
@click.option(
    "--overrides", "override_files", metavar="FILE", multiple=True, required=True,
    help="JSON override file merged like `jq '. * input'`. Repeat the option for "
    "several files; they are applied in the order given.",
)
@_output_option
@click.option(
    "--merge-arrays-by", "array_key", metavar="KEY", default=None,
    help="Merge arrays of objects element by element on KEY (e.g. id for "
    "model_list) instead of replacing them (default: replace).",
)
@json_option
def patch(genesis_file: str, override_files: tuple[str, ...], output: str,
          array_key: str | None, as_json: bool) -> None:
    """Merge JSON override files into a genesis, as gonka's genesis scripts do.

    Objects are merged key by key; arrays and other values in an override replace
    the genesis value. Numbers are copied exactly: 64-bit integers, decimal text
    and strings such as "25_000_000" pass through unchanged.

    \b
    Example:
      inferctl genesis patch samples/mainnet-genesis.json \\
        --overrides samples/ceremony/overrides.json --merge-arrays-by id \\
        -o patched.json
    """
    from inferctl.ceremony.patch import file_sha256, patch_genesis
    from inferctl.jsonio import read_bytes

    _reject_json_to_stdout(output, as_json)
    data = read_bytes(genesis_file, what="genesis file")
    overrides = [(name, read_bytes(name, what="override file"))
                 for name in override_files]
    result = patch_genesis(data, genesis_file, overrides, array_key=array_key)
    _write_output(output, result.data)
    if as_json:
        emit_json({
            "output": output, "sha256": file_sha256(result.data),
            "overrides": [{"file": name, "changed": report.changed,
                           "added": report.added} for name, report in result.reports],
        })
        return
    for name, report in result.reports:
        note(None, f"{name}: {len(report.changed)} values changed, "
                   f"{len(report.added)} added")
    if output != "-":
        echo(file_sha256(result.data))


@click.command("hash")
@click.argument("file", metavar="FILE")
@click.option(
    "--canonical", is_flag=True,
    help="Hash the canonical form (sorted keys, no whitespace, exact numbers) "
    "instead of the file bytes, so re-indenting does not change the digest.",
)
@json_option
def hash_command(file: str, canonical: bool, as_json: bool) -> None:
    """Print the SHA-256 digest of a genesis file, as a ceremony publishes it.

    Without --canonical the digest covers the exact file bytes.

    \b
    Example:
      inferctl genesis hash samples/mainnet-genesis.json
    """
    from inferctl.ceremony.patch import canonical_sha256, file_sha256
    from inferctl.jsonio import read_bytes

    data = read_bytes(file, what="genesis file")
    digest = canonical_sha256(data, file) if canonical else file_sha256(data)
    if as_json:
        emit_json({"file": file, "algorithm": "sha256",
                   "form": "canonical" if canonical else "file", "digest": digest,
                   "bytes": len(data)})
        return
    echo(digest)
