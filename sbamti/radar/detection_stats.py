"""Statistical (cube-free) detection: per-target Swerling draws and false alarms (pure: numpy).

The statistical mode of the simulator does not synthesise I/Q data. For each target in a dwell it
draws what a square-law detector on the coherently integrated CPI would see in the target's cell:

    x = sqrt(snr · s) · exp(jφ) + w,        w ~ CN(0, 1),   s = Swerling power factor (mean 1),

and declares a detection when ``|x|² > T = -ln(Pfa)`` (``swerling.threshold_for_pfa``). Because
``snr`` is the post-integration SNR of the whole CPI, every model fluctuates once per dwell: the
pulse-to-pulse models 2 and 4 are drawn like 1 and 3 (for model 2 this is exact, a coherent sum of
Gaussian returns is Gaussian; for model 4 it is the one-look approximation used throughout the
statistical mode — ``swerling.detection_probability(..., model=4, num_pulses=M)`` gives the exact
coherent-CPI value). The detection probability of this draw is exactly
``swerling.detection_probability(snr, pfa, model)``.

False alarms are cells of pure noise crossing the same threshold: their number is binomial
(``num_cells`` independent cells, each with probability ``Pfa``) and, by the memorylessness of the
exponential noise power, the power of a crossing is ``T + Exp(1)``.
"""

from __future__ import annotations

import numpy as np

from sbamti.errors import ConfigurationError
from sbamti.radar.swerling import (
    SWERLING_MODELS,
    _check_pfa,
    _check_snr,
    sample_rcs_factor,
    threshold_for_pfa,
)


def detect(snr_linear, models, pfa: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw one dwell's detection decision and reported SNR for each target.

    Parameters
    ----------
    snr_linear : array_like of float
        Mean post-integration SNR of each target (linear, >= 0).
    models : array_like of int
        Swerling model of each target (values in ``SWERLING_MODELS``); broadcast against
        ``snr_linear``.
    pfa : float
        Design false-alarm probability of the detector, in (0, 1).
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    detected : numpy.ndarray of bool
        ``|x|² > -ln(Pfa)``, broadcast shape of the inputs.
    measured_snr : numpy.ndarray of float
        ``|x|²`` in units of the noise power: the SNR a detector would report (signal plus noise,
        so ``E[measured_snr] = snr + 1``; not conditioned on detection).
    """
    snr = _check_snr(snr_linear)
    models = np.asarray(models)
    if models.size and not np.issubdtype(models.dtype, np.integer):
        raise ConfigurationError(f"models: expected an integer array, received dtype {models.dtype}")
    invalid = ~np.isin(models, SWERLING_MODELS)
    if np.any(invalid):
        raise ConfigurationError(
            f"models: expected Swerling models in {SWERLING_MODELS}, received {np.unique(models[invalid])!r}")
    threshold = threshold_for_pfa(pfa)
    snr, models = np.broadcast_arrays(snr, models)

    factor = np.ones(snr.shape)
    for model in (1, 2, 3, 4):
        mask = models == model
        count = int(np.count_nonzero(mask))
        if count:
            factor[mask] = sample_rcs_factor(model, count, rng)
    amplitude = np.sqrt(snr * factor) * np.exp(1j * rng.uniform(0.0, 2.0 * np.pi, size=snr.shape))
    noise = (rng.standard_normal(snr.shape) + 1j * rng.standard_normal(snr.shape)) * np.sqrt(0.5)
    measured = np.abs(amplitude + noise) ** 2
    return measured > threshold, measured


def false_alarm_count(num_cells: int, pfa: float, rng: np.random.Generator) -> int:
    """Number of false alarms among ``num_cells`` independent noise-only cells.

    Drawn from the exact binomial distribution ``B(num_cells, Pfa)``; for many cells and a small
    ``Pfa`` it is the Poisson distribution of mean ``num_cells · Pfa`` (NumPy's binomial sampler
    is efficient for any count, so no switch to the Poisson approximation is needed).

    Parameters
    ----------
    num_cells : int
        Number of tested resolution cells (>= 0).
    pfa : float
        False-alarm probability per cell, in (0, 1).
    rng : numpy.random.Generator
        Source of randomness.
    """
    num_cells = _check_cells(num_cells)
    pfa = _check_pfa(pfa)
    return int(rng.binomial(num_cells, pfa))


def false_alarm_cells(num_cells: int, pfa: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Which of ``num_cells`` noise-only cells cross the threshold, and with what power.

    Parameters
    ----------
    num_cells : int
        Number of tested resolution cells (>= 0), indexed ``0 .. num_cells - 1``.
    pfa : float
        False-alarm probability per cell, in (0, 1).
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    indices : numpy.ndarray of int64
        Unique, sorted indices of the false-alarm cells (count from ``false_alarm_count``; the
        cells are a uniform random subset).
    measured_snr : numpy.ndarray of float
        ``|x|²`` of each false alarm in units of the noise power: ``T + Exp(1)`` with
        ``T = -ln(Pfa)``, the exponential noise power conditioned on exceeding ``T``.
    """
    count = false_alarm_count(num_cells, pfa, rng)
    indices = np.sort(rng.choice(num_cells, size=count, replace=False)).astype(np.int64) if count \
        else np.zeros(0, dtype=np.int64)
    measured = threshold_for_pfa(pfa) + rng.exponential(1.0, size=count)
    return indices, measured


def _check_cells(num_cells) -> int:
    if isinstance(num_cells, (bool, np.bool_)) or not isinstance(num_cells, (int, np.integer)) \
            or num_cells < 0:
        raise ConfigurationError(f"num_cells: expected an integer >= 0, received {num_cells!r}")
    return int(num_cells)
