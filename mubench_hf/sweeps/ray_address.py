"""Checking a Ray cluster address before a sweep does any work.

``ray.init(address=...)`` waits for a cluster that is not there for a very long time (an address whose
port nothing listens on hangs a sweep for ever) and prints Ray's own traceback for an address it cannot
parse. So, before any splits are built: the address must read ``HOST:PORT`` (or ``ray://HOST:PORT``, or
``auto``); its port must accept a TCP connection within a few seconds; and a child process must join the
cluster and report its resources within ``timeout`` seconds (a child can be killed; a hung ``ray.init`` in
this process could not), which also lets the sweep refuse a cell larger than the cluster at once.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass

from ..errors import MubenchError

RAY_ADDRESS_ENV = "RAY_ADDRESS"
AUTO = "auto"  # the cluster that `ray start` left on this machine (found through Ray's own files)
LOCAL = "local"  # Ray's name for a private instance started here
CLIENT_PREFIX = "ray://"
CONNECT_SECONDS = (
    5.0  # a TCP connect to a live host answers in milliseconds; this leaves room for a slow link
)
DEFAULT_TIMEOUT = 60.0  # joining a cluster: importing ray and a few round trips take a few seconds

_PROBE = """
import json, sys
import ray
ray.init(address=sys.argv[1], log_to_driver=False, logging_level="ERROR")
try:
    print("MUBENCH-RAY-RESOURCES " + json.dumps(ray.cluster_resources()), flush=True)
finally:
    ray.shutdown()
"""


@dataclass(frozen=True)
class RayAddress:
    """A cluster address as given (``text``) and where it came from (``--address`` or RAY_ADDRESS)."""

    text: str
    source: str
    host: str | None = None  # None for "auto"
    port: int | None = None

    @property
    def where(self) -> str:
        return f"{self.source} {self.text!r}" if self.source == "--address" else f"{self.source}={self.text}"


def resolve_address(given: str | None) -> RayAddress | None:
    """The cluster to join: ``--address``, else ``RAY_ADDRESS``; ``None`` (or ``local``) for a private
    instance. A malformed address is a ``MubenchError`` that says what a good one looks like."""
    if given is not None:
        text, source = given.strip(), "--address"
    else:
        text, source = os.environ.get(RAY_ADDRESS_ENV, "").strip(), RAY_ADDRESS_ENV
        if not text:
            return None
    if text == LOCAL:
        return None
    if text == AUTO:
        return RayAddress(text, source)
    hint = (
        "give the HOST:PORT that `ray start --head` prints (e.g. 127.0.0.1:6379), ray://HOST:PORT for Ray "
        "Client, or 'auto' for the cluster started on this machine"
    )
    where = f"{source} {text!r}" if source == "--address" else f"{source}={text!r}"
    rest = text[len(CLIENT_PREFIX) :] if text.startswith(CLIENT_PREFIX) else text
    host, sep, port_text = rest.rpartition(":")
    host = host.strip("[]")  # an IPv6 address is written [::1]:6379
    if not sep or not host or "/" in rest or "://" in rest:
        raise MubenchError(f"{where} is not a Ray cluster address; {hint}")
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise MubenchError(f"{where}: the port {port_text!r} is not a number from 1 to 65535; {hint}")
    return RayAddress(text, source, host, port)


def check_reachable(address: RayAddress, seconds: float = CONNECT_SECONDS) -> None:
    """A TCP connection to the address's port within ``seconds``, else a ``MubenchError``."""
    if address.host is None:
        return
    try:
        infos = socket.getaddrinfo(address.host, address.port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise MubenchError(
            f"{address.where}: the host {address.host!r} is unknown ({err.strerror}); check the address that "
            "`ray start --head` printed"
        ) from None
    family, kind, proto, _, sockaddr = infos[0]
    try:
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(seconds)
            sock.connect(sockaddr)
    except OSError as err:
        why = (
            f"no answer within {seconds:g} s" if isinstance(err, TimeoutError) else (err.strerror or str(err))
        )
        raise MubenchError(
            f"no Ray cluster answers at {address.where} ({why}); start one there with "
            "`ray start --head`, pass the address it prints, or leave --address out (and unset RAY_ADDRESS) "
            "for a private instance on this machine"
        ) from None


def probe_cluster(address: RayAddress, timeout: float = DEFAULT_TIMEOUT) -> dict[str, float]:
    """Join the cluster from a child process and return its resources (``ray.cluster_resources()``);
    a ``MubenchError`` when that fails or takes longer than ``timeout`` seconds (the child is killed)."""
    env = {k: v for k, v in os.environ.items() if k != RAY_ADDRESS_ENV}
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, address.text],
            capture_output=True, text=True, timeout=timeout, env=env,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise MubenchError(
            f"joining the Ray cluster at {address.where} took longer than {timeout:g} s (something answers "
            "there, but not as a Ray cluster does); check the address, or raise --ray-timeout for a slow cluster"
        ) from None
    for line in done.stdout.splitlines():
        if line.startswith("MUBENCH-RAY-RESOURCES "):
            resources = json.loads(line.split(" ", 1)[1])
            return {str(k): float(v) for k, v in resources.items()}
    errors = [line for line in done.stderr.splitlines() if "Error" in line]
    why = errors[-1].strip() if errors else (done.stderr.strip().splitlines() or ["no output"])[-1]
    raise MubenchError(
        f"cannot join the Ray cluster at {address.where} ({why[:300]}); start one with `ray start --head` and "
        "pass the address it prints, or leave --address out for a private instance"
    )
