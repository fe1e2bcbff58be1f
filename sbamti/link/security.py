"""Link security: per-SA key derivation, the keyring and its key file, and the anti-replay window.

Authentication follows the shape of CCSDS 355.0-B (Space Data Link Security): a security
association is named by a 16-bit SPI; the security header carries the SPI and a sequence number;
the trailer carries a MAC (here HMAC-SHA-256 truncated to 16 octets). Only authentication, no
encryption. Keys never appear in messages or reprs.
"""

from __future__ import annotations

import hmac
import os
import string

from sbamti.link.errors import LinkError
from sbamti.link.packets import Direction

__all__ = ["MIN_MASTER_KEY_BYTES", "Keyring", "ReplayWindow", "derive_key"]

MIN_MASTER_KEY_BYTES = 16
_SPI_MAX = 0xFFFF
_SEQUENCE_MAX = 0xFFFF_FFFF
_HEX_DIGITS = frozenset(string.hexdigits)


def _check_spi(spi: int) -> None:
    if not isinstance(spi, int) or not 0 <= spi <= _SPI_MAX:
        raise LinkError(f"spi: {spi!r} is not an integer in 0..{_SPI_MAX}")


def derive_key(master: bytes, spi: int, direction: Direction) -> bytes:
    """The 32-octet MAC key of security association ``spi`` in ``direction``.

    HMAC-SHA-256(master, b"sbamti-link/v1/" + direction + spi as u16 big-endian): one master key
    may serve several SPIs (a wildcard entry), yet every SA and each direction gets its own key, so
    a frame captured on one cannot be replayed as valid on another.
    """
    _check_spi(spi)
    info = b"sbamti-link/v1/" + Direction(direction).value.encode() + spi.to_bytes(2, "big")
    return hmac.digest(master, info, "sha256")


class Keyring:
    """Master keys by SPI (``None``: the wildcard that serves every SPI without an entry of its own)."""

    __slots__ = ("_cache", "_masters")

    def __init__(self, masters: dict[int | None, bytes]) -> None:
        self._masters: dict[int | None, bytes] = {}
        for spi, master in masters.items():
            if spi is not None:
                _check_spi(spi)
            if not isinstance(master, (bytes, bytearray)):
                raise LinkError(f"master key for spi {'*' if spi is None else spi}: not bytes "
                                f"({type(master).__name__})")
            if len(master) < MIN_MASTER_KEY_BYTES:
                raise LinkError(f"master key for spi {'*' if spi is None else spi}: {len(master)} octets, "
                                f"need at least {MIN_MASTER_KEY_BYTES}")
            self._masters[spi] = bytes(master)
        if not self._masters:
            raise LinkError("keyring: no master keys given")
        self._cache: dict[tuple[int, Direction], bytes] = {}

    @classmethod
    def from_masters(cls, masters: dict[int | None, bytes]) -> Keyring:
        """A keyring from master keys by SPI (``None`` for the wildcard)."""
        return cls(masters)

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> Keyring:
        """Read a key file: lines ``<spi> <hex master key>`` or ``* <hex master key>``.

        ``#`` starts a comment; blank lines are ignored. The SPI is decimal (or 0x-prefixed hex);
        the master key is at least 16 octets of hex. Errors name the file, line, field and value,
        except the key's value, of which only its length is told.
        """
        try:
            with open(path, encoding="utf-8") as stream:
                lines = stream.read().splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise LinkError(f"key file {os.fspath(path)}: cannot read it ({error.__class__.__name__}: "
                            f"{getattr(error, 'strerror', None) or error})") from None
        masters: dict[int | None, bytes] = {}
        seen_on: dict[int | None, int] = {}
        for number, line in enumerate(lines, start=1):
            where = f"key file {os.fspath(path)}, line {number}"
            fields = line.split("#", 1)[0].split()
            if not fields:
                continue
            if len(fields) != 2:
                raise LinkError(f"{where}: expected 2 fields '<spi> <hex master key>', found {len(fields)}")
            spi = _parse_spi(fields[0], where)
            master = _parse_master(fields[1], where, fields[0])
            if spi in seen_on:
                raise LinkError(f"{where}: spi {fields[0]!r} is already given on line {seen_on[spi]}")
            seen_on[spi] = number
            masters[spi] = master
        if not masters:
            raise LinkError(f"key file {os.fspath(path)}: no keys in it")
        return cls(masters)

    def key(self, spi: int, direction: Direction) -> bytes:
        """The derived MAC key of ``spi`` in ``direction`` (cached); LinkError for an SPI without a key."""
        key = self.lookup(spi, direction)
        if key is None:
            _check_spi(spi)
            raise LinkError(f"spi: {spi} has no key in the keyring (SPIs with keys: {self._listed()})")
        return key

    def lookup(self, spi: int, direction: Direction) -> bytes | None:
        """Like :meth:`key`, but None for an unknown SPI (the deframer's path: no exception per frame)."""
        cache_key = (spi, direction)
        key = self._cache.get(cache_key)
        if key is None:
            master = self._masters.get(spi)
            if master is None:
                master = self._masters.get(None)
                if master is None or not isinstance(spi, int) or not 0 <= spi <= _SPI_MAX:
                    return None
            key = self._cache[cache_key] = derive_key(master, spi, direction)
        return key

    def __contains__(self, spi: object) -> bool:
        return spi in self._masters or (None in self._masters and isinstance(spi, int) and 0 <= spi <= _SPI_MAX)

    def _listed(self) -> str:
        names = [str(s) for s in sorted(s for s in self._masters if s is not None)]
        if None in self._masters:
            names.append("* (wildcard)")
        return ", ".join(names)

    def __repr__(self) -> str:
        return f"Keyring(spis: {self._listed()})"


def _parse_spi(text: str, where: str) -> int | None:
    if text == "*":
        return None
    try:
        value = int(text, 16) if text.lower().startswith("0x") else int(text, 10)
    except ValueError:
        value = -1
    if not 0 <= value <= _SPI_MAX:
        raise LinkError(f"{where}: spi {text!r} is not '*' or an integer in 0..{_SPI_MAX}")
    return value


def _parse_master(text: str, where: str, spi_text: str) -> bytes:
    # The key's characters are never echoed: only what is wrong with it.
    if not _HEX_DIGITS.issuperset(text):
        raise LinkError(f"{where}: master key of spi {spi_text!r} is not hexadecimal "
                        f"(a {len(text)}-character value; expected hex digits only)")
    if len(text) % 2:
        raise LinkError(f"{where}: master key of spi {spi_text!r} has an odd number of hex digits ({len(text)})")
    master = bytes.fromhex(text)
    if len(master) < MIN_MASTER_KEY_BYTES:
        raise LinkError(f"{where}: master key of spi {spi_text!r} is {len(master)} octets, "
                        f"need at least {MIN_MASTER_KEY_BYTES} ({2 * MIN_MASTER_KEY_BYTES} hex digits)")
    return master


class ReplayWindow:
    """Sliding anti-replay window over security sequence numbers of one SA.

    Remembers the highest number accepted and, as a bitmap, which of the ``size`` numbers at and
    below it were seen. Rejects 0, duplicates and anything at or below ``highest - size``; accepts
    reordering within the window. Call :meth:`accept` only after the frame's MAC verified, or a
    forger could advance the window and lock out genuine frames.
    """

    __slots__ = ("_highest", "_mask", "_seen", "_size")

    def __init__(self, size: int = 1024) -> None:
        if not isinstance(size, int) or size < 1:
            raise LinkError(f"replay window size: {size!r} is not an integer >= 1")
        self._size = size
        self._mask = (1 << size) - 1
        self._highest = 0
        self._seen = 0  # bit i set: number highest - i was seen

    @property
    def size(self) -> int:
        """How many sequence numbers at and below the highest one are remembered."""
        return self._size

    @property
    def highest(self) -> int:
        """The highest sequence number accepted (or restored); 0 before any."""
        return self._highest

    def accept(self, seq: int) -> bool:
        """Record ``seq`` and return True if it is new and inside the window; False otherwise (no change)."""
        highest = self._highest
        if seq > highest:
            if seq > _SEQUENCE_MAX:
                return False
            shift = seq - highest
            self._seen = ((self._seen << shift) & self._mask) | 1 if shift < self._size else 1
            self._highest = seq
            return True
        offset = highest - seq
        if seq <= 0 or offset >= self._size:
            return False
        bit = 1 << offset
        if self._seen & bit:
            return False
        self._seen |= bit
        return True

    def restore(self, highest: int) -> None:
        """Treat every number up to ``highest`` as seen (persisted state after a restart)."""
        if not isinstance(highest, int) or not 0 <= highest <= _SEQUENCE_MAX:
            raise LinkError(f"replay window highest: {highest!r} is not an integer in 0..{_SEQUENCE_MAX}")
        if highest >= self._highest:
            self._highest = highest
            self._seen = self._mask
        else:
            below = self._highest - highest  # offsets >= below are now seen
            if below < self._size:
                self._seen |= self._mask & ~((1 << below) - 1)

    def __repr__(self) -> str:
        return f"ReplayWindow(size={self._size}, highest={self._highest})"
