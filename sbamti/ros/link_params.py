"""Parameters shared by downlink_tx and downlink_rx: fault injection and socket addresses."""

from __future__ import annotations

import ipaddress
from typing import Any

from sbamti.errors import ConfigurationError
from sbamti.link.channel import Impairments
from sbamti.link.errors import LinkError
from sbamti.ros.params import ParamSpec
from sbamti.timeutil import parse_utc_epoch_ns


def parse_host(value: str) -> str:
    """A numeric IPv4/IPv6 address or 'localhost' (no name lookups at start-up)."""
    if value == "localhost":
        return "127.0.0.1"
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ConfigurationError(f"address {value!r} is not a numeric IP address (e.g. 127.0.0.1)") from None
    return value


def parse_outages(values: list[str]) -> list[tuple[float, float]]:
    """ISO-8601 UTC intervals ``START/END`` as (start, end) in UTC seconds (the channel's clock)."""
    out = []
    for i, text in enumerate(values):
        if not isinstance(text, str) or text.count("/") != 1:
            raise ConfigurationError(f"parameter 'outages'[{i}]: {text!r} is not an interval 'START/END' "
                                     f"such as '2028-01-01T00:01:00Z/2028-01-01T00:04:00Z'")
        start, end = (parse_utc_epoch_ns(part, f"parameter 'outages'[{i}]") * 1e-9 for part in text.split("/"))
        if end <= start:
            raise ConfigurationError(f"parameter 'outages'[{i}]: {text!r} ends before it starts")
        out.append((start, end))
    return out


IMPAIRMENT_PARAMETERS = (
    ParamSpec("loss", 0.0, "fault injection: probability a datagram is lost", minimum=0.0, maximum=1.0, read_only=True),
    ParamSpec("corruption", 0.0, "fault injection: probability a datagram has 1-3 bits flipped", minimum=0.0,
              maximum=1.0, read_only=True),
    ParamSpec("duplication", 0.0, "fault injection: probability a datagram is delivered twice", minimum=0.0,
              maximum=1.0, read_only=True),
    ParamSpec("reorder", 0.0, "fault injection: probability a datagram is held back by reorder_delay_s",
              minimum=0.0, maximum=1.0, read_only=True),
    ParamSpec("reorder_delay_s", 0.5, "fault injection: hold-back of a reordered datagram (sim s)", minimum=0.0,
              maximum=3600.0, read_only=True),
    ParamSpec("latency_s", 0.0, "one-way link latency added to every datagram (sim s)", minimum=0.0, maximum=3600.0,
              read_only=True),
    ParamSpec("outages", [""], "fault injection: UTC intervals 'START/END' when every datagram is lost",
              read_only=True),
    ParamSpec("fault_seed", 1, "seed of the fault injection", minimum=0, read_only=True),
)


def impairments_from(cfg: dict[str, Any]) -> Impairments:
    """The ``Impairments`` a node's declared parameters describe (``ConfigurationError`` when invalid)."""
    try:
        return Impairments(loss=cfg["loss"], corruption=cfg["corruption"], duplication=cfg["duplication"],
                           reorder=cfg["reorder"], reorder_delay_s=cfg["reorder_delay_s"],
                           latency_s=cfg["latency_s"], outages=parse_outages([o for o in cfg["outages"] if o]),
                           seed=cfg["fault_seed"])
    except LinkError as exc:
        raise ConfigurationError(str(exc)) from None
