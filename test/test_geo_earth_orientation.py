"""Earth orientation parameters from IERS finals2000A files.

Hand-checked rows of the bundled finals2000A.all (astropy-iers-data):

    24 4 3 60403.00 I -0.012583 ... I-0.0137032 0.0000069 -0.2530 ... -0.012591  0.344287 -0.0137050 ...
    24 4 4 60404.00 I -0.011554 ... I-0.0135373 0.0000076 -0.0391 ... -0.011571  0.346466 -0.0135383 ...
    161231 57753.00 I ... I-0.4077601 ...                            ...  -0.4077600 ...
    17 1 1 57754.00 I ... I 0.5912821 ...                            ...   0.5912975 ...

Columns 135-165 are the Bulletin B values (PM-x, PM-y in arcsec, UT1-UTC in s), which the table
prefers; columns 80-86 are the Bulletin A LOD in ms.
"""

import numpy as np
import pytest

from sbamti.errors import ConfigurationError
from sbamti.geo.earth_orientation import (ZERO, EarthOrientation, EarthOrientationTable,
                                          _bundled_path)
from sbamti.timeutil import parse_utc_epoch_ns

ARCSEC = np.pi / (180 * 3600)
NS_PER_DAY = 86_400 * 10**9

# Tolerances, named in physical units.
file_digits_s = 1e-12             # values are read, not computed: float rounding only
file_digits_rad = 1e-12 * ARCSEC
ten_nanoseconds = 1e-8            # vs astropy's interpolation of the same table (UT1-UTC)
ten_microarcseconds = 1e-5 * ARCSEC


@pytest.fixture(scope="module")
def table():
    return EarthOrientationTable.bundled()


@pytest.fixture(scope="module")
def bundled_lines():
    return _bundled_path().read_text().splitlines()


def test_bundled_table_covers_1973_to_its_predictions(table):
    first, last = table.mjd_range
    assert first == 41684.0                        # 1973-01-02, the first row of every finals2000A.all
    assert last >= 61000.0                         # well past 2025-08 (predictions a year ahead)
    assert np.all(np.diff(table.mjd) == 1.0)
    assert EarthOrientationTable.bundled() is table     # read once


def test_value_on_a_row_is_the_rows_bulletin_b_values(table):
    eop = table.at(parse_utc_epoch_ns("2024-04-03T00:00:00Z"))
    assert float(eop.ut1_minus_utc_s) == pytest.approx(-0.0137050, abs=file_digits_s)   # B, not A's -0.0137032
    assert float(eop.xp_rad) == pytest.approx(-0.012591 * ARCSEC, abs=file_digits_rad)
    assert float(eop.yp_rad) == pytest.approx(0.344287 * ARCSEC, abs=file_digits_rad)
    assert float(eop.lod_s) == pytest.approx(-0.2530e-3, abs=file_digits_s)
    assert eop.ut1_minus_utc_s.shape == ()


def test_midway_between_two_days_is_the_mean(table):
    eop = table.at(parse_utc_epoch_ns("2024-04-03T12:00:00Z"))
    assert float(eop.ut1_minus_utc_s) == pytest.approx((-0.0137050 - 0.0135383) / 2, abs=file_digits_s)
    assert float(eop.xp_rad) == pytest.approx((-0.012591 - 0.011571) / 2 * ARCSEC, abs=file_digits_rad)
    assert float(eop.yp_rad) == pytest.approx((0.344287 + 0.346466) / 2 * ARCSEC, abs=file_digits_rad)
    assert float(eop.lod_s) == pytest.approx((-0.2530 - 0.0391) / 2 * 1e-3, abs=file_digits_s)


def test_leap_second_is_not_smeared_over_the_day(table):
    # UT1-UTC steps from -0.40776 to +0.59130 at the leap second ending 2016-12-31.
    before = parse_utc_epoch_ns("2016-12-31T23:59:59Z")
    ns = np.array([parse_utc_epoch_ns("2016-12-31T12:00:00Z"), before, before + 10**9], dtype=np.int64)
    ut1 = table.at(ns).ut1_minus_utc_s
    slope_s_per_day = (0.5912975 - 1.0) - (-0.4077600)       # continuous change over the day
    assert ut1[0] == pytest.approx(-0.4077600 + 0.5 * slope_s_per_day, abs=file_digits_s)
    assert ut1[1] == pytest.approx(-0.4077600 + (86_399 / 86_400) * slope_s_per_day, abs=file_digits_s)
    assert ut1[2] == pytest.approx(0.5912975, abs=file_digits_s)


def test_agrees_with_astropy_reading_the_same_file(table):
    pytest.importorskip("astropy")
    from astropy.time import Time
    from astropy.utils import iers

    iers.conf.auto_download = False
    theirs = iers.IERS_A.open(str(_bundled_path()))
    rng = np.random.default_rng(11)
    first, last = table.mjd_range
    ns = ((rng.uniform(first, last - 1, 500) - 40587) * NS_PER_DAY).astype(np.int64)
    jd, fr = 2440587.5 + ns // NS_PER_DAY, (ns % NS_PER_DAY) / NS_PER_DAY
    t = Time(jd.astype(float), fr, format="jd", scale="utc")
    ours = table.at(ns)
    xp, yp = theirs.pm_xy(t)
    assert np.max(np.abs(ours.ut1_minus_utc_s - theirs.ut1_utc(t).to_value("s"))) < ten_nanoseconds
    assert np.max(np.abs(ours.xp_rad - xp.to_value("rad"))) < ten_microarcseconds
    assert np.max(np.abs(ours.yp_rad - yp.to_value("rad"))) < ten_microarcseconds


def test_array_shape_and_last_row(table):
    last_ns = int((table.mjd_range[1] - 40587) * NS_PER_DAY)
    eop = table.at(np.full((2, 3), last_ns, dtype=np.int64))
    assert eop.xp_rad.shape == (2, 3)
    assert np.all(eop.ut1_minus_utc_s == table.ut1_minus_utc_s[-1])


@pytest.mark.parametrize("when", ["2028-01-01T00:00:00Z", "1972-06-30T00:00:00Z"])
def test_times_outside_the_table_are_refused_with_the_range(table, when):
    with pytest.raises(ConfigurationError, match=rf"{when}.*covers MJD 41684 to \d+ \(1973-01-02 to "):
        table.at(parse_utc_epoch_ns(when))


def test_outside_error_counts_bad_times():
    table = EarthOrientationTable(np.array([60000.0, 60001.0]), [0.1, 0.2], [0, 0], [0, 0], [0, 0], source="two-days")
    ns = (np.array([59999.5, 60000.5, 60002.0, 60003.0]) - 40587) * NS_PER_DAY
    with pytest.raises(ConfigurationError, match=r"MJD 59999\.50000.*two-days covers MJD 60000 to 60001.*3 of 4"):
        table.at(ns.astype(np.int64))
    assert float(table.at(int((60000.25 - 40587) * NS_PER_DAY)).ut1_minus_utc_s) == pytest.approx(0.125)


def test_constructor_checks_rows():
    with pytest.raises(ConfigurationError, match="whole days"):
        EarthOrientationTable([60000.0, 60000.5], [0, 0], [0, 0], [0, 0], [0, 0])
    with pytest.raises(ConfigurationError, match="at least 2 rows"):
        EarthOrientationTable([60000.0, 60001.0], [0, 0], [0, 0], [0, 0], [0])


def test_zeros():
    z = EarthOrientation.zeros((4, 2))
    assert z.lod_s.shape == (4, 2) and not np.any(z.ut1_minus_utc_s)
    assert ZERO.xp_rad.shape == () and EarthOrientationTable.ZERO is ZERO


# --- malformed files -------------------------------------------------------------------------

def _write(tmp_path, lines):
    path = tmp_path / "finals2000A.test"
    path.write_text("\n".join(lines) + "\n")
    return path


def _excerpt(bundled_lines, mjd_first=60400, n=6):
    start = next(i for i, line in enumerate(bundled_lines) if line[7:15] == f"{mjd_first}.00")
    return list(bundled_lines[start:start + n])


def _replace(line, first, last, text):
    return line[:first - 1] + text.rjust(last - first + 1) + line[last:]


def test_excerpt_parses_with_trailing_unfilled_rows(tmp_path, bundled_lines):
    lines = _excerpt(bundled_lines) + [bundled_lines[-2], bundled_lines[-1]]
    # The unfilled rows must continue the day count: renumber them after the excerpt.
    lines[-2] = "24 4 6 60406.00" + lines[-2][15:]
    lines[-1] = "24 4 7 60407.00" + lines[-1][15:]
    table = EarthOrientationTable.from_finals(_write(tmp_path, lines))
    assert table.mjd_range == (60400.0, 60405.0)


@pytest.mark.parametrize("column, text, message", [
    ((19, 27), "0.0x2583", r":3: field PM_x_A \(columns 19-27\) is '\s*0.0x2583', expected a number"),
    ((59, 68), "nan", r":3: field UT1_UTC_A \(columns 59-68\) is '\s*nan', expected a finite number"),
    ((8, 15), "60405.00", r":3: field MJD \(columns 8-15\) is 60405.00, expected 60402.00"),
    ((8, 15), "60402.50", r":3: field MJD \(columns 8-15\) is 60402.5, expected a whole day"),
    ((1, 6), "240431", r":3: date 2024-04-31 \(columns 1-6\) does not exist"),
    ((1, 6), "24 5 2", r":3: date 2024-05-02 \(columns 1-6\) is MJD 60432, but field MJD \(columns 8-15\) is 60402.00"),
    ((38, 46), "", r":3: field PM_y_A \(columns 38-46\) is empty, expected a number"),
])
def test_malformed_line_names_path_line_and_field(tmp_path, bundled_lines, column, text, message):
    lines = _excerpt(bundled_lines)
    lines[2] = _replace(lines[2], *column, text)
    path = _write(tmp_path, lines)
    with pytest.raises(ConfigurationError, match=str(path).replace(".", r"\.") + message):
        EarthOrientationTable.from_finals(path)


def test_values_after_unfilled_rows_are_refused(tmp_path, bundled_lines):
    lines = _excerpt(bundled_lines)
    lines[2] = lines[2][:15]
    with pytest.raises(ConfigurationError, match=r":4: field UT1_UTC_A .* but line 3 had none"):
        EarthOrientationTable.from_finals(_write(tmp_path, lines))


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot read Earth orientation file"):
        EarthOrientationTable.from_finals(tmp_path / "absent.all")
    with pytest.raises(ConfigurationError, match="fewer than 2 rows"):
        EarthOrientationTable.from_finals(_write(tmp_path, [""]))
