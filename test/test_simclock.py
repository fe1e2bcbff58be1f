"""Sim-time schedule: rate-factor mapping, stepping, and the end of a finite run."""

import pytest

from sbamti.errors import ConfigurationError
from sbamti.simclock import SimClockSchedule

START = 1_830_297_600 * 10**9
SECOND = 10**9


def test_rate_factor_maps_wall_time_without_drift():
    schedule = SimClockSchedule(start_ns=START, rate=10.0, step_ns=0)
    # Uneven tick times: sim time depends only on elapsed wall time, never on the tick count.
    times = [schedule.time_at(wall)[0] for wall in (0.0, 0.013, 0.5, 1.5)]
    assert times == [START, START + 130_000_000, START + 5 * SECOND, START + 15 * SECOND]


def test_as_fast_as_possible_steps_per_tick():
    schedule = SimClockSchedule(start_ns=START, rate=0.0, step_ns=10_000_000)
    times = [schedule.time_at(123.0)[0] for _ in range(4)]
    assert times == [START + k * 10_000_000 for k in range(4)]


def test_finite_run_ends_exactly_at_duration():
    schedule = SimClockSchedule(start_ns=START, rate=0.0, step_ns=3 * SECOND, duration_ns=10 * SECOND)
    ticks = []
    while True:
        now, last = schedule.time_at(0.0)
        ticks.append((now - START) // SECOND)
        if last:
            break
    assert ticks == [0, 3, 6, 9, 10]


@pytest.mark.parametrize("kwargs, field", [
    (dict(rate=-1.0, step_ns=1), "rate"),
    (dict(rate=float("nan"), step_ns=1), "rate"),
    (dict(rate=0.0, step_ns=0), "step_s"),
    (dict(rate=1.0, step_ns=1, duration_ns=-5), "duration_s"),
])
def test_invalid_schedule_names_the_parameter(kwargs, field):
    with pytest.raises(ConfigurationError, match=field):
        SimClockSchedule(start_ns=START, **kwargs)
