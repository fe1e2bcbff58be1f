"""Antenna patterns of the rectangular phased array: full-aperture transmit, subarray receive.

Pure (numpy only). All patterns are *amplitude* (field) patterns, one way, normalised to 1 at
boresight; square them for power and multiply transmit by receive for the two-way pattern.

Antenna frame (as in :mod:`sbamti.radar.config`): ``x`` along the aperture's long (along-track)
side, ``y`` along its height, ``z`` the boresight normal, right-handed (``z = x × y``). A direction
with unit vector ``u`` has direction sines ``s_x = u·x̂`` (the cone sine of :mod:`sbamti.radar.iq`)
and ``s_y = u·ŷ``.

A uniformly illuminated line aperture of length ``D`` has the far-field amplitude pattern
``sinc(D s / λ)`` with ``sinc(x) = sin(πx)/(πx)`` (numpy's convention), first nulls at
``s = ±λ/D``; a rectangular aperture is the product of its two line patterns (separable
illumination). Reference: M. A. Richards, *Fundamentals of Radar Signal Processing* (2005),
Sec. 1.4.2; C. A. Balanis, *Antenna Theory*, 3rd ed., Sec. 12.5 (uniform rectangular aperture
in a ground plane, whose ``(1 + cos θ)/2``-type obliquity factor is ignored here).

The array is one-sided (a planar array over a ground plane): directions behind the aperture
plane (``u·ẑ <= 0``) receive no gain, :func:`front_side` gives the mask.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def uniform_aperture_pattern(sine_offset: ArrayLike, length_m: float, wavelength_m: float) -> np.ndarray:
    """One-way amplitude pattern ``sinc(D s / λ)`` of a uniform line aperture of length ``D``.

    Parameters
    ----------
    sine_offset : array_like
        Direction sine ``s`` measured from the aperture normal along the aperture's axis.
    length_m : float, m
        Aperture length ``D``.
    wavelength_m : float, m
    """
    return np.sinc(np.asarray(sine_offset, dtype=np.float64) * (float(length_m) / float(wavelength_m)))


def front_side(boresight_cosine: ArrayLike) -> np.ndarray:
    """Mask of directions in front of the one-sided aperture: ``u·ẑ > 0``."""
    return np.asarray(boresight_cosine, dtype=np.float64) > 0.0


def transmit_gain_pattern(sine_x: ArrayLike, sine_y: ArrayLike, length_m: float, height_m: float,
                          wavelength_m: float, boresight_cosine: ArrayLike | None = None) -> np.ndarray:
    """Transmit (full aperture ``L × H``) one-way amplitude pattern ``sinc(L s_x/λ) sinc(H s_y/λ)``.

    ``boresight_cosine`` (``u·ẑ``), when given, zeroes the directions behind the aperture.
    """
    out = uniform_aperture_pattern(sine_x, length_m, wavelength_m) * uniform_aperture_pattern(
        sine_y, height_m, wavelength_m)
    if boresight_cosine is not None:
        out = np.where(front_side(boresight_cosine), out, 0.0)
    return out


def receive_subarray_pattern(sine_x: ArrayLike, sine_y: ArrayLike, subarray_length_m: float, height_m: float,
                             wavelength_m: float, boresight_cosine: ArrayLike | None = None) -> np.ndarray:
    """Receive pattern of one along-track subarray (``d × H``): ``sinc(d s_x/λ) sinc(H s_y/λ)``, one way.

    Every channel has the same pattern; the channels differ only by the phase of their phase
    centre (the spatial steering of :func:`sbamti.radar.iq.spatial_steering`).
    """
    out = uniform_aperture_pattern(sine_x, subarray_length_m, wavelength_m) * uniform_aperture_pattern(
        sine_y, height_m, wavelength_m)
    if boresight_cosine is not None:
        out = np.where(front_side(boresight_cosine), out, 0.0)
    return out
