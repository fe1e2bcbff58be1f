"""Non-blocking UDP endpoint carrying link datagrams (one or more frames per datagram).

Never blocks: a send that the kernel cannot take now is counted and reported (False), a receive
drains what is queued. The receive buffer is enlarged (best effort) so a burst of a contact
window is not dropped by the kernel while the node is busy. Pure Python, no ROS.
"""

from __future__ import annotations

import errno
import operator
import socket

from sbamti.link.errors import LinkError

__all__ = ["MAX_DATAGRAM_BYTES", "UdpEndpoint"]

MAX_DATAGRAM_BYTES = 65_507          # largest UDP payload over IPv4
_RECEIVE_SIZE = 65_536


def _port(field: str, value: object) -> int:
    try:
        port = operator.index(value)
    except TypeError:
        raise LinkError(f"{field}: expected an integer port, received {value!r}") from None
    if not 0 <= port <= 65_535:
        raise LinkError(f"{field}: {port} outside [0, 65535]")
    return port


def _resolve(field: str, host: object, port: int) -> tuple[int, tuple]:
    """(address family, socket address) of ``host``:``port`` (numeric or a resolvable name)."""
    if not isinstance(host, str) or not host:
        raise LinkError(f"{field}: expected a host name or address, received {host!r}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM, proto=socket.IPPROTO_UDP)
    except (socket.gaierror, UnicodeError) as exc:
        raise LinkError(f"{field}: cannot resolve {host!r}: {exc}") from None
    family, _, _, _, sockaddr = infos[0]
    return family, sockaddr


class UdpEndpoint:
    """A bound, non-blocking UDP socket.

    Parameters
    ----------
    bind_host, bind_port : local address; port 0 picks an ephemeral port (see :attr:`address`).
    peer : default destination (host, port) of :meth:`send`, or None.
    receive_buffer_bytes : requested SO_RCVBUF (best effort: the kernel may cap it, see
        :attr:`receive_buffer_bytes`).

    Counters: sent, received, send_would_block (kernel buffer full, datagram dropped),
    send_errors (e.g. network unreachable; the link must survive that).
    """

    def __init__(self, bind_host: str = "127.0.0.1", bind_port: int = 0, *,
                 peer: tuple[str, int] | None = None, receive_buffer_bytes: int = 4 * 1024 * 1024) -> None:
        bind_port = _port("bind_port", bind_port)
        family, sockaddr = _resolve("bind_host", bind_host, bind_port)
        self._peer = None if peer is None else self._destination("peer", peer, family)
        self._family = family
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self._sock.setblocking(False)
            try:
                self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(receive_buffer_bytes))
            except OSError:
                pass  # best effort
            self._sock.bind(sockaddr)
        except OSError as exc:
            self._sock.close()
            raise LinkError(f"bind_host, bind_port: cannot bind {bind_host!r}:{bind_port}: {exc.strerror or exc}") from None
        self._resolved: dict[tuple, tuple] = {}
        self.counters = {"sent": 0, "received": 0, "send_would_block": 0, "send_errors": 0}

    @staticmethod
    def _destination(field: str, addr: object, family: int) -> tuple:
        try:
            host, port = addr[0], addr[1]  # type: ignore[index]
        except (TypeError, IndexError, KeyError):
            raise LinkError(f"{field}: expected (host, port), received {addr!r}") from None
        port = _port(f"{field} port", port)
        if port == 0:
            raise LinkError(f"{field} port: 0 is not a destination port")
        peer_family, sockaddr = _resolve(f"{field} host", host, port)
        if peer_family != family:
            raise LinkError(f"{field}: {addr!r} is not reachable from a socket of family {family!r}")
        return sockaddr

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port), with the actual port when bind_port was 0."""
        name = self._require_open().getsockname()
        return name[0], name[1]

    @property
    def peer(self) -> tuple | None:
        return self._peer

    @property
    def receive_buffer_bytes(self) -> int:
        """SO_RCVBUF as granted by the kernel (Linux reports twice the usable size)."""
        return self._require_open().getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)

    def fileno(self) -> int:
        """The socket's descriptor (for select/poll)."""
        return self._require_open().fileno()

    def _require_open(self) -> socket.socket:
        if self._sock is None:
            raise LinkError("endpoint: closed")
        return self._sock

    def send(self, datagram: bytes, addr: tuple[str, int] | None = None) -> bool:
        """Send one datagram to ``addr`` (default: ``peer``); True if the kernel took it.

        False (and a counter) when the send buffer is full or the network refuses it: the link
        treats that as a lost datagram. LinkError for a datagram above 65,507 octets or no
        destination.
        """
        sock = self._require_open()
        if len(datagram) > MAX_DATAGRAM_BYTES:
            raise LinkError(f"datagram: {len(datagram)} octets exceeds the UDP limit {MAX_DATAGRAM_BYTES}")
        if addr is None:
            if self._peer is None:
                raise LinkError("addr: no destination given and no peer configured")
            destination = self._peer
        else:
            try:
                destination = self._resolved.get(addr)       # type: ignore[arg-type]
            except TypeError:                                # unhashable: validated below
                destination = None
            if destination is None:
                destination = self._destination("addr", addr, self._family)
                if isinstance(addr, tuple):
                    if len(self._resolved) >= 64:
                        self._resolved.clear()
                    self._resolved[addr] = destination
        try:
            sock.sendto(datagram, destination)
        except BlockingIOError:
            self.counters["send_would_block"] += 1
            return False
        except OSError as exc:
            if exc.errno == errno.EMSGSIZE:
                raise LinkError(f"datagram: {len(datagram)} octets refused as too large by the kernel") from None
            self.counters["send_errors"] += 1
            return False
        self.counters["sent"] += 1
        return True

    def receive_all(self, max_datagrams: int = 1024) -> list[tuple[bytes, tuple]]:
        """Every queued datagram, up to ``max_datagrams``, as (payload, sender address); never blocks."""
        sock = self._require_open()
        out = []
        while len(out) < max_datagrams:
            try:
                data, addr = sock.recvfrom(_RECEIVE_SIZE)
            except (BlockingIOError, InterruptedError):
                break
            except ConnectionRefusedError:
                continue  # ICMP port unreachable from an earlier send: not a datagram
            out.append((data, addr))
        self.counters["received"] += len(out)
        return out

    def close(self) -> None:
        """Close the socket (idempotent)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    @property
    def closed(self) -> bool:
        return self._sock is None

    def __enter__(self) -> UdpEndpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
