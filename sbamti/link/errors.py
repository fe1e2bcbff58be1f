"""The link library's one domain error, and the integer check its modules share."""

import operator

from sbamti.errors import SbamtiError


class LinkError(SbamtiError, ValueError):
    """Bytes, a field or a key file that the link protocol cannot accept.

    Messages name the field and the value received (never key material).
    """


def check_int(field: str, value: object, low: int, high: int) -> int:
    """``value`` as an int in [low, high] (not a bool), else LinkError naming ``field`` and the value."""
    try:
        if isinstance(value, bool):
            raise TypeError
        number = operator.index(value)
    except TypeError:
        raise LinkError(f"{field}: expected an integer, received {value!r}") from None
    if not low <= number <= high:
        raise LinkError(f"{field}: {number} outside [{low}, {high}]")
    return number
