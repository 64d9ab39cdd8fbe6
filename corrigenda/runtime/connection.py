"""What a failed connection was, in words a user can act on: refused, DNS, TLS, a real timeout, or a dropped
connection.

The HTTP stack wraps the cause several layers deep, and the aiohttp transport reports every failure to connect
(a refused connection, an unknown host, a TLS error) as `ConnectTimeout`; so the whole cause chain is searched for the
root before anything is called a timeout.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

REFUSED = "refused"
DNS = "dns"
TLS = "tls"
CONNECT_TIMEOUT = "connect timeout"
UNREACHABLE = "unreachable"  # no route, network down: the OS said so at once
TIMEOUT = "timeout"  # connected, but no answer in time
DROPPED = "dropped"  # connected, then the server closed the connection without answering
OTHER = "other"

# Kinds that mean no connection could be made at all: the endpoint is down, misnamed or misconfigured, not slow.
CONNECTING = frozenset({REFUSED, DNS, TLS, CONNECT_TIMEOUT, UNREACHABLE})

_DROPPED_NAMES = {"ServerDisconnectedError", "RemoteProtocolError", "ClientOSError", "ReadError"}
_CONNECT_TIMEOUT_NAMES = {"ConnectTimeout", "ConnectionTimeoutError"}
_CONNECT_NAMES = {"ConnectError", *_CONNECT_TIMEOUT_NAMES}  # httpx's and aiohttp's "could not connect"
_TIMEOUT_NAMES = {"ReadTimeout", "WriteTimeout", "PoolTimeout", "SocketTimeoutError", "APITimeoutError"}


@dataclass(frozen=True)
class ConnectionFailure:
    kind: str
    text: str  # names the kind first, then the host and the transport's words

    @property
    def connecting(self) -> bool:
        """No connection was made: retrying at once will not help, and a long streak means the endpoint is down."""
        return self.kind in CONNECTING


def host_of(url: str) -> str:
    """`host:port` of a URL, with the scheme's default port, for messages."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname or url}:{port}"


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 20:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _words(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def classify(
    exc: BaseException, url: str, timeout_s: float, setting: str = "", connect_s: float | None = None
) -> ConnectionFailure:
    """Name a failure of the HTTP client (openai, httpx or aiohttp exceptions, in any wrapping). `setting` names the
    spec field that sets `timeout_s`; `connect_s` is the limit on connecting, when shorter."""
    chain, host = _chain(exc), host_of(url)
    names = {type(e).__name__ for e in chain}
    for error in chain:  # the root causes first: they say what really happened
        if isinstance(error, ConnectionRefusedError):
            return ConnectionFailure(REFUSED, f"connection refused by {host} (nothing listening there)")
        if isinstance(error, socket.gaierror):
            return ConnectionFailure(DNS, f"DNS lookup failed for {urlsplit(url).hostname}: {_words(error)}")
        if isinstance(error, ssl.SSLError | ssl.CertificateError):
            return ConnectionFailure(TLS, f"TLS handshake with {host} failed: {_words(error)}")
    timed_out = bool(names & _TIMEOUT_NAMES) or any(isinstance(e, TimeoutError) for e in chain)
    if any(name in _CONNECT_NAMES or name.startswith("ClientConnector") for name in names):  # while connecting
        for error in chain:
            if isinstance(error, OSError) and not isinstance(error, TimeoutError) and error.errno is not None:
                return ConnectionFailure(UNREACHABLE, f"cannot connect to {host}: {_words(error)}")
        if timed_out or names & _CONNECT_TIMEOUT_NAMES:
            limit = connect_s if connect_s is not None else timeout_s
            return ConnectionFailure(CONNECT_TIMEOUT, f"no connection to {host} within {limit:g} s (timed out)")
        return ConnectionFailure(UNREACHABLE, f"cannot connect to {host}: {_words(chain[-1])}")
    if names & _DROPPED_NAMES or any(isinstance(e, ConnectionResetError | BrokenPipeError) for e in chain):
        return ConnectionFailure(DROPPED, f"{host} closed the connection without answering")
    if timed_out:
        where = f" ({setting})" if setting else ""
        return ConnectionFailure(TIMEOUT, f"timed out: no answer from {host} within {timeout_s:g} s{where}")
    return ConnectionFailure(OTHER, f"connection error with {host}: {_words(chain[-1])}")
