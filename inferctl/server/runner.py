"""Start, run and stop the server of `inferctl serve`."""

from __future__ import annotations

import logging
import signal
import socket
import sys
import threading
from types import FrameType

from inferctl.errors import InferctlError, InvalidInput
from inferctl.server.app import ApiServer, ServerConfig

log = logging.getLogger("inferctl.server")
POLL_INTERVAL = 0.2


def is_loopback(host: str) -> bool:
    """Return True when `host` names a loopback address."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(host: str, allow_remote: bool) -> None:
    """Reject a non-loopback --host without --allow-remote; warn when it is allowed."""
    import click

    if is_loopback(host):
        return
    if not allow_remote:
        raise click.UsageError(
            f"--host {host} is not a loopback address; the API has no authentication, "
            "so pass --allow-remote to listen there anyway")
    click.echo(f"warning: listening on {host}: the API has no authentication, so "
               "anyone who can reach this address can change the ledger", err=True)


def configure_logging() -> None:
    """Send server logs (start, stop, one access line per request) to stderr."""
    import click

    ctx = click.get_current_context(silent=True)
    quiet = bool(ctx and ctx.find_root().obj and ctx.find_root().obj.get("quiet"))
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s",
                                           datefmt="%Y-%m-%dT%H:%M:%S%z"))
    logger = logging.getLogger("inferctl.server")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.WARNING if quiet else logging.INFO)


def check_participant(home: str, participant: str | None) -> None:
    """Check the ledger exists and --participant is an address of its chain."""
    from inferctl.bech32 import check_account_address
    from inferctl.ledger.session import read_state

    state, _head = read_state(home)
    if participant is None:
        return
    try:
        check_account_address(participant, state["prefix"], what="--participant")
    except InvalidInput as exc:
        raise InvalidInput(f"--participant {participant}: {exc.message}",
                           hint=f"pass the participant's {state['prefix']}1... "
                           "account address") from None
    if participant not in state.get("participants", {}):
        log.warning("--participant %s is not a registered participant yet; its nodes "
                    "are recorded but serve only after it joins", participant)


def make_server(config: ServerConfig, host: str, port: int) -> ApiServer:
    """Bind the server; a taken port or unknown host is one clear error."""
    from inferctl.server.routes import build_routes

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as exc:
        raise InvalidInput(f"--host {host}: cannot resolve it: {exc.strerror}") from None
    try:
        return ApiServer((host, port), config, build_routes(), family=family)
    except OSError as exc:
        raise InferctlError(f"cannot listen on {host}:{port}: {exc.strerror}",
                            hint="pass another --port, or stop the process using it"
                            ) from None


def run_server(*, home: str, host: str, port: int, participant: str | None,
               max_body_bytes: int, lock_timeout: float) -> None:
    """Serve until SIGINT or SIGTERM, then finish the requests in flight and return."""
    configure_logging()
    check_participant(home, participant)
    config = ServerConfig(home=home, participant=participant,
                          max_body_bytes=max_body_bytes, lock_timeout=lock_timeout)
    server = make_server(config, host, port)
    install_signal_handlers(server)
    bound_host, bound_port = server.server_address[:2]
    log.info("listening on http://%s:%d (ledger %s, participant %s)",
             _url_host(str(bound_host)), bound_port, home, participant or "none")
    try:
        server.serve_forever(poll_interval=POLL_INTERVAL)
    finally:
        # Closing joins every request thread, so requests in flight finish first.
        server.server_close()
    log.info("stopped")


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def install_signal_handlers(server: ApiServer) -> None:
    """Make SIGINT and SIGTERM stop the accept loop from a helper thread."""
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if stopping.is_set():
            return
        stopping.set()
        log.info("received %s: accepting no new connections, finishing %d request(s) "
                 "in flight", signal.Signals(signum).name, server.in_flight)
        # shutdown() waits for serve_forever to return, so it must not run on the
        # thread that runs serve_forever (this one).
        threading.Thread(target=server.shutdown, name="shutdown", daemon=True).start()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
