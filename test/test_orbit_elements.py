"""Element ingestion (sbamti.orbit.elements) and the ``sbamti tle`` commands.

Reference element sets, with their sources:
- ISS (ZARYA), epoch 2008-09-20: the example TLE of the Wikipedia article "Two-line element set".
- Catalog 00005 (Vanguard 1, epoch 2000): the first case of Vallado's verification set
  ``SGP4-VER.TLE`` with its reference state in ``tcppver.out`` (D. Vallado et al., "Revisiting
  Spacetrack Report #3", AIAA 2006-6753), both shipped in the sgp4 wheel.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from sgp4.api import Satrec

from sbamti.cli.main import main
from sbamti.errors import ConfigurationError
from sbamti.orbit.elements import (ElementError, ElementSet, LoadResult, format_3le, format_tle, load_element_sets,
                                   parse_omm_csv, parse_omm_json, parse_omm_xml, parse_tle_text, select,
                                   tle_checksum)
from sbamti.timeutil import parse_utc_epoch_ns

BAD = Path(__file__).resolve().parent / "orbit_data" / "bad"
REPO = Path(__file__).resolve().parents[1]

ONE_MILLIMETRE_KM = 1e-6
ONE_MICROSECOND_NS = 1_000

ISS_TITLE = "ISS (ZARYA)"
ISS_LINE1 = "1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927"
ISS_LINE2 = "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537"
ISS_EPOCH_NS = parse_utc_epoch_ns("2008-09-20T12:25:40.104192Z")  # 2008 day 264.51782528, exact


def mod10(line: str) -> int:
    """The TLE checksum written out independently of the library: digits count their value, '-' 1."""
    total = 0
    for character in line[:68]:
        if character in "0123456789":
            total += ord(character) - ord("0")
        elif character == "-":
            total += 1
    return total % 10


def position_km(satrec: Satrec, jd: float, fr: float) -> np.ndarray:
    error, r, _v = satrec.sgp4(jd, fr)
    assert error == 0
    return np.array(r)


# == published element sets ========================================================================
def test_published_iss_tle_parses_to_its_elements():
    result = parse_tle_text(f"{ISS_TITLE}\n{ISS_LINE1}\n{ISS_LINE2}\n")
    assert result.errors == []
    (iss,) = result.element_sets
    assert (iss.name, iss.catalog_number, iss.satellite_id) == (ISS_TITLE, 25544, "iss_zarya")
    assert (iss.line1, iss.line2, iss.source) == (ISS_LINE1, ISS_LINE2, "<string>")
    assert abs(iss.epoch_ns - ISS_EPOCH_NS) < ONE_MICROSECOND_NS
    assert np.degrees(iss.satrec.inclo) == pytest.approx(51.6416, abs=1e-9)
    assert np.degrees(iss.satrec.nodeo) == pytest.approx(247.4627, abs=1e-9)
    assert iss.satrec.ecco == pytest.approx(0.0006703, abs=1e-12)
    assert iss.satrec.no_kozai * 1440 / (2 * np.pi) == pytest.approx(15.72125391, abs=1e-9)
    assert iss.satrec.bstar == pytest.approx(-0.11606e-4, rel=1e-12)


def test_vallado_case_00005_parses_and_propagates_to_the_reference_state():
    lines = files("sgp4").joinpath("SGP4-VER.TLE").read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("1 00005"))
    text = f"{lines[first]}\n{lines[first + 1][:69]}\n"  # line 2 carries start/stop/step after column 69
    (sat,) = parse_tle_text(text, source="SGP4-VER.TLE").element_sets
    assert (sat.name, sat.catalog_number, sat.satellite_id) == ("00005", 5, "n00005")
    # epoch 00179.78495062: 2000 is a leap year, day 179 is June 27; 0.78495062 d = 18:50:19.733568
    assert abs(sat.epoch_ns - parse_utc_epoch_ns("2000-06-27T18:50:19.733568Z")) < ONE_MICROSECOND_NS
    assert np.degrees(sat.satrec.inclo) == pytest.approx(34.2682, abs=1e-9)
    # tcppver.out, tsince 0: 7022.46529266 -1400.08296755 0.03995155 km
    r = position_km(sat.satrec, sat.satrec.jdsatepoch, sat.satrec.jdsatepochF)
    np.testing.assert_allclose(r, [7022.46529266, -1400.08296755, 0.03995155], atol=ONE_MILLIMETRE_KM)


def test_whole_vallado_set_parses_with_checksums_off():
    lines = files("sgp4").joinpath("SGP4-VER.TLE").read_text().splitlines()
    text = "\n".join(line[:69] for line in lines if line[:2] in ("1 ", "2 "))
    relaxed = parse_tle_text(text, verify_checksum=False)
    assert (len(relaxed.element_sets), relaxed.errors) == (33, [])
    strict = parse_tle_text(text)  # three sets of the file carry deliberately wrong checksums
    assert [e.satellite for e in strict.errors] == ["33333", "33334", "33335"]
    assert {e.field for e in strict.errors} == {"checksum"}


# == TLE reading ===================================================================================
def test_mixed_tle_and_3le_with_blank_lines_crlf_and_space_track_titles():
    vanguard = ("1 00005U 58002B   20287.20333880 -.00000016  00000-0 -22483-4 0  9998",
                "2 00005  34.2443 225.5254 1845686 162.2516 205.2356 10.84869164218149")
    text = (f"\r\n{ISS_TITLE}                    \r\n{ISS_LINE1}\r\n{ISS_LINE2}   \r\n\r\n"
            f"{vanguard[0]}\n{vanguard[1]}\n\n0 VANGUARD 1\n{vanguard[0]}\n{vanguard[1]}\n")
    result = parse_tle_text(text, source="mixed.tle")
    assert result.errors == []
    assert [(e.name, e.satellite_id, e.source) for e in result.element_sets] == [
        (ISS_TITLE, "iss_zarya", "mixed.tle"), ("00005", "n00005", "mixed.tle"),
        ("VANGUARD 1", "vanguard_1", "mixed.tle")]


@pytest.mark.parametrize("name, catalog, expected", [
    ("ISS (ZARYA)", 25544, "iss_zarya"), ("25544", 25544, "n25544"), ("SBAMTI-001", 90001, "sbamti_001"),
    ("STARLINK-1007", 44713, "starlink_1007"), ("  __ÄB c__ ", 1, "b_c"), ("()", 42, "n42"),
    ("snake_case", 7, "snake_case"),
])
def test_satellite_id(name, catalog, expected):
    assert ElementSet(name, catalog, Satrec(), None, None, "<string>").satellite_id == expected


# file, satellite, line, field, offending text (in the message)
BAD_TLE = [
    ("line_length.tle", "ISS (ZARYA)", 6, "line_length", "15.721253915"),
    ("line_number.tle", "ISS (ZARYA)", 5, "line_number", "'3'"),
    ("catalog_mismatch.tle", "ISS (ZARYA)", 6, "catalog_number", "'25545'"),
    ("catalog_alpha5_letter.tle", "ISS (ZARYA)", 5, "catalog_number", "'I5544'"),
    ("checksum.tle", "ISS (ZARYA)", 5, "checksum", "found '5', expected 7"),
    ("classification.tle", "ISS (ZARYA)", 5, "classification", "'X'"),
    ("layout_shifted.tle", "ISS (ZARYA)", 5, "layout", "column 18"),
    ("non_ascii.tle", "ISS (ZARYA)", 5, "characters", "'\u2212'"),
    ("epoch_text.tle", "ISS (ZARYA)", 5, "epoch", "'08264.5178252x'"),
    ("epoch_day_of_year.tle", "ISS (ZARYA)", 5, "epoch", "2007 has 365 days"),
    ("ndot_format.tle", "ISS (ZARYA)", 5, "ndot", "'-0.0000218'"),
    ("nddot_format.tle", "ISS (ZARYA)", 5, "nddot", "' 0000a-0'"),
    ("bstar_exponent.tle", "ISS (ZARYA)", 5, "bstar", "'-11606 4'"),
    ("inclination_text.tle", "ISS (ZARYA)", 6, "inclination", "' 5x.6416'"),
    ("inclination_range.tle", "ISS (ZARYA)", 6, "inclination", "'181.0000', expected degrees in 0..180"),
    ("raan_range.tle", "ISS (ZARYA)", 6, "raan", "'361.4627', expected degrees in 0..360"),
    ("eccentricity_point.tle", "ISS (ZARYA)", 6, "eccentricity", "'.000670'"),
    ("argp_text.tle", "ISS (ZARYA)", 6, "argp", "'130.53x0'"),
    ("mean_anomaly_range.tle", "ISS (ZARYA)", 6, "mean_anomaly", "'-25.0288'"),
    ("mean_motion_zero.tle", "ISS (ZARYA)", 6, "mean_motion", "' 0.00000000', expected revolutions per day > 0"),
    ("title_without_lines.tle", "ISS (ZARYA)", 4, "element_lines", "found 'ISS (ZARYA)'"),
    ("line2_without_line1.tle", "ISS (ZARYA)", 5, "line_1", "before this line 2"),
    ("line1_without_line2.tle", "ISS (ZARYA)", 5, "line_2", "line 2 (starting '2 ') right after line 1"),
]
BAD_OMM = [
    ("omm_missing_mean_motion.xml", "ISS (ZARYA)", 37, "MEAN_MOTION", "MEAN_MOTION: missing"),  # <segment> line
    ("omm_inclination_text.xml", "ISS (ZARYA)", 51, "INCLINATION", "'51.64x6'"),
    ("omm_theory_sgp4xp.xml", "ISS (ZARYA)", 44, "MEAN_ELEMENT_THEORY", "'SGP4-XP'"),
    ("omm_bad_epoch.csv", "ISS (ZARYA)", 3, "EPOCH", "'2008-13-20T12:25:40.104192'"),
    ("omm_missing_value.csv", "ISS (ZARYA)", 3, "MEAN_MOTION", "MEAN_MOTION: missing"),
    ("omm_eccentricity_range.csv", "ISS (ZARYA)", 3, "ECCENTRICITY", "'1.0006703'"),
    ("omm_missing_bstar.json", "ISS (ZARYA)", None, "BSTAR", "BSTAR: missing"),  # JSON: no line numbers
]


@pytest.mark.parametrize("name, satellite, line, field, text", BAD_TLE + BAD_OMM, ids=[c[0] for c in BAD_TLE + BAD_OMM])
def test_malformed_satellite_is_rejected_by_name_line_and_field_and_the_others_kept(name, satellite, line, field, text):
    path = BAD / name
    result = load_element_sets(path)
    assert [e.name for e in result.element_sets] == ["VANGUARD 1", "MARIO"]
    (error,) = result.errors
    assert isinstance(error, ConfigurationError)
    assert (error.source, error.satellite, error.line, error.field) == (str(path), satellite, line, field)
    message = str(error)
    assert message.startswith(str(path) + (f", line {line}:" if line else ":"))
    assert f"satellite {satellite!r}" in message
    assert f" {field}" in message and "expected" in message
    assert text in message


def test_there_are_at_least_twelve_malformed_inputs():
    assert len(BAD_TLE) + len(BAD_OMM) >= 12
    listed = {case[0] for case in BAD_TLE + BAD_OMM} | {"omm_not_well_formed.xml", "README.md"}
    assert {p.name for p in BAD.iterdir()} == listed  # no file without an expectation


def test_line_2_for_line_1_is_reported_as_a_line_number_error():
    line2_as_1 = ISS_LINE2[:0] + "3" + ISS_LINE2[1:]
    (error,) = parse_tle_text(f"{ISS_TITLE}\n{ISS_LINE1}\n{line2_as_1}\n").errors
    assert (error.line, error.field, error.found) == (3, "line_number", "3")
    assert "expected '2'" in str(error)


def test_every_bad_satellite_of_a_file_is_reported_once():
    text = "\n".join([ISS_TITLE, ISS_LINE1[:-1] + "0", ISS_LINE2, "LONELY TITLE", ISS_TITLE, ISS_LINE1, ISS_LINE2,
                      ISS_LINE2])
    result = parse_tle_text(text, source="many.tle")
    assert [(e.line, e.field) for e in result.errors] == [(2, "checksum"), (4, "element_lines"), (8, "line_1")]
    assert len(result.element_sets) == 1


def test_sgp4_refusing_the_lines_is_an_element_error(monkeypatch):
    def refuse(line1, line2):
        raise ValueError("TLE format error")
    monkeypatch.setattr(Satrec, "twoline2rv", refuse)  # the class sbamti.orbit.tle calls
    (error,) = parse_tle_text(f"{ISS_TITLE}\n{ISS_LINE1}\n{ISS_LINE2}\n").errors
    assert (error.satellite, error.line, error.field) == (ISS_TITLE, 3, "sgp4")
    assert "ValueError: TLE format error" in str(error)


def test_leap_year_day_366_is_accepted():
    line1 = ISS_LINE1[:18] + "08366.50000000" + ISS_LINE1[32:68]
    line1 += str(mod10(line1))
    (sat,) = parse_tle_text(f"{line1}\n{ISS_LINE2}\n").element_sets
    assert sat.epoch_ns == parse_utc_epoch_ns("2008-12-31T12:00:00Z")


def test_element_error_keeps_its_attributes_through_pickle():
    error = load_element_sets(BAD / "inclination_range.tle").errors[0]
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.field, copy.line, copy.satellite) == (str(error), error.field, error.line, error.satellite)


# == OMM ===========================================================================================
# Hand-written CelesTrak-format OMM (layout of celestrak.org gp.php FORMAT=XML / FORMAT=CSV) with the
# elements of the ISS TLE above, digit for digit.
ISS_XML = """\
<?xml version="1.0" encoding="UTF-8"?>
<ndm xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="https://sanaregistry.org/r/ndmxml_unqualified/ndmxml-2.0.0-master-2.0.xsd">
<omm id="CCSDS_OMM_VERS" version="2.0">
<header><CREATION_DATE/><ORIGINATOR/></header><body><segment><metadata><OBJECT_NAME>ISS (ZARYA)</OBJECT_NAME><OBJECT_ID>1998-067A</OBJECT_ID><CENTER_NAME>EARTH</CENTER_NAME><REF_FRAME>TEME</REF_FRAME><TIME_SYSTEM>UTC</TIME_SYSTEM><MEAN_ELEMENT_THEORY>SGP4</MEAN_ELEMENT_THEORY></metadata><data><meanElements><EPOCH>2008-09-20T12:25:40.104192</EPOCH><MEAN_MOTION>15.72125391</MEAN_MOTION><ECCENTRICITY>.0006703</ECCENTRICITY><INCLINATION>51.6416</INCLINATION><RA_OF_ASC_NODE>247.4627</RA_OF_ASC_NODE><ARG_OF_PERICENTER>130.5360</ARG_OF_PERICENTER><MEAN_ANOMALY>325.0288</MEAN_ANOMALY></meanElements><tleParameters><EPHEMERIS_TYPE>0</EPHEMERIS_TYPE><CLASSIFICATION_TYPE>U</CLASSIFICATION_TYPE><NORAD_CAT_ID>25544</NORAD_CAT_ID><ELEMENT_SET_NO>292</ELEMENT_SET_NO><REV_AT_EPOCH>56353</REV_AT_EPOCH><BSTAR>-.11606E-4</BSTAR><MEAN_MOTION_DOT>-.00002182</MEAN_MOTION_DOT><MEAN_MOTION_DDOT>0</MEAN_MOTION_DDOT></tleParameters></data></segment></body></omm>
</ndm>
"""
CSV_HEADER = ("OBJECT_NAME,OBJECT_ID,EPOCH,MEAN_MOTION,ECCENTRICITY,INCLINATION,RA_OF_ASC_NODE,ARG_OF_PERICENTER,"
              "MEAN_ANOMALY,EPHEMERIS_TYPE,CLASSIFICATION_TYPE,NORAD_CAT_ID,ELEMENT_SET_NO,REV_AT_EPOCH,BSTAR,"
              "MEAN_MOTION_DOT,MEAN_MOTION_DDOT")
ISS_CSV = (f"{CSV_HEADER}\n\"ISS (ZARYA)\",1998-067A,2008-09-20T12:25:40.104192,15.72125391,.0006703,51.6416,"
           "247.4627,130.5360,325.0288,0,U,25544,292,56353,-.11606E-4,-.00002182,0\n")
# The same satellite to more digits than a TLE can print (as an OMM from an orbit determination may
# carry): each value differs from the TLE's by less than half a unit of the TLE's last digit.
ISS_CSV_PRECISE = (f"{CSV_HEADER}\nISS (ZARYA),1998-067A,2008-09-20T12:25:40.104517,15.721253912,.00067034,"
                   "51.641638,247.462664,130.536041,325.028836,0,U,25544,292,56353,-.116058E-4,-.0000218204,0\n")
ISS_JSON = ('[{"OBJECT_NAME": "ISS (ZARYA)", "OBJECT_ID": "1998-067A", "EPOCH": "2008-09-20T12:25:40.104192",'
            ' "MEAN_MOTION": 15.72125391, "ECCENTRICITY": 0.0006703, "INCLINATION": 51.6416,'
            ' "RA_OF_ASC_NODE": 247.4627, "ARG_OF_PERICENTER": 130.536, "MEAN_ANOMALY": 325.0288,'
            ' "EPHEMERIS_TYPE": 0, "CLASSIFICATION_TYPE": "U", "NORAD_CAT_ID": 25544, "ELEMENT_SET_NO": 292,'
            ' "REV_AT_EPOCH": 56353, "BSTAR": -1.1606e-05, "MEAN_MOTION_DOT": -2.182e-05, "MEAN_MOTION_DDOT": 0}]')

# Same decimal inputs: the satrecs differ only in how the epoch reaches sgp4 (TLE day of year vs an
# OMM calendar date through days since 1949), a few ulps of a day; a millimetre bounds it with margin.
SAME_DIGITS_KM = ONE_MILLIMETRE_KM
# More-digit OMM vs the TLE: the TLE rounds angles to 0.5e-4 deg (5.9 m each at a = 6730 km; mean
# anomaly, argument of perigee, RAAN and inclination add up to 23.5 m at most), the epoch to 0.5e-8 d
# (0.43 ms = 3.3 m at 7.7 km/s), eccentricity to 0.5e-7 (0.34 m) and mean motion to 0.5e-8 rev/day
# (< 0.1 m after an hour): 30 m bounds the sum; less than 1 m would mean the extra digits were lost.
TLE_ROUNDING_KM = 0.030


def _iss_tle() -> ElementSet:
    return parse_tle_text(f"{ISS_TITLE}\n{ISS_LINE1}\n{ISS_LINE2}\n").element_sets[0]


@pytest.mark.parametrize("reader, text", [(parse_omm_xml, ISS_XML), (parse_omm_csv, ISS_CSV),
                                          (parse_omm_json, ISS_JSON)], ids=["xml", "csv", "json"])
def test_omm_propagates_to_the_same_position_as_the_tle(reader, text):
    tle = _iss_tle()
    result = reader(text, "iss-omm")
    assert result.errors == []
    (sat,) = result.element_sets
    assert (sat.name, sat.catalog_number, sat.satellite_id, sat.line1, sat.line2, sat.source) == (
        ISS_TITLE, 25544, "iss_zarya", None, None, "iss-omm")
    assert abs(sat.epoch_ns - tle.epoch_ns) < ONE_MICROSECOND_NS
    jd, fr = tle.satrec.jdsatepoch, tle.satrec.jdsatepochF + 60.0 / 1440.0  # epoch + 60 min
    distance = np.linalg.norm(position_km(sat.satrec, jd, fr) - position_km(tle.satrec, jd, fr))
    assert distance < SAME_DIGITS_KM


def test_more_precise_omm_agrees_with_the_tle_within_its_printed_precision():
    tle = _iss_tle()
    (precise,) = parse_omm_csv(ISS_CSV_PRECISE).element_sets
    jd, fr = tle.satrec.jdsatepoch, tle.satrec.jdsatepochF + 60.0 / 1440.0
    distance = np.linalg.norm(position_km(precise.satrec, jd, fr) - position_km(tle.satrec, jd, fr))
    assert 0.001 < distance < TLE_ROUNDING_KM


def test_omm_defaults_day_of_year_epoch_and_namespaced_xml():
    xml = ('<omm xmlns:n="urn:x"><n:body><n:segment><n:metadata><n:OBJECT_NAME>X</n:OBJECT_NAME></n:metadata>'
           '<n:data><n:meanElements><n:EPOCH>2008-264T12:25:40.104192Z</n:EPOCH><n:MEAN_MOTION>15.72125391'
           '</n:MEAN_MOTION><n:ECCENTRICITY>.0006703</n:ECCENTRICITY><n:INCLINATION>51.6416</n:INCLINATION>'
           '<n:RA_OF_ASC_NODE>247.4627</n:RA_OF_ASC_NODE><n:ARG_OF_PERICENTER>130.5360</n:ARG_OF_PERICENTER>'
           '<n:MEAN_ANOMALY>325.0288</n:MEAN_ANOMALY></n:meanElements><n:tleParameters><n:NORAD_CAT_ID>25544'
           '</n:NORAD_CAT_ID><n:BSTAR>0</n:BSTAR><n:MEAN_MOTION_DOT>0</n:MEAN_MOTION_DOT><n:MEAN_MOTION_DDOT>0'
           '</n:MEAN_MOTION_DDOT></n:tleParameters></n:data></n:segment></n:body></omm>')
    result = parse_omm_xml(xml)
    assert result.errors == []
    assert abs(result.element_sets[0].epoch_ns - ISS_EPOCH_NS) < ONE_MICROSECOND_NS
    assert result.element_sets[0].satrec.classification == "U"


def test_omm_without_a_name_is_named_by_its_catalog_number():
    text = ISS_CSV.replace('"ISS (ZARYA)"', "")
    (sat,) = parse_omm_csv(text).element_sets
    assert (sat.name, sat.satellite_id) == ("25544", "n25544")


def test_omm_csv_row_with_extra_values_is_rejected():
    result = parse_omm_csv(ISS_CSV + ISS_CSV.splitlines()[1] + ",surplus\n", "x.csv")
    assert len(result.element_sets) == 1
    (error,) = result.errors
    assert (error.satellite, error.line, error.field) == (ISS_TITLE, 3, "columns")


def test_malformed_xml_raises_with_the_line():
    with pytest.raises(ElementError, match=r"omm_not_well_formed.xml, line 20: xml: found 'mismatched tag'") as info:
        load_element_sets(BAD / "omm_not_well_formed.xml")
    assert (info.value.line, info.value.field, info.value.satellite) == (20, "xml", None)


def test_json_that_is_not_a_list_of_objects_raises():
    with pytest.raises(ElementError, match="json"):
        parse_omm_json('"just text"', "x.json")
    with pytest.raises(ElementError, match="line 1"):
        parse_omm_json("[{", "x.json")
    result = parse_omm_json("[3]", "x.json")
    assert result.element_sets == [] and result.errors[0].field == "object 0"


# == files =========================================================================================
@pytest.mark.parametrize("name, text", [
    ("iss.tle", f"{ISS_TITLE}\n{ISS_LINE1}\n{ISS_LINE2}\n"), ("iss.txt", f"{ISS_LINE1}\n{ISS_LINE2}\n"),
    ("iss.3le", f"{ISS_TITLE}\n{ISS_LINE1}\n{ISS_LINE2}\n"), ("iss.xml", ISS_XML), ("iss.csv", ISS_CSV),
    ("iss.json", ISS_JSON), ("iss.dat", ISS_XML), ("iss_omm", ISS_CSV), ("iss_json", ISS_JSON),
    ("iss_tle", f"{ISS_LINE1}\n{ISS_LINE2}\n"),
])
def test_load_element_sets_by_extension_or_content(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    result = load_element_sets(path)
    assert result.errors == []
    assert [(e.catalog_number, e.source) for e in result.element_sets] == [(25544, str(path))]


def test_unreadable_files_raise_element_error_naming_the_path(tmp_path):
    missing = tmp_path / "missing.tle"
    with pytest.raises(ElementError, match=f"{missing}: file: found 'No such file or directory'") as info:
        load_element_sets(missing)
    assert (info.value.source, info.value.field) == (str(missing), "file")
    with pytest.raises(ElementError, match=str(tmp_path)):
        load_element_sets(tmp_path)
    latin1 = tmp_path / "latin1.tle"
    latin1.write_bytes(f"{ISS_LINE1}\n{ISS_LINE2}\nSAT\xe9\n".encode("latin-1"))
    with pytest.raises(ElementError, match=r"latin1.tle, line 3: encoding: found 'byte 0xe9'"):
        load_element_sets(latin1)


# == select ========================================================================================
def _constellation() -> list[ElementSet]:
    from sbamti.orbit.walker import walker_delta
    return walker_delta(12, 3, 1, altitude_m=700e3, inclination_deg=53.0,
                        epoch_ns=parse_utc_epoch_ns("2028-01-01T00:00:00Z"))


def test_select_by_catalog_number_name_or_id_in_file_order():
    sats = _constellation()
    chosen = select(sats, ["sbamti_004", "90002", "SBAMTI-003", " ", "90002"])
    assert [s.name for s in chosen] == ["SBAMTI-002", "SBAMTI-003", "SBAMTI-004"]
    assert select(sats, []) == sats
    assert select(sats, [""]) == sats  # what an unset ROS string-array parameter gives
    assert select(sats, "90001") == sats[:1]  # a lone string is one entry, not characters
    assert select(_iss_with_vanguard(), ["5"])[0].catalog_number == 5
    assert select(_iss_with_vanguard(), ["00005", "n25544"])[1].name == "25544"


def _iss_with_vanguard() -> list[ElementSet]:
    vanguard = ("1 00005U 58002B   20287.20333880 -.00000016  00000-0 -22483-4 0  9998\n"
                "2 00005  34.2443 225.5254 1845686 162.2516 205.2356 10.84869164218149\n")
    return parse_tle_text(f"{vanguard}{ISS_LINE1}\n{ISS_LINE2}\n").element_sets


def test_select_unknown_entries_are_named_with_up_to_ten_available_ids():
    sats = _constellation()
    with pytest.raises(ConfigurationError) as info:
        select(sats, ["sbamti_001", "iss", "99999"])
    message = str(info.value)
    assert "'iss', '99999' not found among the 12 element sets" in message
    assert "sbamti_001, sbamti_002" in message and "sbamti_010, ... (2 more)" in message
    assert "sbamti_011" not in message


# == writing =======================================================================================
def test_format_tle_reproduces_the_published_iss_lines():
    lines = format_tle(25544, epoch=(2008, 264.51782528), ndot=-0.00002182, nddot=0.0, bstar=-0.11606e-4,
                       inclination_deg=51.6416, raan_deg=247.4627, eccentricity=0.0006703, argp_deg=130.5360,
                       mean_anomaly_deg=325.0288, mean_motion_rev_per_day=15.72125391, intl_designator="98067A",
                       element_set_number=292, rev_number=56353)
    assert lines == (ISS_LINE1, ISS_LINE2)
    assert format_tle(25544, epoch=ISS_EPOCH_NS, ndot=-0.00002182, bstar=-0.11606e-4, inclination_deg=51.6416,
                      raan_deg=247.4627, eccentricity=0.0006703, argp_deg=130.5360, mean_anomaly_deg=325.0288,
                      mean_motion_rev_per_day=15.72125391, intl_designator="98067A", element_set_number=292,
                      rev_number=56353) == lines


def _formatted(**overrides) -> tuple[str, str]:
    arguments = dict(epoch=parse_utc_epoch_ns("2028-01-01T00:00:00Z"), inclination_deg=53.0, raan_deg=0.0,
                     eccentricity=0.0001, argp_deg=0.0, mean_anomaly_deg=0.0, mean_motion_rev_per_day=14.5)
    arguments.update(overrides)
    catalog = arguments.pop("catalog_number", 90001)
    return format_tle(catalog, **arguments)


@pytest.mark.parametrize("overrides, column, text", [
    ({"epoch": parse_utc_epoch_ns("2027-12-31T23:59:59.9999Z")}, slice(18, 32), "28001.00000000"),  # carries a year
    ({"epoch": parse_utc_epoch_ns("2028-12-31T12:00:00Z")}, slice(18, 32), "28366.50000000"),       # leap year
    ({"bstar": 1.0}, slice(53, 61), " 10000+1"),
    ({"bstar": -0.000999996}, slice(53, 61), "-10000-2"),      # mantissa rounding carries into the exponent
    ({"bstar": 3e-15}, slice(53, 61), " 00000-0"),             # below the format's range
    ({"nddot": 1.5e-12}, slice(44, 52), " 00150-9"),          # denormalised to exponent -9
    ({"ndot": 0.000000004}, slice(33, 43), " .00000000"),
    ({"catalog_number": 100000}, slice(2, 7), "A0000"),
    ({"catalog_number": 339999}, slice(2, 7), "Z9999"),
    ({"catalog_number": 123456}, slice(2, 7), "C3456"),       # Alpha-5 skips I and O: A=10, B=11, C=12
])
def test_format_tle_fields(overrides, column, text):
    line1, line2 = _formatted(**overrides)
    assert line1[column] == text
    assert (len(line1), len(line2)) == (69, 69)
    assert (int(line1[68]), int(line2[68])) == (mod10(line1), mod10(line2))
    (sat,) = parse_tle_text(f"{line1}\n{line2}\n").element_sets  # the writer's output passes the reader
    if "catalog_number" in overrides:
        assert sat.catalog_number == sat.satrec.satnum == overrides["catalog_number"]


def test_format_tle_wraps_angles():
    _line1, line2 = _formatted(raan_deg=-30.0, argp_deg=359.99999, mean_anomaly_deg=720.5)
    assert (line2[17:25], line2[34:42], line2[43:51]) == ("330.0000", "  0.0000", "  0.5000")


@pytest.mark.parametrize("overrides, match", [
    ({"inclination_deg": 181.0}, "inclination_deg: got 181.0, expected degrees in 0..180"),
    ({"eccentricity": 1.0}, "eccentricity: got 1.0, expected 0 <= e < 1"),
    ({"mean_motion_rev_per_day": 0.0}, "mean_motion_rev_per_day: got 0.0"),
    ({"mean_motion_rev_per_day": 100.0}, "mean_motion_rev_per_day: got 100.0"),
    ({"catalog_number": 340000}, "catalog_number: got 340000"),
    ({"epoch": parse_utc_epoch_ns("2057-01-01T00:00:00Z")}, "epoch: .*1957..2056"),
    ({"epoch": (2027, 366.0)}, r"epoch: got \(2027, 366.0\)"),
    ({"ndot": 1.0}, "ndot: got 1.0"),
    ({"bstar": float("nan")}, "bstar: got nan"),
    ({"classification": "X"}, "classification"),
    ({"intl_designator": "123456789"}, "intl_designator"),
    ({"rev_number": 100000}, "rev_number"),
])
def test_format_tle_rejects_values_it_cannot_write(overrides, match):
    with pytest.raises(ConfigurationError, match=match):
        _formatted(**overrides)


def test_tle_checksum_matches_the_published_lines():
    assert tle_checksum(ISS_LINE1) == mod10(ISS_LINE1) == 7
    assert tle_checksum(ISS_LINE2) == mod10(ISS_LINE2) == 7


def test_format_3le_needs_tle_lines():
    assert format_3le([_iss_tle()]) == f"{ISS_TITLE}\n{ISS_LINE1}\n{ISS_LINE2}\n"
    with pytest.raises(ValueError, match="no TLE lines"):
        format_3le(parse_omm_csv(ISS_CSV).element_sets)


def test_load_result_is_a_plain_container():
    result = LoadResult()
    assert (result.element_sets, result.errors) == ([], [])


# == sbamti tle ====================================================================================
WALKER_ARGS = ["tle", "walker", "--total", "48", "--planes", "6", "--phasing", "1", "--altitude-km", "700",
               "--inclination-deg", "53", "--epoch", "2028-01-01T00:00:00Z"]


def test_cli_walker_output_parses_back_to_48_satellites_with_valid_checksums(capsys):
    assert main(WALKER_ARGS) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) == 3 * 48
    assert lines[0::3] == [f"SBAMTI-{k:03d}" for k in range(1, 49)]  # bare titles, no comments
    for line in lines[1::3] + lines[2::3]:
        assert len(line) == 69 and int(line[68]) == mod10(line)
    result = parse_tle_text(out)
    assert result.errors == [] and len(result.element_sets) == 48
    assert [e.catalog_number for e in result.element_sets] == list(range(90001, 90049))


def test_cli_walker_writes_the_sample_file_byte_for_byte(tmp_path, capsys):
    out = tmp_path / "walker.tle"
    assert main([*WALKER_ARGS, "--out", str(out)]) == 0
    assert "wrote 48 element sets" in capsys.readouterr().err
    sample = REPO / "config" / "constellations" / "walker_48_6_1_700km_53deg.tle"
    assert out.read_text() == sample.read_text()
    small = tmp_path / "small.tle"
    assert main(["tle", "walker", "--total", "4", "--planes", "2", "--phasing", "1", "--altitude-km", "800",
                 "--inclination-deg", "53", "--epoch", "2028-01-01T00:00:00Z", "--out", str(small)]) == 0
    assert small.read_text() == (REPO / "config" / "constellations" / "small_4sat.tle").read_text()


def test_cli_walker_prefix_and_first_catalog(capsys):
    assert main([*WALKER_ARGS[:3], "6", "--planes", "3", "--phasing", "2", *WALKER_ARGS[8:], "--prefix", "RADAR",
                 "--first-catalog", "99998"]) == 0
    sats = parse_tle_text(capsys.readouterr().out).element_sets
    assert [s.satellite_id for s in sats] == [f"radar_00{k}" for k in range(1, 7)]
    assert [s.catalog_number for s in sats] == list(range(99998, 100004))
    assert sats[2].line1[2:7] == "A0000"


@pytest.mark.parametrize("change, option", [
    (["--planes", "5"], "--planes"), (["--phasing", "6"], "--phasing"), (["--prefix", "9x"], "--prefix"),
    (["--first-catalog", "339990"], "--first-catalog"), (["--eccentricity", "0.5"], "--eccentricity"),
])
def test_cli_walker_parameter_errors_exit_2_naming_the_option(capsys, change, option):
    args = list(WALKER_ARGS)
    if change[0] in args:
        args[args.index(change[0]) + 1] = change[1]
    else:
        args += change
    assert main(args) == 2
    assert f"argument {option}: got" in capsys.readouterr().err


@pytest.mark.parametrize("change, option", [
    (["--total", "0"], "--total"), (["--altitude-km", "-1"], "--altitude-km"),
    (["--inclination-deg", "181"], "--inclination-deg"), (["--epoch", "2028-01-01"], "--epoch"),
    (["--planes", "six"], "--planes"),
])
def test_cli_walker_usage_errors_exit_2_naming_the_option(capsys, change, option):
    args = list(WALKER_ARGS)
    args[args.index(change[0]) + 1] = change[1]
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    assert f"argument {option}:" in capsys.readouterr().err


def test_cli_check_reports_each_error_and_exits_1(capsys):
    bad = [BAD / "checksum.tle", BAD / "omm_bad_epoch.csv"]
    assert main(["tle", "check", *map(str, bad)]) == 1
    out = capsys.readouterr().out.splitlines()
    expected = [str(load_element_sets(path).errors[0]) for path in bad]
    assert out == [expected[0], f"{bad[0]}: 2 element set(s) accepted, 1 rejected",
                   expected[1], f"{bad[1]}: 2 element set(s) accepted, 1 rejected"]


def test_cli_check_good_file_lists_and_exits_0(capsys):
    sample = REPO / "config" / "constellations" / "small_4sat.tle"
    assert main(["tle", "check", str(sample), "--list"]) == 0
    out = capsys.readouterr().out
    assert "sbamti_004" in out and "epoch 2028-01-01T00:00:00Z" in out
    assert out.splitlines()[-1] == f"{sample}: 4 element set(s) accepted, 0 rejected"


def test_cli_check_unreadable_or_empty_files_exit_1(tmp_path, capsys):
    empty = tmp_path / "empty.tle"
    empty.write_text("\n")
    assert main(["tle", "check", str(empty)]) == 1
    assert "0 element set(s) accepted, 0 rejected (no element sets found)" in capsys.readouterr().out
    assert main(["tle", "check", str(tmp_path / "nope.tle")]) == 1
    out = capsys.readouterr().out
    assert "nope.tle: file: found 'No such file or directory'" in out and "nope.tle: not loaded" in out


def test_cli_tle_commands_do_not_import_rclpy(tmp_path):
    out = tmp_path / "w.tle"
    code = ("import sys\n"
            "from sbamti.cli.main import main\n"
            f"assert main({[*WALKER_ARGS, '--out', str(out)]!r}) == 0\n"
            f"assert main(['tle', 'check', {str(out)!r}]) == 0\n"
            "assert 'rclpy' not in sys.modules, 'rclpy imported'\n"
            "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")
