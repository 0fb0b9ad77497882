"""`inferctl serve`: gonka's admin and query HTTP API over the ledger."""

from __future__ import annotations

import click

from inferctl.cli.common import home_option

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, metavar="ADDR",
              help="Address to listen on. Anything but loopback needs --allow-remote.")
@click.option("--port", type=click.IntRange(0, 65535), default=9200, show_default=True,
              metavar="PORT", help="TCP port to listen on (0 picks a free port).")
@click.option("--participant", default=None, metavar="ADDR",
              help="Account address (bech32) this API node acts for: it owns the nodes "
              "and proposes the models of the admin endpoints (default: none, which "
              "turns the admin endpoints off).")
@click.option("--allow-remote", is_flag=True,
              help="Allow a --host other than loopback. The API has no authentication.")
@click.option("--max-body-bytes", type=click.IntRange(min=1), default=1024 * 1024,
              show_default=True, metavar="N",
              help="Largest request body in bytes; larger bodies get 413.")
@click.option("--lock-timeout", type=click.FloatRange(min=0), default=10.0,
              show_default=True, metavar="SECONDS",
              help="How long a write request waits for the ledger before 503.")
@home_option
def serve(host: str, port: int, participant: str | None, allow_remote: bool,
          max_body_bytes: int, lock_timeout: float, home: str) -> None:
    """Serve gonka's admin and query HTTP API over the ledger.

    Admin endpoints (/admin/v1/...) act for --participant; every write is one ledger
    transaction, the same one the matching CLI command appends. Chain queries
    (/productscience/inference/inference/...) and the public API (/v1/...) read the
    latest state. SIGINT or SIGTERM stops accepting connections, lets the requests
    in flight finish, and exits 0. One access-log line per request goes to stderr.

    \b
    Example:
      inferctl serve --home ./state --port 9200 \\
        --participant gonka1y2a9p56kv044327uycmqdexl7zs82fs5ryv5le
    """
    from inferctl.server.runner import check_host, run_server

    check_host(host, allow_remote)
    run_server(home=home, host=host, port=port, participant=participant,
               max_body_bytes=max_body_bytes, lock_timeout=lock_timeout)
