"""`inferctl address` and `inferctl validator-key`: test identities for local ledgers.

Both are derived from a name by hashing, so anyone can recompute them and no
private key is known for them. They can fill address and key fields on an offline
ledger, but they can never sign a transaction on a real chain.
"""

from __future__ import annotations

import base64
import hashlib

import click

from inferctl.cli.common import echo, emit_json, json_option
from inferctl.errors import InvalidInput

VALIDATOR_KEY_DOMAIN = "validator-key:"


def derive_validator_key(name: str) -> str:
    """Return base64 of sha256("validator-key:" + name), an ED25519-sized key."""
    digest = hashlib.sha256((VALIDATOR_KEY_DOMAIN + name).encode()).digest()
    return base64.b64encode(digest).decode()


def _check_name(name: str) -> None:
    if name == "":
        raise InvalidInput(
            "the name must not be empty", hint="pass a name such as alice"
        )


def _check_prefix(prefix: str) -> None:
    valid = prefix != "" and all(33 <= ord(c) <= 126 for c in prefix)
    if not valid or prefix.lower() != prefix or len(prefix) > 83:
        raise InvalidInput(
            f"invalid --prefix {prefix!r}: expected lower-case ASCII such as gonka",
        )


@click.command("address")
@click.argument("name")
@click.option(
    "--prefix",
    default="gonka",
    show_default=True,
    metavar="HRP",
    help="Bech32 human-readable prefix of the address.",
)
@json_option
def address(name: str, prefix: str, as_json: bool) -> None:
    """Print a deterministic test account address for NAME.

    The address is bech32 of the first 20 bytes of sha256(NAME). It is a test
    identity: no private key for it is known, so it can never sign a
    transaction on a real chain. Needs no ledger.

    \b
    Example:
      inferctl address alice
    """
    from inferctl.bech32 import test_address

    _check_name(name)
    _check_prefix(prefix)
    result = test_address(name, prefix)
    if as_json:
        emit_json({"name": name, "prefix": prefix, "address": result})
    else:
        echo(result)


@click.command("validator-key")
@click.argument("name")
@json_option
def validator_key(name: str, as_json: bool) -> None:
    """Print a deterministic test validator key for NAME (base64, 32 bytes).

    The key is sha256("validator-key:" + NAME), which has the size of an ED25519
    public key. It is a test identity: it is not derived from a private key, so
    no one can sign with it. Needs no ledger.

    \b
    Example:
      inferctl validator-key alice
    """
    _check_name(name)
    key = derive_validator_key(name)
    if as_json:
        emit_json({"name": name, "validator_key": key})
    else:
        echo(key)
