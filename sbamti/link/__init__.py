"""The space-to-ground link, as pure code (no ROS imports): the wire protocol and its reliability.

- ``crc``, ``timecode``, ``packets``, ``security``, ``frame``: CCSDS space packets with a time
  secondary header, HMAC-SHA-256 authentication and anti-replay (in the spirit of CCSDS SDLS), and a
  deframer that resynchronises after garbage (specified in ``docs/link_protocol.md``).
- ``payloads``: the compact binary payload of each packet type.
- ``store``: the onboard persistent store-and-forward (priorities, eviction, survives ``kill -9``).
- ``arq``: acknowledgement, gap detection and retransmission bookkeeping.
- ``schedule``: contact windows and the rate limit; ``channel``: fault injection; ``udp``: the socket.

The ROS nodes ``downlink_tx`` (onboard) and ``downlink_rx`` (ground) are thin shells around these.
"""
