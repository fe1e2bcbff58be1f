"""onboard_detector: a satellite's detections from its radar dwells, geolocated with a covariance.

Subscribes ``radar/dwell`` and publishes ``detections`` (``DetectionArray``, stamped with the dwell
time). Statistical dwells: the returns are thresholded at ``pfa`` and get Cramér–Rao errors
(``sbamti.detection.measurements``). Each detection is geolocated on the WGS84 ellipsoid raised to
``assumed_altitude_m`` (an along-track array cannot measure altitude), with ``altitude_std_m``
carried into the ECEF covariance (``sbamti.detection.geolocation``). The antenna frame is rebuilt
from the dwell's own geometry (``sbamti.radar.beam.antenna_axes``), so the dwell message is all the
detector needs. IQ dwells are not processed by this node yet: they are counted as rejected with that
reason on the status topic.
"""

from __future__ import annotations

import time

import numpy as np
from rclpy.qos import QoSProfile, ReliabilityPolicy

from sbamti.detection.geolocation import geolocate
from sbamti.detection.measurements import statistical_measurements
from sbamti.radar.beam import antenna_axes
from sbamti.radar.config import RadarConfig
from sbamti.ros.arrays import from_field
from sbamti.ros.node import SbamtiNode, run_node
from sbamti.ros.params import ParamSpec, declare_and_read
from sbamti_msgs.msg import Detection, DetectionArray, RadarDwell

PARAMETERS = (
    ParamSpec("radar_config_file", "", "radar YAML with a 'radar:' section; '' = the baseline", read_only=True),
    ParamSpec("pfa", 1e-6, "false-alarm probability of the detection threshold", minimum=1e-12, maximum=0.1,
              read_only=True),
    ParamSpec("assumed_altitude_m", 5000.0, "target height above the ellipsoid assumed for geolocation (m)",
              minimum=-500.0, maximum=30000.0, read_only=True),
    ParamSpec("altitude_std_m", 5000.0, "1-sigma uncertainty of that assumption (m)", minimum=0.0, maximum=30000.0,
              read_only=True),
)

DWELL_QOS = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
DETECTION_QOS = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)


class OnboardDetectorNode(SbamtiNode):
    """Dwells in, geolocated detections out."""

    def __init__(self, **kwargs) -> None:
        super().__init__("onboard_detector", **kwargs)
        cfg = declare_and_read(self, PARAMETERS)
        self.radar = RadarConfig.from_yaml(cfg["radar_config_file"]) if cfg["radar_config_file"] else RadarConfig()
        self.pfa = cfg["pfa"]
        self.assumed_altitude_m = cfg["assumed_altitude_m"]
        self.altitude_std_m = cfg["altitude_std_m"]
        self.processing_time_s = 0.0
        self._pub = self.create_publisher(DetectionArray, "detections", DETECTION_QOS)
        self.create_subscription(RadarDwell, "radar/dwell", self._on_dwell, DWELL_QOS)

    def _on_dwell(self, dwell: RadarDwell) -> None:
        if dwell.fidelity != RadarDwell.FIDELITY_STATISTICAL:
            self.reject("radar/dwell:iq_not_processed", f"dwell {dwell.dwell_id} of {dwell.satellite_id}: fidelity "
                                                        f"{dwell.fidelity} (IQ) is not processed by this detector yet")
            return
        sat = np.asarray(dwell.satellite_position_ecef)
        if not (np.all(np.isfinite(sat)) and dwell.prf_hz > 0):
            self.reject("radar/dwell:invalid_geometry", f"dwell {dwell.dwell_id}: satellite_position_ecef {list(sat)}, "
                                                        f"prf_hz {dwell.prf_hz}")
            return
        started = time.perf_counter()
        self.messages_in += 1
        self._pub.publish(self.detect(dwell))
        self.messages_out += 1
        self.processing_time_s += time.perf_counter() - started

    def detect(self, dwell: RadarDwell) -> DetectionArray:
        """Detections of one statistical dwell."""
        sat = np.asarray(dwell.satellite_position_ecef)
        vel = np.asarray(dwell.satellite_velocity_ecef)
        axes = antenna_axes(sat, vel, np.asarray(dwell.beam_centre_ecef))
        found = statistical_measurements(
            self.radar, dwell.prf_hz, self.pfa, from_field(dwell.return_range_m, np.float64),
            from_field(dwell.return_range_rate_mps, np.float64), from_field(dwell.return_azimuth_rad, np.float64),
            from_field(dwell.return_elevation_rad, np.float64), from_field(dwell.return_snr, np.float64))
        out = DetectionArray()
        out.header = dwell.header
        out.satellite_id = dwell.satellite_id
        out.dwell_id = dwell.dwell_id
        out.satellite_position_ecef = sat
        out.satellite_velocity_ecef = vel
        out.beam_centre_ecef = np.asarray(dwell.beam_centre_ecef)
        if not len(found):
            return out
        fix = geolocate(sat, axes, found.range_m, np.sin(found.azimuth_rad),
                        assumed_altitude_m=self.assumed_altitude_m, range_std_m=found.range_std_m,
                        cone_sine_std=np.cos(found.azimuth_rad) * found.azimuth_std_rad,
                        altitude_std_m=self.altitude_std_m)
        detections = []
        for i in np.nonzero(fix.valid)[0]:
            d = Detection()
            d.detection_id = int(i)
            d.range_m, d.range_rate_mps = float(found.range_m[i]), float(found.range_rate_mps[i])
            d.azimuth_rad, d.elevation_rad = float(found.azimuth_rad[i]), float(found.elevation_rad[i])
            d.range_std_m, d.range_rate_std_mps = float(found.range_std_m[i]), float(found.range_rate_std_mps[i])
            d.azimuth_std_rad, d.elevation_std_rad = float(found.azimuth_std_rad[i]), float(found.elevation_std_rad[i])
            d.snr_db = float(10.0 * np.log10(found.snr[i]))
            d.position_ecef = fix.position_ecef_m[i]
            d.position_covariance_ecef = fix.covariance_ecef_m2[i].reshape(9)
            d.latitude_rad, d.longitude_rad = float(fix.latitude_rad[i]), float(fix.longitude_rad[i])
            d.altitude_m = float(fix.altitude_m[i])
            detections.append(d)
        out.detections = detections
        return out


def main(args=None) -> int:
    return run_node(OnboardDetectorNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
