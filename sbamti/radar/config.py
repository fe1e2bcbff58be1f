"""The radar's configuration: one typed, validated declaration with the baseline as defaults.

Pure (numpy + PyYAML). The defaults are the baseline inputs of RADAR_PARAMETERS.md Sec. 2
(X band, 16 m x 2.5 m aperture, 16 along-track channels, 10 kW peak at 20 % duty, 5 MHz, PRF
7.5 kHz). Derived numbers (wavelength, gain, beamwidths, pulse width, ...) are properties, so
they can never disagree with the inputs.

Antenna frame: x along the aperture's long (along-track) side, y along its height, z the
boresight normal; channel phase centres lie on x, centred on 0.

Beamwidths are those of a uniformly illuminated aperture, power pattern ``sinc^2(L sin(theta)/lambda)``:
the one-way half-power full width is ``0.8859 lambda / L`` (the usual 0.886) and the two-way
(transmit and receive on the same aperture, ``sinc^4``) width is ``0.6378 lambda / L``. Both
constants are the roots of ``sinc^2 = 1/2`` and ``sinc^4 = 1/2`` (tested by root finding);
see Richards, *Fundamentals of Radar Signal Processing* (2005), Sec. 1.4.2 (table of
aperture weightings).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from sbamti.errors import ConfigurationError
from sbamti.yamlfile import read_yaml
from sbamti.radar.equation import BOLTZMANN, SPEED_OF_LIGHT, from_db

UNIFORM_ONE_WAY_3DB_FACTOR = 0.8858929413789046
"""Half-power full beamwidth of a uniform aperture, one way, in units of lambda / L."""
UNIFORM_TWO_WAY_3DB_FACTOR = 0.6378333973704505
"""Half-power full beamwidth of a uniform aperture, two way (sinc^4), in units of lambda / L."""

YAML_SECTION = "radar"
"""Top-level key of a radar configuration file."""


@dataclass(frozen=True)
class RadarConfig:
    """Inputs of the radar model, SI units (defaults: baseline of RADAR_PARAMETERS.md Sec. 2).

    Attributes
    ----------
    carrier_frequency_hz : float, Hz, [100 MHz, 100 GHz]
    bandwidth_hz : float, Hz, (0, 2 GHz], below the carrier
        Waveform (chirp) bandwidth; complex sampling at this rate.
    prf_set_hz : tuple of float, Hz, each in [100 Hz, 200 kHz]
        PRF diversity: a look makes one dwell per PRF on one beam cell, so dwell k uses
        ``prf_set_hz[k % len(prf_set_hz)]`` (:meth:`prf_for_dwell`).
    pulses_per_cpi : int, [1, 65536]
        M, pulses in one coherent processing interval.
    num_channels : int, [1, 1024]
        N, along-track receive subarrays (phase centres).
    channel_spacing_m : float, m, (0, 1000]
        d, along-track spacing of the phase centres; ``(N - 1) d <= aperture_length_m``.
    aperture_length_m, aperture_height_m : float, m, (0, 1000]
        Along-track length L and elevation height of the whole antenna.
    aperture_efficiency : float, (0, 1]
        Effective area / physical area.
    peak_power_w : float, W, (0, 1e8]
    duty_cycle : float, (0, 1)
        Fixed across PRFs: the pulse width is ``duty_cycle / PRF``.
    noise_figure_db : float, dB, [0, 30]
    system_losses_db : float, dB, [0, 60]
        Total losses L of the radar equation.
    reference_temperature_k : float, K, (0, 10000]
        T0 of the noise power ``k T0 F B``.
    grazing_min_deg, grazing_max_deg : float, deg, [0, 90], min < max
        Grazing-angle band the scenario places the beam in. The defaults 10..60 deg (slant range
        ~2370..910 km at 800 km altitude) bracket the sheet's 1000..2000 km (50.5..15.6 deg):
        below ~10 deg the spherical-Earth clutter and multipath models degrade and the range
        ambiguities crowd; above ~60 deg the ground range coverage is small and the
        pulse-limited cell model fails near nadir.
    clutter_gamma_db : float, dB, [-60, 10]
    azimuth_scan_limit_deg : float, deg, (0, 90]
        Largest electronic steering of the beam off broadside in azimuth (the antenna's long axis
        stays along the orbit). Beam cells squinted further are not scheduled: a strongly squinted
        along-track array cannot separate range from altitude (its geolocation degrades).
        Constant-gamma reflectivity, ``sigma0 = gamma sin(psi)`` (Richards Eq. 2.64).
    """

    carrier_frequency_hz: float = 10e9
    bandwidth_hz: float = 5e6
    prf_set_hz: tuple[float, ...] = (7500.0,)
    pulses_per_cpi: int = 32
    num_channels: int = 16
    channel_spacing_m: float = 1.0
    aperture_length_m: float = 16.0
    aperture_height_m: float = 2.5
    aperture_efficiency: float = 0.6
    peak_power_w: float = 10e3
    duty_cycle: float = 0.2
    noise_figure_db: float = 3.0
    system_losses_db: float = 5.0
    reference_temperature_k: float = 290.0
    grazing_min_deg: float = 10.0
    grazing_max_deg: float = 60.0
    clutter_gamma_db: float = -10.0
    azimuth_scan_limit_deg: float = 20.0

    def __post_init__(self) -> None:
        # Accept any sequence for the PRF set but store a tuple of floats (hashable, immutable).
        prfs = self.prf_set_hz
        if isinstance(prfs, (list, tuple, np.ndarray)) and all(_is_number(p) for p in prfs):
            object.__setattr__(self, "prf_set_hz", tuple(float(p) for p in prfs))
        problem = _problems(self)
        if problem is not None:
            raise ConfigurationError(f"RadarConfig: {problem}")

    # --- derived quantities ---------------------------------------------------------------

    @property
    def wavelength_m(self) -> float:
        """Carrier wavelength lambda = c / f0, m."""
        return SPEED_OF_LIGHT / self.carrier_frequency_hz

    @property
    def aperture_area_m2(self) -> float:
        """Physical aperture area L x H, m^2."""
        return self.aperture_length_m * self.aperture_height_m

    @property
    def effective_aperture_m2(self) -> float:
        """Effective area Ae = efficiency x L x H, m^2 (whole antenna)."""
        return self.aperture_efficiency * self.aperture_area_m2

    @property
    def gain(self) -> float:
        """Linear gain of the full aperture, G = 4 pi Ae / lambda^2 (used on transmit and receive)."""
        return 4.0 * math.pi * self.effective_aperture_m2 / self.wavelength_m ** 2

    @property
    def average_power_w(self) -> float:
        """Average transmit power P_peak x duty, W."""
        return self.peak_power_w * self.duty_cycle

    @property
    def pulse_width_s(self) -> float:
        """Pulse width at the first PRF of the set, duty / PRF, s (see :meth:`pulse_width_for_prf_s`)."""
        return self.pulse_width_for_prf_s(self.prf_set_hz[0])

    @property
    def range_resolution_m(self) -> float:
        """Slant-range resolution c / (2 B), m."""
        return SPEED_OF_LIGHT / (2.0 * self.bandwidth_hz)

    @property
    def sample_rate_hz(self) -> float:
        """Complex (I/Q) sample rate, Hz: equal to the bandwidth."""
        return self.bandwidth_hz

    @property
    def noise_power_w(self) -> float:
        """Receiver noise power k T0 B F in the signal bandwidth, W (one channel, one sample)."""
        return BOLTZMANN * self.reference_temperature_k * self.bandwidth_hz * from_db(self.noise_figure_db)

    @property
    def channel_positions_antenna_m(self) -> np.ndarray:
        """(N, 3) phase-centre positions in the antenna frame, m: along x, centred on 0."""
        positions = np.zeros((self.num_channels, 3))
        positions[:, 0] = (np.arange(self.num_channels) - 0.5 * (self.num_channels - 1)) * self.channel_spacing_m
        return positions

    @property
    def azimuth_beamwidth_rad(self) -> float:
        """One-way 3 dB azimuth beamwidth of the full aperture, 0.886 lambda / L, rad."""
        return UNIFORM_ONE_WAY_3DB_FACTOR * self.wavelength_m / self.aperture_length_m

    @property
    def elevation_beamwidth_rad(self) -> float:
        """One-way 3 dB elevation beamwidth, 0.886 lambda / H, rad."""
        return UNIFORM_ONE_WAY_3DB_FACTOR * self.wavelength_m / self.aperture_height_m

    @property
    def azimuth_beamwidth_two_way_rad(self) -> float:
        """Two-way (transmit x receive) 3 dB azimuth beamwidth, 0.638 lambda / L, rad."""
        return UNIFORM_TWO_WAY_3DB_FACTOR * self.wavelength_m / self.aperture_length_m

    @property
    def elevation_beamwidth_two_way_rad(self) -> float:
        """Two-way 3 dB elevation beamwidth, 0.638 lambda / H, rad."""
        return UNIFORM_TWO_WAY_3DB_FACTOR * self.wavelength_m / self.aperture_height_m

    def prf_for_dwell(self, dwell_index: int) -> float:
        """PRF of dwell ``k``: ``prf_set_hz[k % len(prf_set_hz)]``, Hz."""
        return self.prf_set_hz[int(dwell_index) % len(self.prf_set_hz)]

    def pulse_width_for_prf_s(self, prf_hz: float) -> float:
        """Pulse width duty / PRF, s."""
        return self.duty_cycle / float(prf_hz)

    def unambiguous_range_m(self, prf_hz: float) -> float:
        """Unambiguous range c / (2 PRF), m."""
        return SPEED_OF_LIGHT / (2.0 * float(prf_hz))

    def blind_range_m(self, prf_hz: float) -> float:
        """Range eclipsed by the transmitted pulse, c tau / 2, m (at the start of each PRI)."""
        return 0.5 * SPEED_OF_LIGHT * self.pulse_width_for_prf_s(prf_hz)

    def cpi_duration_s(self, prf_hz: float) -> float:
        """CPI duration M / PRF, s."""
        return self.pulses_per_cpi / float(prf_hz)

    # --- mappings and files ---------------------------------------------------------------

    @classmethod
    def from_mapping(cls, mapping: dict, source: str = "<dict>") -> RadarConfig:
        """A configuration from a mapping of field names to values; absent keys keep their defaults.

        Rejects (``ConfigurationError`` naming ``source``, the key, the value and the valid
        range) unknown keys, wrong types (bools are not numbers, integers must be integers,
        ``prf_set_hz`` a non-empty list), non-finite or out-of-range values and violated cross
        checks (see :class:`RadarConfig`).
        """
        if not isinstance(mapping, dict):
            raise ConfigurationError(f"{source}: expected a mapping of radar parameters, "
                                     f"got {type(mapping).__name__} {mapping!r}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(key) for key in mapping if key not in known)
        if unknown:
            raise ConfigurationError(f"{source}: unknown key {unknown[0]!r} "
                                     f"(valid keys: {', '.join(sorted(known))})")
        values: dict[str, Any] = {}
        for key, value in mapping.items():
            spec = _FIELD_SPECS[key]
            if key == "prf_set_hz":
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    value = [value]  # a single PRF is allowed as a scalar
                if not isinstance(value, (list, tuple)) or not value:
                    raise ConfigurationError(f"{source}: prf_set_hz: got {value!r}, "
                                             f"expected a non-empty list of PRFs in {spec.describe()} Hz")
                for index, item in enumerate(value):
                    _check_type(source, f"prf_set_hz[{index}]", item, float)
                values[key] = tuple(float(item) for item in value)
            else:
                _check_type(source, key, value, spec.kind)
                values[key] = spec.kind(value)
        try:
            return cls(**values)
        except ConfigurationError as exc:
            message = str(exc).removeprefix("RadarConfig: ")
            raise ConfigurationError(f"{source}: {message}") from None

    @classmethod
    def from_yaml(cls, path: str | Path) -> RadarConfig:
        """A configuration from the ``radar:`` section of a YAML file (other top-level keys are ignored)."""
        path = Path(path)
        document = read_yaml(path, "radar configuration")
        if not isinstance(document, dict) or YAML_SECTION not in document:
            raise ConfigurationError(f"{path}: expected a mapping with top-level key {YAML_SECTION!r}")
        section = document[YAML_SECTION]
        if section is None:
            section = {}
        return cls.from_mapping(section, source=f"{path}: {YAML_SECTION}")

    def to_mapping(self) -> dict[str, Any]:
        """Plain mapping of every input field (``prf_set_hz`` as a list): YAML-safe, inverse of :meth:`from_mapping`."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = [float(p) for p in value] if f.name == "prf_set_hz" else value
        return out


# --- validation -----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Spec:
    kind: type
    low: float
    high: float
    low_open: bool = False
    high_open: bool = False

    def contains(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def describe(self) -> str:
        return f"{'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"


_FIELD_SPECS: dict[str, _Spec] = {
    "carrier_frequency_hz": _Spec(float, 1e8, 1e11),
    "bandwidth_hz": _Spec(float, 0.0, 2e9, low_open=True),
    "prf_set_hz": _Spec(float, 100.0, 200e3),
    "pulses_per_cpi": _Spec(int, 1, 65536),
    "num_channels": _Spec(int, 1, 1024),
    "channel_spacing_m": _Spec(float, 0.0, 1000.0, low_open=True),
    "aperture_length_m": _Spec(float, 0.0, 1000.0, low_open=True),
    "aperture_height_m": _Spec(float, 0.0, 1000.0, low_open=True),
    "aperture_efficiency": _Spec(float, 0.0, 1.0, low_open=True),
    "peak_power_w": _Spec(float, 0.0, 1e8, low_open=True),
    "duty_cycle": _Spec(float, 0.0, 1.0, low_open=True, high_open=True),
    "noise_figure_db": _Spec(float, 0.0, 30.0),
    "system_losses_db": _Spec(float, 0.0, 60.0),
    "reference_temperature_k": _Spec(float, 0.0, 1e4, low_open=True),
    "grazing_min_deg": _Spec(float, 0.0, 90.0),
    "grazing_max_deg": _Spec(float, 0.0, 90.0),
    "clutter_gamma_db": _Spec(float, -60.0, 10.0),
    "azimuth_scan_limit_deg": _Spec(float, 0.0, 90.0, low_open=True),
}


def _is_number(value: Any) -> bool:
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, float, np.integer, np.floating))


def _check_type(source: str, key: str, value: Any, kind: type) -> None:
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ConfigurationError(f"{source}: {key}: got {value!r} ({type(value).__name__}), expected an integer")
    elif isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigurationError(f"{source}: {key}: got {value!r} ({type(value).__name__}), expected a number")


def _problems(config: RadarConfig) -> str | None:
    """First problem of a configuration as ``"key: got value, expected ..."``, or None."""
    for key, spec in _FIELD_SPECS.items():
        value = getattr(config, key)
        if key == "prf_set_hz":
            if not isinstance(value, (tuple, list)) or not value:
                return f"prf_set_hz: got {value!r}, expected a non-empty list of PRFs in {spec.describe()} Hz"
            items = [(f"prf_set_hz[{i}]", v) for i, v in enumerate(value)]
        else:
            items = [(key, value)]
        for name, item in items:
            if isinstance(item, bool) or not isinstance(item, (int, float, np.integer, np.floating)):
                return f"{name}: got {item!r}, expected {'an integer' if spec.kind is int else 'a number'}"
            if spec.kind is int and int(item) != item:
                return f"{name}: got {item!r}, expected an integer"
            if not math.isfinite(item) or not spec.contains(item):
                return f"{name}: got {item!r}, expected a value in {spec.describe()}"
    if config.bandwidth_hz >= config.carrier_frequency_hz:
        return (f"bandwidth_hz: got {config.bandwidth_hz!r}, expected below carrier_frequency_hz "
                f"({config.carrier_frequency_hz!r})")
    span = (config.num_channels - 1) * config.channel_spacing_m
    if span > config.aperture_length_m * (1.0 + 1e-12):
        return (f"num_channels x channel_spacing_m: got {config.num_channels} x {config.channel_spacing_m!r} m "
                f"= {config.num_channels * config.channel_spacing_m:g} m, "
                f"expected <= aperture_length_m + channel_spacing_m "
                f"= {config.aperture_length_m + config.channel_spacing_m!r} m (phase centres inside the aperture)")
    if config.grazing_min_deg >= config.grazing_max_deg:
        return (f"grazing_min_deg: got {config.grazing_min_deg!r}, expected below grazing_max_deg "
                f"({config.grazing_max_deg!r})")
    for index, prf in enumerate(config.prf_set_hz):
        tau = config.duty_cycle / prf
        if tau * config.bandwidth_hz < 1.0:
            return (f"prf_set_hz[{index}]: got {prf!r} Hz, which with duty_cycle {config.duty_cycle!r} gives a "
                    f"pulse width {tau:.3g} s shorter than 1 / bandwidth_hz; expected PRF <= "
                    f"duty_cycle x bandwidth_hz = {config.duty_cycle * config.bandwidth_hz:g} Hz")
    return None
