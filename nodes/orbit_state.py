"""orbit_state: SGP4 states of one satellite (its namespace) or a whole constellation, on sim time.

Parameters (the interface outside benches use): ``tle_file`` (TLE/3LE, OMM XML/CSV/JSON),
``satellites`` (catalog numbers, names or ids; empty = every satellite in the file),
``publish_rate_hz`` (states per sim second). States are stamped at exact multiples of the period
(sim time), so a run gives the same states at any replay speed; if sim time jumps past several
epochs, every missed epoch is published in order.

Topic layout (``layout``): ``namespace`` publishes ``orbit/state`` (one satellite, in the node's
namespace, as on edge hardware); ``per_satellite`` publishes ``/<satellite_id>/orbit/state`` for
each; ``array`` publishes ``orbit/states`` (flat ``OrbitStateArray``, for thousands of satellites);
``auto`` picks ``namespace`` for one satellite, ``per_satellite`` up to 200, else ``array``.
Contacts (``ground_stations_file``) are predicted over ``contact_horizon_s`` and republished on
``orbit/contacts`` (transient local) every half horizon. Malformed element sets and SGP4 errors are
reported on the status topic with the satellite, the field or the code's meaning; the other
satellites keep going.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock as ClockMsg

from sbamti.errors import ConfigurationError
from sbamti.geo.earth_orientation import EarthOrientationTable
from sbamti.orbit.elements import load_element_sets, select
from sbamti.orbit.propagation import Propagator, sgp4_error_meaning
from sbamti.orbit.states import OrbitStates, compute_states
from sbamti.ros.arrays import to_field
from sbamti.ros.node import SbamtiNode, run_node
from sbamti.ros.params import ParamSpec, declare_and_read
from sbamti.timeutil import split_ns, stamp_ns
from sbamti_msgs.msg import ContactWindow, ContactWindowArray, OrbitState, OrbitStateArray

LAYOUTS = ("auto", "namespace", "per_satellite", "array")
PER_SATELLITE_LIMIT = 200
MAX_CATCH_UP_EPOCHS = 1000


def _layout(value: str) -> str:
    if value not in LAYOUTS:
        raise ConfigurationError(f"parameter 'layout': {value!r} is not one of {', '.join(LAYOUTS)}")
    return value


def _eop(value: str) -> EarthOrientationTable | None:
    """'' = no Earth orientation data (UT1 = UTC, no polar motion); 'bundled' = the IERS finals
    shipped with astropy-iers-data; otherwise a finals2000A file path."""
    if value == "":
        return None
    if value == "bundled":
        return EarthOrientationTable.bundled()
    return EarthOrientationTable.from_finals(value)


PARAMETERS = (
    ParamSpec("tle_file", "", "element sets: TLE/3LE (.tle/.txt/.3le) or OMM (.xml/.csv/.json) path", read_only=True),
    ParamSpec("satellites", [""], "catalog numbers, names or ids to serve; empty = every satellite in the file",
              read_only=True, check=lambda v: [str(x) for x in v if str(x)]),
    ParamSpec("publish_rate_hz", 1.0, "states per second of sim time (Hz)", minimum=1e-4, maximum=1000.0,
              read_only=True),
    ParamSpec("layout", "auto", "topic layout: auto | namespace | per_satellite | array", read_only=True,
              check=_layout),
    ParamSpec("earth_orientation", "", "IERS data: '' none (UT1=UTC, no polar motion), 'bundled', or a finals2000A path",
              read_only=True),
    ParamSpec("ground_stations_file", "", "ground stations YAML for contact prediction; '' = no contacts",
              read_only=True),
    ParamSpec("contact_horizon_s", 86400.0, "contact prediction horizon (s of sim time)", minimum=600.0,
              maximum=30 * 86400.0, read_only=True),
)

# Transient local: a subscriber that matches late (or restarts) still gets the latest states, so the
# first epochs of a run are not lost while discovery completes.
STATE_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_LAST,
                       durability=DurabilityPolicy.TRANSIENT_LOCAL)
CLOCK_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
CONTACTS_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)


class OrbitStateNode(SbamtiNode):
    """Publishes orbit states for its satellite(s) at a fixed sim-time cadence."""

    def __init__(self, **kwargs) -> None:
        super().__init__("orbit_state", **kwargs)
        cfg = declare_and_read(self, PARAMETERS)
        if not cfg["tle_file"]:
            raise ConfigurationError("parameter 'tle_file': required (a TLE/3LE or OMM file path)")
        loaded = load_element_sets(cfg["tle_file"])
        for error in loaded.errors:  # malformed satellites are reported, the others keep going
            self.reject("tle_file:malformed_element_set", str(error))
        element_sets = select(loaded.element_sets, cfg["satellites"])
        if not element_sets:
            raise ConfigurationError(f"parameter 'tle_file': no usable satellite in {cfg['tle_file']!r}")
        self.propagator = Propagator(element_sets)
        self.satellite_ids = [e.satellite_id for e in element_sets]
        self.catalog_numbers = np.array([e.catalog_number for e in element_sets], dtype=np.uint32)
        self.earth_orientation = _eop(cfg["earth_orientation"])
        self.period_ns = int(round(1e9 / cfg["publish_rate_hz"]))
        self.layout = cfg["layout"]
        if self.layout == "auto":
            n = len(element_sets)
            self.layout = "namespace" if n == 1 else "per_satellite" if n <= PER_SATELLITE_LIMIT else "array"
        if self.layout == "namespace" and len(element_sets) != 1:
            raise ConfigurationError(f"parameter 'layout': 'namespace' serves exactly one satellite, "
                                     f"but {len(element_sets)} are selected; use per_satellite or array")
        self._make_publishers()
        self._reported_errors: set[tuple[int, int]] = set()
        self._last_epoch_ns: int | None = None
        self._stations = []
        if cfg["ground_stations_file"]:
            from sbamti.orbit.contacts import load_ground_stations
            self._stations = load_ground_stations(cfg["ground_stations_file"])
        self._horizon_ns = int(cfg["contact_horizon_s"] * 1e9)
        # Contacts are refreshed one satellite per tick, so a long prediction never stalls the states.
        self._contacts_due_ns = [0] * len(element_sets) if self._stations else []
        # On sim time the cadence follows /clock itself: every /clock message publishes the grid
        # epochs it passed, from the first sim time this node saw. (A ROS-time timer may wake late
        # after the clock starts and would lose the first epochs.) On wall time, a wall timer.
        if self.get_parameter("use_sim_time").value:
            self.create_subscription(ClockMsg, "/clock", self._on_clock, CLOCK_QOS)
        else:
            self.create_timer(self.period_ns / 1e9, self._on_timer)
        self.get_logger().info(
            f"serving {len(element_sets)} satellite(s) from {Path(cfg['tle_file']).name} at "
            f"{cfg['publish_rate_hz']:g} Hz sim time, layout {self.layout}"
            + (f", contacts with {len(self._stations)} station(s)" if self._stations else ""))

    def _make_publishers(self) -> None:
        self._state_pubs = []
        self._contact_pubs = []
        if self.layout == "namespace":
            self._state_pubs = [self.create_publisher(OrbitState, "orbit/state", STATE_QOS)]
            self._contact_pubs = [self.create_publisher(ContactWindowArray, "orbit/contacts", CONTACTS_QOS)]
        elif self.layout == "per_satellite":
            self._state_pubs = [self.create_publisher(OrbitState, f"/{sid}/orbit/state", STATE_QOS)
                                for sid in self.satellite_ids]
            self._contact_pubs = [self.create_publisher(ContactWindowArray, f"/{sid}/orbit/contacts", CONTACTS_QOS)
                                  for sid in self.satellite_ids]
        else:
            self._array_pub = self.create_publisher(OrbitStateArray, "orbit/states", STATE_QOS)

    # -- cadence -------------------------------------------------------------------------------
    def due_epochs(self, now_ns: int) -> np.ndarray:
        """Grid epochs (multiples of the period) not yet published, up to ``now_ns``."""
        last_due = (now_ns // self.period_ns) * self.period_ns
        first = last_due if self._last_epoch_ns is None else self._last_epoch_ns + self.period_ns
        if first > last_due:
            return np.empty(0, dtype=np.int64)
        count = (last_due - first) // self.period_ns + 1
        if count > MAX_CATCH_UP_EPOCHS:
            skipped = count - MAX_CATCH_UP_EPOCHS
            self.get_logger().warning(f"sim time jumped {skipped * self.period_ns / 1e9:g} s beyond the "
                                      f"catch-up limit: {skipped} epoch(s) skipped")
            first += skipped * self.period_ns
            count = MAX_CATCH_UP_EPOCHS
        return first + self.period_ns * np.arange(count, dtype=np.int64)

    def _on_clock(self, msg: ClockMsg) -> None:
        self._advance_to(stamp_ns(msg.clock))

    def _on_timer(self) -> None:
        self._advance_to(self.get_clock().now().nanoseconds)

    def _advance_to(self, now_ns: int) -> None:
        """Publish every grid epoch up to ``now_ns`` not yet published; refresh one contact prediction."""
        if now_ns <= 0:
            return  # no /clock yet
        epochs = self.due_epochs(now_ns)
        if epochs.size:
            self.publish_epochs(epochs)
        if self._contact_pubs and self._stations:
            s = int(np.argmin(self._contacts_due_ns))
            if now_ns >= self._contacts_due_ns[s]:
                self.publish_contacts(s, now_ns)

    # -- states -------------------------------------------------------------------------------
    def publish_epochs(self, epochs_ns: np.ndarray) -> OrbitStates:
        try:
            states = compute_states(self.propagator, epochs_ns, self.earth_orientation)
        except ConfigurationError as exc:  # sim time beyond the Earth orientation table
            self.reject("earth_orientation:out_of_range", f"{exc}; continuing with UT1 = UTC and no polar motion")
            self.earth_orientation = None
            states = compute_states(self.propagator, epochs_ns, None)
        self._report_errors(states)
        for t, epoch_ns in enumerate(epochs_ns):
            if self.layout == "array":
                self._array_pub.publish(self.array_message(states, t))
            else:
                for s, pub in enumerate(self._state_pubs):
                    pub.publish(self.state_message(states, s, t))
            self.messages_out += 1
        self._last_epoch_ns = int(epochs_ns[-1])
        return states

    def state_message(self, states: OrbitStates, s: int, t: int) -> OrbitState:
        msg = OrbitState()
        msg.header.stamp.sec, msg.header.stamp.nanosec = split_ns(int(states.utc_ns[t]))
        msg.header.frame_id = "itrs"
        msg.satellite_id = self.satellite_ids[s]
        msg.catalog_number = int(self.catalog_numbers[s])
        msg.position_ecef = states.position_ecef_m[s, t]
        msg.velocity_ecef = states.velocity_ecef_mps[s, t]
        msg.position_teme = states.teme.position_m[s, t]
        msg.velocity_teme = states.teme.velocity_mps[s, t]
        msg.latitude_rad = float(states.latitude_rad[s, t])
        msg.longitude_rad = float(states.longitude_rad[s, t])
        msg.altitude_m = float(states.altitude_m[s, t])
        msg.attitude_lvlh_to_ecef = states.attitude_lvlh_to_ecef[s, t]
        code = int(states.error_code[s, t])
        msg.sgp4_error_code = code
        msg.sgp4_error_message = "" if code == 0 else sgp4_error_meaning(code)
        return msg

    def array_message(self, states: OrbitStates, t: int) -> OrbitStateArray:
        msg = OrbitStateArray()
        msg.header.stamp.sec, msg.header.stamp.nanosec = split_ns(int(states.utc_ns[t]))
        msg.header.frame_id = "itrs"
        msg.satellite_ids = self.satellite_ids
        msg.catalog_numbers = to_field(self.catalog_numbers, np.uint32)
        msg.position_ecef = to_field(states.position_ecef_m[:, t], np.float64)
        msg.velocity_ecef = to_field(states.velocity_ecef_mps[:, t], np.float64)
        msg.position_teme = to_field(states.teme.position_m[:, t], np.float64)
        msg.velocity_teme = to_field(states.teme.velocity_mps[:, t], np.float64)
        msg.latitude_rad = to_field(states.latitude_rad[:, t], np.float64)
        msg.longitude_rad = to_field(states.longitude_rad[:, t], np.float64)
        msg.altitude_m = to_field(states.altitude_m[:, t], np.float64)
        msg.attitude_lvlh_to_ecef = to_field(states.attitude_lvlh_to_ecef[:, t], np.float64)
        msg.sgp4_error_codes = to_field(states.error_code[:, t].astype(np.int32), np.int32)
        return msg

    def _report_errors(self, states: OrbitStates) -> None:
        """Each (satellite, SGP4 code) is reported once on the status topic, with its meaning."""
        for s, t in zip(*np.nonzero(states.error_code)):
            code = int(states.error_code[s, t])
            if (s, code) in self._reported_errors:
                continue
            self._reported_errors.add((s, code))
            self.reject(f"{self.satellite_ids[s]}:sgp4_error_{code}",
                        f"satellite {self.satellite_ids[s]} (catalog {int(self.catalog_numbers[s])}): SGP4 error "
                        f"{code} at epoch {int(states.utc_ns[t])} ns: {sgp4_error_meaning(code)}")

    # -- contacts -----------------------------------------------------------------------------
    def publish_contacts(self, s: int, now_ns: int) -> None:
        """Predict satellite ``s``'s passes over ``[now, now + horizon]`` and publish them."""
        from sbamti.orbit.contacts import predict_contacts

        single = Propagator([self.propagator.element_sets[s]])

        def state_fn(times_ns):
            states = compute_states(single, times_ns, self.earth_orientation, attitude=False)
            return states.position_ecef_m[0], states.velocity_ecef_mps[0]

        end_ns = now_ns + self._horizon_ns
        windows = predict_contacts(state_fn, self._stations, now_ns, end_ns)
        msg = ContactWindowArray()
        msg.header.stamp.sec, msg.header.stamp.nanosec = split_ns(now_ns)
        msg.satellite_id = self.satellite_ids[s]
        msg.horizon_end.sec, msg.horizon_end.nanosec = split_ns(end_ns)
        msg.windows = [self._window_message(w) for w in windows]
        self._contact_pubs[s].publish(msg)
        self._contacts_due_ns[s] = now_ns + self._horizon_ns // 2

    @staticmethod
    def _window_message(window) -> ContactWindow:
        msg = ContactWindow()
        msg.station_name = window.station
        msg.aos.sec, msg.aos.nanosec = split_ns(window.aos_ns)
        msg.los.sec, msg.los.nanosec = split_ns(window.los_ns)
        msg.max_elevation_time.sec, msg.max_elevation_time.nanosec = split_ns(window.max_elevation_ns)
        msg.max_elevation_rad = float(window.max_elevation_rad)
        msg.elevation_mask_rad = float(window.elevation_mask_rad)
        return msg


def main(args=None) -> int:
    return run_node(OrbitStateNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
