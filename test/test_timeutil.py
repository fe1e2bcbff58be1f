"""UTC epoch parsing and formatting of the sim clock."""

import pytest

from sbamti.errors import ConfigurationError
from sbamti.timeutil import format_utc_epoch_ns, parse_utc_epoch_ns, split_ns

# 2028-01-01 is 58 years after 1970 with 14 leap days (1972..2024): (58*365 + 14) * 86400 s.
EPOCH_2028_S = (58 * 365 + 14) * 86400


def test_known_epoch_matches_day_count():
    assert EPOCH_2028_S == 1_830_297_600
    assert parse_utc_epoch_ns("2028-01-01T00:00:00Z") == EPOCH_2028_S * 10**9


def test_fraction_keeps_nanoseconds_and_offset_forms_agree():
    ns = parse_utc_epoch_ns("2028-01-01T00:00:00.123456789Z")
    assert split_ns(ns) == (EPOCH_2028_S, 123_456_789)
    assert parse_utc_epoch_ns("2028-01-01 00:00:00.5+00:00") == EPOCH_2028_S * 10**9 + 500_000_000


@pytest.mark.parametrize("text", ["2028-01-01T00:00:00Z", "2031-02-28T23:59:59.000000001Z", "2024-02-29T12:00:00.25Z"])
def test_round_trip(text):
    assert format_utc_epoch_ns(parse_utc_epoch_ns(text)) == text


@pytest.mark.parametrize("text, problem", [
    ("2028-01-01T00:00:00+01:00", "not an ISO-8601 UTC time"),
    ("2028-01-01", "not an ISO-8601 UTC time"),
    ("2027-02-29T00:00:00Z", "not a valid date"),
    ("1969-12-31T23:59:59Z", "before 1970"),
])
def test_bad_epochs_name_field_and_value(text, problem):
    with pytest.raises(ConfigurationError, match=problem) as info:
        parse_utc_epoch_ns(text, field="start_epoch")
    assert "start_epoch" in str(info.value) and repr(text) in str(info.value)


def test_stamp_ns_inverts_split_ns():
    from types import SimpleNamespace

    from sbamti.timeutil import stamp_ns
    ns = EPOCH_2028_S * 10**9 + 123_456_789
    sec, nanosec = split_ns(ns)
    assert stamp_ns(SimpleNamespace(sec=sec, nanosec=nanosec)) == ns
