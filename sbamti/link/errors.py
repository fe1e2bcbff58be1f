"""The link library's one domain error."""

from sbamti.errors import SbamtiError


class LinkError(SbamtiError, ValueError):
    """Bytes, a field or a key file that the link protocol cannot accept.

    Messages name the field and the value received (never key material).
    """
