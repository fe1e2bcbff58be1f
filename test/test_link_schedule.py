"""Contact windows and the token-bucket rate limit of the downlink (sbamti.link.schedule)."""

import pytest

from sbamti.link.errors import LinkError
from sbamti.link.schedule import ContactSchedule, ContactWindow, TokenBucket

S = 1_000_000_000  # ns per s


def _schedule():
    sched = ContactSchedule()
    # Given out of order; the second and third overlap (two stations in view at once).
    sched.update([ContactWindow(5000 * S, 5500 * S, "dongara"), ContactWindow(1000 * S, 1480 * S, "wallops"),
                  ContactWindow(1400 * S, 1900 * S, "santiago")])
    return sched


@pytest.mark.parametrize("t_s, in_contact, station, next_aos_s", [
    (0, False, "", 1000),
    (999.999, False, "", 1000),
    (1000, True, "wallops", 0),          # aos is inside the window
    (1450, True, "santiago", 0),         # overlap: the later-starting pass still in view
    (1480, True, "santiago", 0),
    (1900, True, "santiago", 0),         # los is inside the window
    (1900.001, False, "", 5000),
    (5500.5, False, "", 0),              # past the last window: next unknown
])
def test_contact_schedule_answers_in_and_out_of_windows(t_s, in_contact, station, next_aos_s):
    avail = _schedule().at(int(t_s * S))
    assert (avail.in_contact, avail.station, avail.next_aos_ns) == (in_contact, station, next_aos_s * S)


def test_a_new_prediction_replaces_the_old_one():
    sched = _schedule()
    sched.update([ContactWindow(7000 * S, 7300 * S, "singapore")])
    assert not sched.at(1000 * S).in_contact
    assert sched.at(1000 * S).next_aos_ns == 7000 * S
    assert sched.at(7100 * S).station == "singapore"


def test_window_ending_before_it_starts_is_refused_and_the_schedule_kept():
    sched = _schedule()
    with pytest.raises(LinkError, match=r"'bad'.*los 10 ns is before aos 20 ns"):
        sched.update([ContactWindow(20, 10, "bad")])
    assert sched.at(1000 * S).station == "wallops"


def test_token_bucket_limits_bytes_per_clock_second():
    bucket = TokenBucket(rate_bps=8_000.0, burst_bytes=1_000)   # 1000 bytes per second
    assert bucket.available(0) == 1000
    bucket.consume(1000)
    assert bucket.available(0) == 0
    assert bucket.available(S // 2) == 500        # half a second refills half the burst
    bucket.consume(700)                            # one frame may overdraw
    assert bucket.available(S // 2) == 0
    assert bucket.available(S) == 300              # -200 + 500
    assert bucket.available(100 * S) == 1000       # capped at the burst
    assert bucket.available(50 * S) == 1000        # clock going back refills nothing, takes nothing


def test_token_bucket_sustained_rate_matches_the_configuration():
    bucket = TokenBucket(rate_bps=1e6, burst_bytes=2_000)
    sent, t = 0, 0
    while t < 10 * S:                               # 10 s in 1 ms steps, 1500-byte frames
        while bucket.available(t) > 0:
            bucket.consume(1500)
            sent += 1500
        t += S // 1000
    assert sent * 8 / 10 == pytest.approx(1e6, rel=0.01)


def test_zero_rate_is_unlimited_and_negative_rates_are_refused():
    assert TokenBucket(0.0, 1).available(0) > 10**15
    with pytest.raises(LinkError, match="link_rate_bps: -1"):
        TokenBucket(-1.0, 10)
