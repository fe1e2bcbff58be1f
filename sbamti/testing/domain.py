"""Private ROS_DOMAIN_IDs for graphs that must not see each other (tests running side by side).

A domain id is held by an exclusive ``flock`` on a file in the temp directory, so concurrent test
processes on one host never share a domain; the lock dies with its holder, so nothing goes stale.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Fast DDS maps domain d to UDP ports 7400 + 250 d + ...; ids up to 232 fit below 65535.
# The low ids are left to the user's own graphs.
DOMAIN_RANGE = range(110, 232)
_LOCK_DIR = Path(tempfile.gettempdir()) / "sbamti-ros-domains"


@contextlib.contextmanager
def allocate_domain_id(candidates: range = DOMAIN_RANGE) -> Iterator[int]:
    """Hold a ROS domain id no other sbamti process on this host holds; release it on exit."""
    _LOCK_DIR.mkdir(exist_ok=True)
    order = list(candidates)
    random.Random(os.getpid()).shuffle(order)
    for domain_id in order:
        handle = open(_LOCK_DIR / f"{domain_id}.lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        try:
            yield domain_id
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
        return
    raise RuntimeError(f"no free ROS domain id in {candidates.start}..{candidates.stop - 1}")
