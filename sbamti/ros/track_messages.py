"""The ground tracker's messages: DetectionArray -> tracker input, track picture -> TrackArray.

The tracker (``sbamti.tracking.tracker``) works on numpy arrays; ``nodes/ground_tracker.py`` uses these
functions at its edges. The geodetic summary of a track picture (latitude, longitude, altitude, and
the velocity's horizontal speed, heading and climb rate in the local East-North-Up frame) is computed
for all tracks at once; only filling the ``Track`` messages is per track.

Conventions (``msg/Track.msg``): heading is the course over ground, clockwise from true north, in
``[0, 2 pi)``, ``atan2(v_east, v_north)``; speed is the horizontal ground speed ``hypot(v_east,
v_north)``; climb rate is ``v_up``, positive up, Up the WGS84 ellipsoid normal at the track.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from sbamti_msgs.msg import Detection, DetectionArray, Track, TrackArray

from sbamti.geo.wgs84 import ecef_to_geodetic, enu_rotation
from sbamti.ros.arrays import to_field
from sbamti.timeutil import split_ns, stamp_ns
from sbamti.tracking.tracker import DwellInput

TWO_PI = 2.0 * np.pi


@dataclass(frozen=True)
class TrackGeodetic:
    """Geodetic summary of n tracks (all arrays (n,)): WGS84 position, ENU velocity summary."""

    latitude_rad: np.ndarray
    longitude_rad: np.ndarray
    altitude_m: np.ndarray
    speed_mps: np.ndarray
    """Horizontal ground speed."""
    heading_rad: np.ndarray
    """Course over ground, clockwise from true north, [0, 2 pi)."""
    climb_rate_mps: np.ndarray
    """Vertical speed, positive up."""


def track_geodetic(position_ecef_m: ArrayLike, velocity_ecef_mps: ArrayLike) -> TrackGeodetic:
    """Geodetic position and ENU velocity summary of positions (n, 3), m, and velocities (n, 3), m/s (ECEF)."""
    p = np.asarray(position_ecef_m, dtype=np.float64).reshape(-1, 3)
    v = np.asarray(velocity_ecef_mps, dtype=np.float64).reshape(-1, 3)
    lat, lon, alt = ecef_to_geodetic(p)
    enu = np.einsum("nij,nj->ni", enu_rotation(lat, lon), v)
    heading = np.mod(np.arctan2(enu[:, 0], enu[:, 1]), TWO_PI)
    heading[heading >= TWO_PI] = 0.0            # mod of a tiny negative angle can round up to 2 pi
    return TrackGeodetic(lat, lon, alt, np.hypot(enu[:, 0], enu[:, 1]), heading, enu[:, 2])


def tracks_to_message(stamp_utc_ns: int, *, track_id: ArrayLike, status: ArrayLike, state: ArrayLike,
                      covariance: ArrayLike, quality: ArrayLike, num_updates: ArrayLike, created_ns: ArrayLike,
                      last_update_ns: ArrayLike, satellites: Sequence[Iterable[str]],
                      frame_id: str = "ecef") -> TrackArray:
    """A ``TrackArray`` of n tracks valid at ``stamp_utc_ns`` (UTC ns).

    Parameters
    ----------
    track_id, status : (n,) int
        Ids and ``TrackStatus`` values (the same numbers as ``Track.STATUS_*``).
    state : (n, d >= 6)
        ECEF ``[p (m), v (m/s), ...]`` at the stamp; the first 6 states are published.
    covariance : (n, d, d)
        Its covariance; the (position, velocity) 6x6 block is published row-major.
    quality : (n,)
        0 .. 1.
    num_updates : (n,) int
        Measurements assigned (the initiating one included).
    created_ns, last_update_ns : (n,) int
        UTC ns of the initiating and of the latest assigned measurement.
    satellites : n iterables of str
        Contributing satellites of each track (published sorted).
    """
    x = np.asarray(state, dtype=np.float64)
    n = x.shape[0]
    x = x[:, :6] if n else np.empty((0, 6))
    P = np.asarray(covariance, dtype=np.float64)
    P = P[:, :6, :6] if n else np.empty((0, 6, 6))
    geo = track_geodetic(x[:, :3], x[:, 3:6])
    msg = TrackArray()
    msg.header.stamp.sec, msg.header.stamp.nanosec = split_ns(int(stamp_utc_ns))
    msg.header.frame_id = frame_id
    columns = {name: np.asarray(values).tolist() for name, values in (
        ("track_id", track_id), ("status", status), ("quality", quality), ("num_updates", num_updates),
        ("latitude_rad", geo.latitude_rad), ("longitude_rad", geo.longitude_rad), ("altitude_m", geo.altitude_m),
        ("speed_mps", geo.speed_mps), ("heading_rad", geo.heading_rad), ("climb_rate_mps", geo.climb_rate_mps))}
    created = [split_ns(int(t)) for t in np.asarray(created_ns, dtype=np.int64)]
    updated = [split_ns(int(t)) for t in np.asarray(last_update_ns, dtype=np.int64)]
    tracks = []
    for i in range(n):
        t = Track()
        t.track_id, t.status = int(columns["track_id"][i]), int(columns["status"][i])
        t.position_ecef = to_field(x[i, :3], np.float64)
        t.velocity_ecef = to_field(x[i, 3:6], np.float64)
        t.covariance_ecef = to_field(P[i], np.float64)
        t.latitude_rad, t.longitude_rad = columns["latitude_rad"][i], columns["longitude_rad"][i]
        t.altitude_m, t.speed_mps = columns["altitude_m"][i], columns["speed_mps"][i]
        t.heading_rad, t.climb_rate_mps = columns["heading_rad"][i], columns["climb_rate_mps"][i]
        t.quality, t.num_updates = float(columns["quality"][i]), int(columns["num_updates"][i])
        t.created.sec, t.created.nanosec = created[i]
        t.last_update.sec, t.last_update.nanosec = updated[i]
        t.contributing_satellites = sorted(satellites[i])
        tracks.append(t)
    msg.tracks = tracks
    return msg


def track_states_from_message(msg: TrackArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids (n,) int64, states (n, 6) and covariances (n, 6, 6) of a ``TrackArray`` (ECEF, SI units)."""
    ids = np.array([t.track_id for t in msg.tracks], dtype=np.int64)
    x = np.array([np.concatenate([t.position_ecef, t.velocity_ecef]) for t in msg.tracks]).reshape(-1, 6)
    P = np.array([t.covariance_ecef for t in msg.tracks], dtype=np.float64).reshape(-1, 6, 6)
    return ids, x, P


def dwell_input_from_message(msg: DetectionArray, coverage_radius_m: float) -> DwellInput:
    """The tracker's input from one dwell's detections; the beam centre is the coverage centre.

    Rows are taken as they are (a NaN position or a bad covariance is for the tracker to reject and
    count). Raises ``TrackingError`` when the dwell itself is unusable (a non-finite beam centre).
    """
    dets = msg.detections
    k = len(dets)
    position = np.array([d.position_ecef for d in dets], dtype=np.float64).reshape(k, 3)
    covariance = np.array([d.position_covariance_ecef for d in dets], dtype=np.float64).reshape(k, 3, 3)
    range_rate = np.array([d.range_rate_mps for d in dets], dtype=np.float64)
    return DwellInput(stamp_ns(msg.header.stamp), msg.satellite_id, position, covariance,
                      np.asarray(msg.beam_centre_ecef, dtype=np.float64), coverage_radius_m, range_rate)


def synthetic_dwell_to_message(dwell, frame_id: str = "ecef") -> DetectionArray:
    """The ``DetectionArray`` the ground would receive for a ``sbamti.tracking.synthetic.SyntheticDwell``
    (tests and benches of the ground tracker; the truth ids are not carried)."""
    msg = DetectionArray()
    msg.header.stamp.sec, msg.header.stamp.nanosec = split_ns(int(dwell.stamp_ns))
    msg.header.frame_id = frame_id
    msg.satellite_id = dwell.satellite_id
    msg.dwell_id = int(dwell.dwell_id)
    msg.satellite_position_ecef = to_field(dwell.satellite_position_ecef, np.float64)
    msg.satellite_velocity_ecef = to_field(dwell.satellite_velocity_ecef, np.float64)
    msg.beam_centre_ecef = to_field(dwell.beam_centre_ecef, np.float64)
    k = len(dwell.position_ecef)
    msg.clusters = k
    columns = {name: np.asarray(getattr(dwell, name)).tolist() for name in (
        "range_m", "range_std_m", "azimuth_rad", "azimuth_std_rad", "elevation_rad", "elevation_std_rad",
        "range_rate_mps", "range_rate_std_mps", "latitude_rad", "longitude_rad", "altitude_m")}
    position = np.ascontiguousarray(dwell.position_ecef, dtype=np.float64).reshape(k, 3)
    covariance = np.ascontiguousarray(dwell.position_covariance_ecef, dtype=np.float64).reshape(k, 9)
    dets = []
    for i in range(k):
        d = Detection(detection_id=i, range_rate_resolved=True)
        for name, values in columns.items():
            setattr(d, name, float(values[i]))
        d.position_ecef = to_field(position[i], np.float64)
        d.position_covariance_ecef = to_field(covariance[i], np.float64)
        dets.append(d)
    msg.detections = dets
    return msg
