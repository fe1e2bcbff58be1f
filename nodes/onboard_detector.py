"""onboard_detector: a satellite's detections from its radar dwells, geolocated with a covariance.

Subscribes ``radar/dwell`` and publishes ``detections`` (``DetectionArray``, stamped with the dwell
time). Statistical dwells: the returns are thresholded at ``pfa`` and get Cramér–Rao errors
(``sbamti.detection.measurements``). IQ dwells: Doppler filtering, post-Doppler STAP, CA-CFAR,
clustering and range / radial-velocity / beam-split angle estimates (``sbamti.detection.iq_chain``,
set up once per cube layout), with Cramér–Rao errors at the estimated SNR. Each detection is geolocated on the WGS84 ellipsoid raised to
``assumed_altitude_m`` (an along-track array cannot measure altitude), with ``altitude_std_m``
carried into the ECEF covariance (``sbamti.detection.geolocation``). The antenna frame is rebuilt
from the dwell's own geometry (``sbamti.radar.beam.antenna_axes``), so the dwell message is all the
detector needs.

PRF diversity: IQ dwells of a look (``look_id``; one dwell per PRF of the set) are held until the
look is complete (or the next look starts), their range rates unfolded together
(``sbamti.detection.look``, targets within ``max_target_speed_mps`` of the ground), and then
published, one ``DetectionArray`` per dwell, with ``range_rate_resolved`` set where it worked.
Single-PRF IQ dwells are published at once with range rates known modulo
``range_rate_blind_speed_mps``; statistical dwells carry unfolded range rates (a stated
simplification of the statistical model).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from rclpy.qos import QoSProfile, ReliabilityPolicy

from sbamti.detection.geolocation import geolocate
from sbamti.detection.iq_chain import IqDetector
from sbamti.detection.look import LookDwell, unfold_look
from sbamti.detection.measurements import Measurements, statistical_measurements, with_crlb_errors
from sbamti.radar.iq import SPEED_OF_LIGHT_MPS, CubeLayout
from sbamti.radar.beam import antenna_axes
from sbamti.radar.config import RadarConfig
from sbamti.ros.arrays import from_field, interleaved_to_complex
from sbamti.ros.node import SbamtiNode, run_node
from sbamti.ros.params import ParamSpec, declare_and_read
from sbamti.ros.qos import ONBOARD_DETECTIONS_QOS
from sbamti.timeutil import stamp_ns
from sbamti_msgs.msg import Detection, DetectionArray, RadarDwell

PARAMETERS = (
    ParamSpec("radar_config_file", "", "radar YAML with a 'radar:' section; '' = the baseline", read_only=True),
    ParamSpec("pfa", 1e-6, "false-alarm probability of the detection threshold", minimum=1e-12, maximum=0.1,
              read_only=True),
    ParamSpec("assumed_altitude_m", 5000.0, "target height above the ellipsoid assumed for geolocation (m)",
              minimum=-500.0, maximum=30000.0, read_only=True),
    ParamSpec("altitude_std_m", 5000.0, "1-sigma uncertainty of that assumption (m)", minimum=0.0, maximum=30000.0,
              read_only=True),
    ParamSpec("max_target_speed_mps", 600.0, "largest ground-relative radial speed a look's PRFs must resolve (m/s)",
              minimum=1.0, maximum=5000.0, read_only=True),
)

@dataclasses.dataclass(frozen=True)
class Housekeeping:
    """Per-dwell processing record carried in the DetectionArray."""

    processing_time_s: float
    cells_tested: int
    threshold_db: float
    threshold_crossings: int


DWELL_QOS = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)


class OnboardDetectorNode(SbamtiNode):
    """Dwells in, geolocated detections out."""

    def __init__(self, **kwargs) -> None:
        super().__init__("onboard_detector", **kwargs)
        cfg = declare_and_read(self, PARAMETERS)
        self.radar = RadarConfig.from_yaml(cfg["radar_config_file"]) if cfg["radar_config_file"] else RadarConfig()
        self.pfa = cfg["pfa"]
        self.assumed_altitude_m = cfg["assumed_altitude_m"]
        self.altitude_std_m = cfg["altitude_std_m"]
        self.max_target_speed_mps = cfg["max_target_speed_mps"]
        self._look: list[tuple[RadarDwell, np.ndarray, Measurements, Housekeeping, LookDwell]] = []  # open look
        self.processing_time_s = 0.0
        self._iq_detectors: dict[tuple, IqDetector] = {}
        self._pub = self.create_publisher(DetectionArray, "detections", ONBOARD_DETECTIONS_QOS)
        self.create_subscription(RadarDwell, "radar/dwell", self._on_dwell, DWELL_QOS)

    def _on_dwell(self, dwell: RadarDwell) -> None:
        if dwell.fidelity not in (RadarDwell.FIDELITY_STATISTICAL, RadarDwell.FIDELITY_IQ):
            self.reject("radar/dwell:unknown_fidelity", f"dwell {dwell.dwell_id}: fidelity {dwell.fidelity}")
            return
        expected = 2 * dwell.num_channels * dwell.num_pulses * dwell.num_range_bins
        if dwell.fidelity == RadarDwell.FIDELITY_IQ and (expected == 0 or len(dwell.iq_interleaved) != expected):
            self.reject("radar/dwell:bad_cube", f"dwell {dwell.dwell_id}: iq_interleaved has {len(dwell.iq_interleaved)} "
                                                f"floats, dimensions {dwell.num_channels}x{dwell.num_pulses}x"
                                                f"{dwell.num_range_bins} need {expected}")
            return
        sat = np.asarray(dwell.satellite_position_ecef)
        if not (np.all(np.isfinite(sat)) and dwell.prf_hz > 0):
            self.reject("radar/dwell:invalid_geometry", f"dwell {dwell.dwell_id}: satellite_position_ecef {list(sat)}, "
                                                        f"prf_hz {dwell.prf_hz}")
            return
        started = time.perf_counter()
        self.messages_in += 1
        if dwell.fidelity == RadarDwell.FIDELITY_IQ and dwell.dwells_in_look > 1:
            if self._look and self._look[0][0].look_id != dwell.look_id:
                self._flush_look()                      # a look cut short (a dwell was not made or was lost)
            axes = self._antenna_axes(dwell)
            found, record = self.measure(dwell, axes)
            self._look.append((dwell, axes, found, record, self._look_dwell(dwell, axes, found)))
            if dwell.dwell_in_look + 1 >= dwell.dwells_in_look:
                self._flush_look()
        else:
            self._publish(self.detect(dwell))
        self.processing_time_s += time.perf_counter() - started

    def _publish(self, array: DetectionArray) -> None:
        self._pub.publish(array)
        self.messages_out += 1

    @staticmethod
    def _antenna_axes(dwell: RadarDwell) -> np.ndarray:
        """The dwell's antenna frame (rows x, y, z; z the boresight), rebuilt from its geometry."""
        return antenna_axes(np.asarray(dwell.satellite_position_ecef), np.asarray(dwell.satellite_velocity_ecef),
                            np.asarray(dwell.beam_centre_ecef))

    @staticmethod
    def _clutter_range_rate_mps(dwell: RadarDwell, axes: np.ndarray) -> float:
        """Range rate of the ground along the boresight, ``-ẑ · v_sat``."""
        return -float(axes[2] @ np.asarray(dwell.satellite_velocity_ecef))

    def _look_dwell(self, dwell: RadarDwell, axes: np.ndarray, found: Measurements) -> LookDwell:
        beam_range = float(np.linalg.norm(np.asarray(dwell.beam_centre_ecef) - np.asarray(dwell.satellite_position_ecef)))
        return LookDwell(found.range_m, found.range_std_m, found.range_rate_mps, found.range_rate_std_mps, found.snr,
                         dwell.prf_hz, self._clutter_range_rate_mps(dwell, axes), beam_range,
                         stamp_ns(dwell.header.stamp) * 1e-9)

    def _flush_look(self) -> None:
        """Unfold the held look's range rates across its PRFs and publish its dwells in order."""
        look, self._look = self._look, []
        if not look:
            return
        wavelength = SPEED_OF_LIGHT_MPS / look[0][0].carrier_frequency_hz
        unfolded = unfold_look([item[4] for item in look], wavelength_m=wavelength,
                               max_target_speed_mps=self.max_target_speed_mps)
        for (dwell, axes, found, record, _), (rates, resolved) in zip(look, unfolded):
            self._publish(self.message(dwell, axes, dataclasses.replace(found, range_rate_mps=rates), resolved, record))

    def measure(self, dwell: RadarDwell, axes: np.ndarray) -> tuple[Measurements, Housekeeping]:
        """Measurements of one dwell (statistical returns or an IQ cube), before geolocation, and the
        processing record (for statistical dwells the cells tested are the dwell's returns)."""
        started = time.perf_counter()
        if dwell.fidelity == RadarDwell.FIDELITY_IQ:
            found, cells, crossings, threshold = self._iq_measurements(dwell, self._clutter_range_rate_mps(dwell, axes))
        else:
            snr = from_field(dwell.return_snr, np.float64)
            found = statistical_measurements(
                self.radar, dwell.prf_hz, self.pfa, from_field(dwell.return_range_m, np.float64),
                from_field(dwell.return_range_rate_mps, np.float64), from_field(dwell.return_azimuth_rad, np.float64),
                from_field(dwell.return_elevation_rad, np.float64), snr)
            cells, crossings, threshold = snr.size, len(found), -np.log(self.pfa)
        return found, Housekeeping(time.perf_counter() - started, int(cells), float(10.0 * np.log10(threshold)),
                                   int(crossings))

    def detect(self, dwell: RadarDwell) -> DetectionArray:
        """Detections of one dwell on its own (no PRF-diversity unfolding): statistical range rates are
        unfolded by the model, IQ ones known modulo the blind speed."""
        axes = self._antenna_axes(dwell)
        found, record = self.measure(dwell, axes)
        resolved = np.full(len(found), dwell.fidelity == RadarDwell.FIDELITY_STATISTICAL)
        return self.message(dwell, axes, found, resolved, record)

    def message(self, dwell: RadarDwell, axes: np.ndarray, found: Measurements, resolved: np.ndarray,
                record: Housekeeping) -> DetectionArray:
        """The DetectionArray of one dwell: geolocated detections, stamped with the dwell time."""
        sat = np.asarray(dwell.satellite_position_ecef)
        vel = np.asarray(dwell.satellite_velocity_ecef)
        blind_speed = SPEED_OF_LIGHT_MPS / dwell.carrier_frequency_hz * dwell.prf_hz / 2.0
        out = DetectionArray()
        out.header = dwell.header
        out.satellite_id = dwell.satellite_id
        out.dwell_id = dwell.dwell_id
        out.look_id = dwell.look_id
        out.processing_time_s = record.processing_time_s
        out.cells_tested = record.cells_tested
        out.threshold_db = record.threshold_db
        out.threshold_crossings = record.threshold_crossings
        out.clusters = len(found)
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
            d.range_rate_resolved = bool(resolved[i])
            d.range_rate_blind_speed_mps = float(blind_speed)
            d.position_ecef = fix.position_ecef_m[i]
            d.position_covariance_ecef = fix.covariance_ecef_m2[i].reshape(9)
            d.latitude_rad, d.longitude_rad = float(fix.latitude_rad[i]), float(fix.longitude_rad[i])
            d.altitude_m = float(fix.altitude_m[i])
            detections.append(d)
        out.detections = detections
        return out


    def _iq_measurements(self, dwell: RadarDwell, clutter_range_rate_mps: float
                         ) -> tuple[Measurements, int, int, float]:
        """Measurements, cells tested, threshold crossings and the CFAR factor of one IQ dwell."""
        shape = (dwell.num_channels, dwell.num_pulses, dwell.num_range_bins)
        layout = CubeLayout(channel_x_m=from_field(dwell.channel_positions_antenna_m, np.float64, (shape[0], 3))[:, 0],
                            num_pulses=shape[1], num_range_bins=shape[2], prf_hz=dwell.prf_hz,
                            wavelength_m=SPEED_OF_LIGHT_MPS / dwell.carrier_frequency_hz,
                            sample_rate_hz=dwell.sample_rate_hz, range_first_bin_m=dwell.range_first_bin_m)
        key = (shape, dwell.prf_hz, dwell.carrier_frequency_hz, dwell.sample_rate_hz, dwell.noise_power_w)
        detector = self._iq_detectors.get(key)
        if detector is None:   # set up once per cube layout (steering, windows, training plan, CFAR factor)
            detector = self._iq_detectors[key] = IqDetector(layout, noise_power_w=dwell.noise_power_w, pfa=self.pfa)
        cube = interleaved_to_complex(dwell.iq_interleaved, shape)
        est = detector(cube, clutter_range_rate_mps=clutter_range_rate_mps,
                       range_first_bin_m=dwell.range_first_bin_m)
        spacing = float(np.mean(np.diff(layout.channel_x_m))) if shape[0] > 1 else 1.0
        found = with_crlb_errors(est.range_m, est.radial_velocity_mps, np.arcsin(np.clip(est.cone_sine, -1.0, 1.0)),
                                 np.zeros(len(est)), est.snr, num_channels=shape[0], spacing_m=spacing,
                                 wavelength_m=layout.wavelength_m, num_pulses=shape[1], prf_hz=dwell.prf_hz,
                                 bandwidth_hz=dwell.sample_rate_hz,
                                 elevation_beamwidth_rad=self.radar.elevation_beamwidth_rad)
        return found, est.cells_tested, est.threshold_crossings, detector.cfar.alpha


def main(args=None) -> int:
    return run_node(OnboardDetectorNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
