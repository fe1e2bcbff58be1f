"""Small helpers shared by the benchmarks: timing, statistics, tables, the network-rule check."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

MiB = 1024 * 1024


def stats(samples: Sequence[float]) -> dict[str, float]:
    """Median, p90, p99, min and count of ``samples`` (NaN statistics when empty)."""
    values = np.asarray(samples, dtype=np.float64)
    if values.size == 0:
        return {"median": float("nan"), "p90": float("nan"), "p99": float("nan"), "min": float("nan"), "n": 0}
    median, p90, p99 = np.percentile(values, [50, 90, 99])
    return {"median": float(median), "p90": float(p90), "p99": float(p99), "min": float(values.min()),
            "n": int(values.size)}


def time_calls(fn: Callable[[], object], repeats: int, warmup: int = 2) -> list[float]:
    """Wall time of each of ``repeats`` calls of ``fn`` (after ``warmup`` untimed calls), seconds."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule] + [line(row) for row in cells[1:]])


def _cell(value: object) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def tx_packets(interface: str = "eth0") -> int | None:
    """Transmitted packet count of ``interface`` from /proc/net/dev, or None if it does not exist."""
    try:
        lines = Path("/proc/net/dev").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        name, sep, counters = line.partition(":")
        if sep and name.strip() == interface:
            return int(counters.split()[9])  # receive: 8 columns, then transmit bytes, packets
    return None


def private_domain_id(offset: int = 0) -> str:
    """A ROS_DOMAIN_ID in 150..229 derived from this process id, so concurrent runs rarely meet."""
    return str(150 + (os.getpid() + offset) % 80)
