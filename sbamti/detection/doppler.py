"""Doppler filter bank: a windowed FFT along the pulse axis of a [channel, pulse, range bin] cube.

Pure (numpy + scipy). Set up once (window, FFT size, bin frequencies), apply per CPI.

Conventions (those of :mod:`sbamti.radar.iq`): pulse ``m`` at ``t_m = m / PRF`` carries
``exp(-j 4π v_r t_m / λ) = exp(+j 2π f_d t_m)`` with ``f_d = -2 v_r / λ`` (``v_r`` > 0 opening).
The filter of bin ``k`` is

    Y[n, k, l] = Σ_m w_m x[n, m, l] exp(-j 2π q_k m / K),    q_k = k - K//2,

so the bins are **centred** (fft-shifted): bin ``K//2`` is zero Doppler, bin ``k`` is centred on
``f_k = q_k PRF / K`` and on the radial velocity ``v_k = -f_k λ / 2``.

Normalisation: the window is scaled to ``Σ_m w_m² = 1``, so white noise of power ``σ²`` per sample
keeps power ``σ²`` in every bin. A tone ``a exp(j 2π f_k t_m)`` centred on bin ``k`` then gives
``|Y|² = |a|² (Σ w)²`` — the coherent power gain ``(Σ w)² / Σ w² = M / ENBW`` (``M`` for the
rectangular window, less for tapered windows: the SNR gain of coherent integration minus the
window's loss; Harris, Proc. IEEE 66(1), 1978).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import windows

from sbamti.errors import ConfigurationError

MATMUL_MAX_ELEMENTS = 128 * 128
"""Filter banks with at most this many ``K × M`` coefficients apply their DFT matrix by matmul, larger ones an FFT."""

WINDOWS = ("chebyshev", "taylor", "hann", "rectangular")
"""Supported windows; ``sidelobe_db`` applies to chebyshev and taylor."""


def make_window(num_pulses: int, window: str = "chebyshev", sidelobe_db: float = 60.0) -> np.ndarray:
    """(M,) real window scaled to ``Σ w² = 1`` (white-noise power per bin unchanged)."""
    if window == "chebyshev":
        w = windows.chebwin(num_pulses, at=sidelobe_db, sym=True) if num_pulses > 1 else np.ones(1)
    elif window == "taylor":
        w = windows.taylor(num_pulses, nbar=4, sll=sidelobe_db, norm=True, sym=True)
    elif window == "hann":
        w = windows.hann(num_pulses, sym=False)
    elif window == "rectangular":
        w = np.ones(num_pulses)
    else:
        raise ConfigurationError(f"window: expected one of {WINDOWS}, received {window!r}")
    w = np.asarray(w, dtype=np.float64)
    return w / np.sqrt(np.sum(w * w))


class DopplerFilterBank:
    """Windowed, noise-normalised, centred FFT along the pulse axis (module docstring).

    Parameters
    ----------
    num_pulses : int
        M, pulses per CPI.
    window : str
        One of :data:`WINDOWS`.
    sidelobe_db : float, dB, > 0
        Peak sidelobe level below the mainlobe (chebyshev, taylor).
    fft_size : int, optional
        K >= M Doppler bins (zero padding); M by default.
    """

    def __init__(self, num_pulses: int, *, window: str = "chebyshev", sidelobe_db: float = 60.0,
                 fft_size: int | None = None) -> None:
        if num_pulses < 1:
            raise ConfigurationError(f"num_pulses: expected >= 1, received {num_pulses}")
        if not sidelobe_db > 0.0:
            raise ConfigurationError(f"sidelobe_db: expected > 0 dB, received {sidelobe_db}")
        size = num_pulses if fft_size is None else int(fft_size)
        if size < num_pulses:
            raise ConfigurationError(f"fft_size: expected >= num_pulses = {num_pulses}, received {size}")
        self.num_pulses = int(num_pulses)
        self.fft_size = size
        self.window = make_window(num_pulses, window, sidelobe_db)
        self.window_name = window
        self.sidelobe_db = float(sidelobe_db)
        q = np.arange(size) - size // 2
        self._offsets = q
        # Pre-multiplying by exp(+j 2π (K//2) m / K) shifts bin K//2 to zero Doppler (fftshift).
        m = np.arange(num_pulses)
        self._taper = (self.window * np.exp(2j * np.pi * (size // 2) * m / size)).astype(np.complex64)
        small = size * num_pulses <= MATMUL_MAX_ELEMENTS
        self._matrix128 = self.filter_matrix() if small else None
        self._matrix64 = self._matrix128.astype(np.complex64) if small else None

    @property
    def num_bins(self) -> int:
        return self.fft_size

    @property
    def coherent_power_gain(self) -> float:
        """``(Σ w)²`` with ``Σ w² = 1``: output power of a unit bin-centred tone."""
        return float(np.sum(self.window) ** 2)

    def filter_response(self, bin_offsets) -> np.ndarray:
        """Complex response in bin ``k + j`` to a unit tone centred on bin ``k``: ``Σ_m w_m e^{-j2π j m/K}``."""
        j = np.asarray(bin_offsets, dtype=np.float64)
        m = np.arange(self.num_pulses)
        return np.exp(-2j * np.pi * np.multiply.outer(j, m) / self.fft_size) @ self.window

    def filter_matrix(self) -> np.ndarray:
        """(K, M) complex matrix F with ``Y[n, k, l] = Σ_m F[k, m] x[n, m, l]`` (the DFT twin of ``__call__``)."""
        m = np.arange(self.num_pulses)
        return self.window[None, :] * np.exp(-2j * np.pi * np.outer(self._offsets, m) / self.fft_size)

    def __call__(self, cube: np.ndarray) -> np.ndarray:
        """(N, M, L) cube → (N, K, L) Doppler cube, complex64 (complex128 for complex128 input)."""
        cube = np.asarray(cube)
        if cube.ndim != 3 or cube.shape[1] != self.num_pulses:
            raise ValueError(f"cube: expected shape (N, {self.num_pulses}, L), received {cube.shape}")
        if self._matrix64 is not None:       # small M: one batched complex GEMM beats a strided FFT (measured 6x)
            matrix = self._matrix128 if cube.dtype == np.complex128 else self._matrix64
            return matrix @ (cube if np.iscomplexobj(cube) else cube.astype(matrix.dtype))
        taper = self._taper if cube.dtype == np.complex64 else self._taper.astype(np.complex128)
        out = np.fft.fft(cube * taper[None, :, None], n=self.fft_size, axis=1)
        return out.astype(np.complex64 if cube.dtype != np.complex128 else np.complex128, copy=False)

    def doppler_bins_hz(self, prf_hz: float) -> np.ndarray:
        """(K,) centre Doppler of each bin, Hz: ``(k - K//2) PRF / K``."""
        return self._offsets * (prf_hz / self.fft_size)

    def radial_velocity_mps(self, prf_hz: float, wavelength_m: float) -> np.ndarray:
        """(K,) radial velocity (> 0 opening) at each bin centre, ``v = -f_d λ / 2``, m/s."""
        return -self.doppler_bins_hz(prf_hz) * wavelength_m / 2.0
