"""Track management roles on their own: M-of-N confirmation and deletion on hand-made hit/miss
sequences, the one-point initiator's covariance (the speed prior rotated from the local ENU frame),
the coverage test of an opportunity, and the track store's ids and satellite masks.

References: the M-of-N rule (Blackman and Popoli, *Design and Analysis of Modern Tracking Systems*,
1999, Sec. 6.3) counted by hand on the sequences below; the ENU frame of
:func:`sbamti.geo.wgs84.enu_rotation`.
"""

import numpy as np
import pytest

from sbamti.geo.wgs84 import enu_rotation, geodetic_to_ecef
from sbamti.tracking import kalman
from sbamti.tracking.errors import TrackingError
from sbamti.tracking.imm import ImmFilter
from sbamti.tracking.management import (
    KalmanTrackFilter,
    MissDeleter,
    MofNConfirmer,
    OnePointInitiator,
    TrackStatus,
    TrackStore,
    default_imm,
    filter_state_dim,
    hits_in_window,
    in_coverage,
)
from sbamti.tracking.motion import ConstantVelocity

LAT, LON = np.radians(54.0), np.radians(15.0)
ROUNDING = 1e-9                       # relative agreement of float64 sums of the same terms
one_metre = 1.0
T, C, K = TrackStatus.TENTATIVE, TrackStatus.CONFIRMED, TrackStatus.COASTING


def _store_with(n, state_dim=7, modes=2, window=5):
    store = TrackStore(state_dim, modes, window=window)
    x = np.zeros((n, state_dim))
    P = np.broadcast_to(np.eye(state_dim), (n, state_dim, state_dim))
    imm = default_imm() if modes == 2 else KalmanTrackFilter()
    store.add(imm.initial_state(x, P), 0, store.satellite_bit("sat_a"))
    return store


def _play(sequence, confirmer=MofNConfirmer(), deleter=MissDeleter()):
    """Statuses of one track after each opportunity of ``sequence`` ('H' hit, 'M' miss), after its initiation."""
    store = _store_with(1)
    out = []
    for c in sequence:
        hit = c == "H"
        store.record([0], hit=hit)
        if hit:
            store.status[:] = confirmer.confirm(store.status, store.history)
        else:
            store.status[:] = deleter.after_miss(store.status, store.misses)
        out.append(TrackStatus(int(store.status[0])))
        if store.status[0] == TrackStatus.DELETED:
            break
    return out


# --- M of N ------------------------------------------------------------------------------------

def test_hits_in_window_counts_the_latest_bits():
    history = np.array([0b10111, 0b11111000, 0b1, 2**64 - 1], dtype=np.uint64)
    assert hits_in_window(history, 5).tolist() == [4, 2, 1, 5]
    assert hits_in_window(history, 3).tolist() == [3, 0, 1, 3]
    assert hits_in_window(history, 64).tolist() == [4, 5, 1, 64]


@pytest.mark.parametrize("sequence, expected", [
    ("HH", [T, C]),                    # initiation + 2 hits: 3 of 3
    ("HMH", [T, T, C]),                # H H M H: 3 of 4
    ("MHH", [T, T, C]),
    ("MHMH", [T, T, T, C]),            # H M H M H: 3 of 5
])
def test_three_of_five_confirms_on_the_third_hit_within_five(sequence, expected):
    assert _play(sequence) == expected


def test_the_window_slides_old_hits_out():
    # Without deletion: H(init) M M M H H -> the last five are M M M H H (2 hits); one more H makes 3.
    keep = MissDeleter(tentative_miss_limit=10)
    assert _play("MMMHH", deleter=keep) == [T, T, T, T, T]
    assert _play("MMMHHH", deleter=keep)[-1] == C
    # 2 of 3 confirms H(init) M H but 3 of 5 does not
    assert _play("MH", confirmer=MofNConfirmer(2, 3)) == [T, C]


def test_tentative_deleted_after_consecutive_misses_only():
    assert _play("MM") == [T, TrackStatus.DELETED]
    assert _play("MHM")[-1] == T                       # misses not consecutive
    assert _play("MHMM")[-1] == TrackStatus.DELETED
    assert _play("MMM", deleter=MissDeleter(tentative_miss_limit=3)) == [T, T, TrackStatus.DELETED]


def test_confirmed_coasts_on_a_miss_recovers_on_a_hit_and_is_deleted_after_k_misses():
    assert _play("HHMH") == [T, C, K, C]
    assert _play("HH" + "M" * 5) == [T, C, K, K, K, K, TrackStatus.DELETED]
    assert _play("HH" + "MMMMHMMMM")[-1] == K           # the hit resets the consecutive count
    assert _play("HH" + "MM", deleter=MissDeleter(confirmed_miss_limit=2))[-1] == TrackStatus.DELETED


def test_deleted_when_the_predicted_position_spreads_beyond_the_bound():
    deleter = MissDeleter(max_position_std_m=20e3)
    cov = np.array([np.diag([19e3, 1e3, 1e3]) ** 2, np.diag([1e3, 21e3, 1e3]) ** 2,
                    np.full((3, 3), np.nan), np.diag([1e3, 1e3, 1e3]) ** 2])
    status = np.array([C, C, C, T], dtype=np.int8)
    out = deleter.after_miss(status, np.ones(4, dtype=np.int64), cov)
    assert out.tolist() == [K, TrackStatus.DELETED, TrackStatus.DELETED, T]


def test_role_parameters_are_checked():
    with pytest.raises(TrackingError, match="m = 4, n = 3"):
        MofNConfirmer(4, 3)
    with pytest.raises(TrackingError, match="miss limits"):
        MissDeleter(tentative_miss_limit=0)
    with pytest.raises(TrackingError, match="speed_std_horizontal_mps"):
        OnePointInitiator(speed_std_horizontal_mps=-1.0)


# --- initiation --------------------------------------------------------------------------------

@pytest.mark.parametrize("state_dim", [6, 7])
def test_one_point_initiation_rotates_the_speed_prior_to_the_local_vertical(state_dim):
    rng = np.random.default_rng(3)
    lat = np.radians(rng.uniform(-80.0, 80.0, 20))
    lon = np.radians(rng.uniform(-180.0, 180.0, 20))
    p = geodetic_to_ecef(lat, lon, np.full(20, 8000.0))
    a = rng.normal(size=(20, 3, 3)) * 500.0
    r = a @ a.transpose(0, 2, 1) + np.eye(3)
    init = OnePointInitiator(speed_std_horizontal_mps=250.0, speed_std_vertical_mps=10.0, turn_rate_std_rad_s=0.05)
    x, P = init.initiate(p, r, state_dim)
    assert x.shape == (20, state_dim) and P.shape == (20, state_dim, state_dim)
    assert np.array_equal(x[:, :3], p) and np.all(x[:, 3:] == 0.0)
    assert np.allclose(P[:, :3, :3], r, rtol=ROUNDING, atol=0.0)
    assert np.all(P[:, :3, 3:] == 0.0)
    enu = enu_rotation(lat, lon)                                     # rows E, N, U in ECEF
    pv_enu = enu @ P[:, 3:6, 3:6] @ enu.transpose(0, 2, 1)
    expected = np.diag([250.0 ** 2, 250.0 ** 2, 10.0 ** 2])
    assert np.allclose(pv_enu, expected, rtol=0.0, atol=ROUNDING * 250.0 ** 2)
    up_variance = np.einsum("ni,nij,nj->n", enu[:, 2], P[:, 3:6, 3:6], enu[:, 2])
    assert np.allclose(up_variance, 100.0, rtol=1e-9)               # small along the local up
    assert np.all(np.linalg.eigvalsh(P) > 0.0)
    if state_dim == 7:
        assert np.allclose(P[:, 6, 6], 0.05 ** 2)


# --- coverage, store, filters ------------------------------------------------------------------

def test_coverage_is_horizontal_distance_from_the_centre():
    centre = geodetic_to_ecef(LAT, LON, 0.0)
    north = 100e3 / 6384e3                # rad: ~100 km north (meridional radius of curvature at 54 deg)
    points = geodetic_to_ecef(np.array([LAT, LAT, LAT + north, LAT + north]), np.full(4, LON),
                              np.array([0.0, 12000.0, 0.0, 12000.0]))
    assert in_coverage(points, centre, 101e3).tolist() == [True, True, True, True]
    assert in_coverage(points, centre, 99e3).tolist() == [True, True, False, False]


def test_store_ids_are_stable_and_never_reused_and_satellites_accumulate():
    store = _store_with(3)
    assert store.id.tolist() == [1, 2, 3]
    store.status[1] = TrackStatus.DELETED
    assert store.remove_deleted().tolist() == [2]
    b = store.satellite_bit("sat_b")
    store.write([1], store.state.take([1]), 5, b)
    assert store.satellites_of(store.satellites[1]) == {"sat_a", "sat_b"}
    assert store.satellites_of(store.satellites[0]) == {"sat_a"}
    assert store.last_update_ns.tolist() == [0, 5]
    new = store.add(default_imm().initial_state(np.zeros((2, 7)), np.tile(np.eye(7), (2, 1, 1))), 7,
                    store.satellite_bit("sat_a"))
    assert new.tolist() == [4, 5] and store.id.tolist() == [1, 3, 4, 5]


def test_quality_is_the_hit_fraction_over_the_window():
    store = _store_with(1, window=4)
    for hit in (False, True, False, False, True):
        store.record([0], hit=hit)
    # history (latest first): H M M H M | H(init): the last 4 are H M M H -> 2 / 4
    assert store.quality[0] == 0.5 and store.hits[0] == 3 and store.opportunities[0] == 6


def test_kalman_track_filter_is_the_plain_ekf_as_one_mode():
    rng = np.random.default_rng(4)
    p = geodetic_to_ecef(np.full(4, LAT), np.full(4, LON), np.full(4, 5000.0))
    x = np.concatenate([p, rng.normal(0, 200.0, (4, 3))], axis=1)
    P = np.tile(np.diag([1e6, 1e6, 1e6, 1e4, 1e4, 1e4]), (4, 1, 1))
    model = ConstantVelocity()
    filt = KalmanTrackFilter(model)
    state = filt.predict(filt.initial_state(x, P), np.full(4, 3.3))
    x_ref, p_ref = kalman.predict(x, P, 3.3, model)
    assert np.array_equal(state.x[:, 0], x_ref) and np.array_equal(state.P[:, 0], p_ref)
    z = x_ref[:, :3] + rng.normal(0, 100.0, (4, 3))
    R = np.tile(np.eye(3) * 1e4, (4, 1, 1))
    up = filt.update(state, z, R)
    ref = kalman.update_position(x_ref, p_ref, z, R)
    assert np.array_equal(up.state.x[:, 0], ref.x) and np.array_equal(up.log_likelihood, ref.log_likelihood)
    assert filter_state_dim(filt) == 6 and filter_state_dim(default_imm()) == 7
    assert filter_state_dim(ImmFilter((ConstantVelocity(),), [[1.0]])) == 6
