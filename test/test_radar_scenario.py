"""Scenario files: loading, determinism, areas, class envelopes, malformed files, truth states."""

import math
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from sbamti.errors import ConfigurationError
from sbamti.radar.scenario import Area, load_scenario
from sbamti.radar.target_classes import TARGET_CLASSES

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "config" / "scenarios" / "default.yaml"
SMALL = REPO / "config" / "scenarios" / "small_test.yaml"
NS = 1_000_000_000
ten_cm = 0.1
envelope_slack = 1e-6      # m/s or m: interpolation round-off at the envelope edges


@pytest.fixture(scope="module")
def default_scenario():
    return load_scenario(DEFAULT)


@pytest.fixture(scope="module")
def small_scenario():
    return load_scenario(SMALL)


def _write(tmp_path, document, name="scenario.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def _sample_times(scenario, step_s=10.0):
    return np.arange(scenario.start_epoch_ns, scenario.end_epoch_ns + 1, int(step_s * NS), dtype=np.int64)


def test_both_scenarios_load(default_scenario, small_scenario):
    doc = yaml.safe_load(DEFAULT.read_text())
    expected = len(doc["targets"]) + sum(p["count"] for p in doc["populations"])
    assert len(default_scenario.targets) == expected
    assert len({a.name for a in default_scenario.areas}) == 2
    ids = [t.target_id for t in default_scenario.targets]
    assert len(set(ids)) == len(ids)
    assert default_scenario.start_epoch_ns == 1_830_340_800 * NS    # 2028-01-01T12:00:00Z
    small_ids = [t.target_id for t in small_scenario.targets]
    assert small_ids[:3] == [10, 11, 12]          # explicit ids kept, the id-less target gets the next one
    truth = small_scenario.truth_at(small_scenario.start_epoch_ns + 30 * NS)
    assert 11 not in truth.target_id               # the cruise missile starts at +60 s
    assert 11 in small_scenario.truth_at(small_scenario.start_epoch_ns + 61 * NS).target_id


def test_same_seed_same_truth_different_seed_different(tmp_path, small_scenario):
    again = load_scenario(SMALL)
    doc = yaml.safe_load(SMALL.read_text())
    doc["seed"] = doc["seed"] + 1
    other = load_scenario(_write(tmp_path, doc))
    t = small_scenario.start_epoch_ns + 200 * NS
    a, b, c = small_scenario.truth_at(t), again.truth_at(t), other.truth_at(t)
    np.testing.assert_array_equal(a.target_id, b.target_id)
    np.testing.assert_array_equal(a.position_ecef, b.position_ecef)
    np.testing.assert_array_equal(a.velocity_ecef, b.velocity_ecef)
    explicit = np.isin(a.target_id, [10, 11, 12])
    np.testing.assert_array_equal(a.position_ecef[explicit], c.position_ecef[explicit])
    assert np.all(np.linalg.norm(a.position_ecef[~explicit] - c.position_ecef[~explicit], axis=1) > 100.0)


def test_population_targets_start_inside_their_area(default_scenario, small_scenario):
    for path, scenario in ((DEFAULT, default_scenario), (SMALL, small_scenario)):
        populations = yaml.safe_load(path.read_text())["populations"]
        areas = {a.name: a for a in scenario.areas}
        checked = 0
        for target in scenario.targets:
            if target.source.startswith("populations["):
                index = int(target.source[len("populations["):-1])
                s = target.trajectory.state_at([target.trajectory.start_ns])
                assert areas[populations[index]["area"]].contains(s.lat_rad, s.lon_rad)[0], target
                assert target.trajectory.start_ns == scenario.start_epoch_ns
                assert target.trajectory.end_ns == scenario.end_epoch_ns
                checked += 1
        assert checked == sum(p["count"] for p in populations)


def test_cruise_missiles_stay_low_and_fast(default_scenario):
    n = 0
    for t in _sample_times(default_scenario):
        truth = default_scenario.truth_at(int(t))
        cm = truth.target_class == "cruise_missile"
        n += cm.sum()
        assert np.all((truth.alt_m[cm] >= 30.0 - envelope_slack) & (truth.alt_m[cm] <= 100.0 + envelope_slack))
        assert np.all((truth.speed_mps[cm] >= 200.0 - envelope_slack) & (truth.speed_mps[cm] <= 280.0 + envelope_slack))
    assert n > 100


def test_class_envelopes_respected_over_the_whole_duration(default_scenario):
    h = NS // 2
    for t in _sample_times(default_scenario)[1:-1]:
        truth = default_scenario.truth_at(int(t))
        before = default_scenario.truth_at(int(t) - h)
        after = default_scenario.truth_at(int(t) + h)
        for name, cls in TARGET_CLASSES.items():
            sel = truth.target_class == name
            if not sel.any():
                continue
            assert np.all(truth.speed_mps[sel] >= cls.speed_mps[0] - envelope_slack), name
            assert np.all(truth.speed_mps[sel] <= cls.speed_mps[1] + envelope_slack), name
            assert np.all(truth.alt_m[sel] >= cls.altitude_m[0] - envelope_slack), name
            assert np.all(truth.alt_m[sel] <= cls.altitude_m[1] + envelope_slack), name
            assert np.all(np.abs(truth.climb_rate_mps[sel]) <= cls.max_climb_rate_mps + envelope_slack), name
            # turn rate over +-0.5 s for the targets present at all three times
            ids = truth.target_id[sel]
            ok = np.isin(ids, before.target_id) & np.isin(ids, after.target_id)
            ids = ids[ok]
            hb = before.heading_rad[np.isin(before.target_id, ids)]
            ha = after.heading_rad[np.isin(after.target_id, ids)]
            rate = np.abs((ha - hb + math.pi) % (2 * math.pi) - math.pi)
            limit = np.array([cls.turn_rate_at(v) for v in truth.speed_mps[sel][ok]])
            assert np.all(rate <= limit * 1.01 + 1e-6), name


def test_truth_matches_each_trajectory(small_scenario):
    t = small_scenario.start_epoch_ns + 333 * NS + 123
    truth = small_scenario.truth_at(t)
    by_id = {tg.target_id: tg for tg in small_scenario.targets}
    for k, target_id in enumerate(truth.target_id):
        tg = by_id[target_id]
        s = tg.trajectory.state_at([t])
        np.testing.assert_allclose(s.position_ecef[0], truth.position_ecef[k], atol=1e-6)
        np.testing.assert_allclose(s.velocity_ecef[0], truth.velocity_ecef[k], atol=1e-9)
        cls = TARGET_CLASSES[tg.target_class]
        assert truth.target_class[k] == tg.target_class
        assert truth.rcs_m2[k] == cls.rcs_m2 and truth.swerling_model[k] == cls.swerling_model
    assert truth.utc_ns == t


def test_areas_contain_and_sample():
    rng = np.random.default_rng(1)
    box = Area("box", "polygon", vertices=np.radians([[44.0, 7.0], [44.0, 10.0], [46.0, 10.0], [46.0, 7.0]]))
    lat, lon = box.sample_points(500, rng)
    assert np.all(box.contains(lat, lon))
    assert np.all((np.degrees(lat) > 44.0) & (np.degrees(lat) < 46.0))
    assert not box.contains(np.radians(45.0), np.radians(11.0))
    disc = Area("disc", "circle", centre=(math.radians(45.0), math.radians(12.0)), radius_m=80e3)
    lat, lon = disc.sample_points(500, rng)
    assert np.all(disc.contains(lat, lon))
    # uniform in area: about a quarter of the points within half the radius
    inner = Area("inner", "circle", centre=disc.centre, radius_m=40e3).contains(lat, lon).mean()
    assert 0.18 < inner < 0.32


def _base():
    return yaml.safe_load(SMALL.read_text())


def _edit(fn):
    doc = _base()
    fn(doc)
    return doc


MALFORMED = [
    ("unknown class", lambda d: d["targets"][1].__setitem__("class", "ufo"), r"targets\[1\]: class: 'ufo'"),
    ("unknown area", lambda d: d["populations"][1].__setitem__("area", "mars"), r"populations\[1\]: area: 'mars'"),
    ("latitude out of range", lambda d: d["targets"][0]["waypoints"][2].__setitem__("lat", 95.0),
     r"targets\[0\]: waypoints\[2\]: lat: 95\.0 is outside \[-89, 89\]"),
    ("longitude out of range", lambda d: d["targets"][0]["waypoints"][0].__setitem__("lon", 400),
     r"targets\[0\]: waypoints\[0\]: lon: 400\.0 is outside"),
    ("speed outside envelope", lambda d: d["targets"][0]["waypoints"][1].__setitem__("speed_mps", 900),
     r"targets\[0\]: waypoints\[1\]: speed_mps: 900\.0 is outside the 'airliner' envelope \[110, 260\]"),
    ("cruise missile too high", lambda d: d["targets"][1]["waypoints"][1].__setitem__("alt_m", 150),
     r"targets\[1\]: waypoints\[1\]: alt_m: 150\.0 is outside the 'cruise_missile' envelope \[30, 100\] m \(AGL"),
    ("count zero", lambda d: d["populations"][0].__setitem__("count", 0), r"populations\[0\]: count: 0 must be"),
    ("count negative", lambda d: d["populations"][0].__setitem__("count", -3), r"populations\[0\]: count: -3"),
    ("bad epoch", lambda d: d.__setitem__("start_epoch", "2028-13-01T00:00:00Z"), r"start_epoch: '2028-13-01"),
    ("local-time epoch", lambda d: d.__setitem__("start_epoch", "2028-01-01T00:00:00+02:00"), r"start_epoch"),
    ("unknown top key", lambda d: d.__setitem__("sede", 3), r"unknown key 'sede'"),
    ("unknown waypoint key", lambda d: d["targets"][2]["waypoints"][0].__setitem__("altitude", 1),
     r"targets\[2\]: waypoints\[0\]: unknown key 'altitude'"),
    ("unknown population key", lambda d: d["populations"][0].__setitem__("number", 1),
     r"populations\[0\]: unknown key 'number'"),
    ("band outside envelope", lambda d: d["populations"][1].__setitem__("altitude_m", [50, 900]),
     r"populations\[1\]: altitude_m: \[50, 900\] is outside the 'small_drone' envelope"),
    ("band min > max", lambda d: d["populations"][0].__setitem__("speed_mps", [200, 100]),
     r"populations\[0\]: speed_mps: \[200, 100\] has min > max"),
    ("duplicate id", lambda d: d["targets"][1].__setitem__("id", 10), r"targets\[1\]: id: duplicate id 10"),
    ("missing waypoints", lambda d: d["targets"][0].pop("waypoints"), r"targets\[0\]: missing key 'waypoints'"),
    ("one waypoint", lambda d: d["targets"][0].__setitem__("waypoints", d["targets"][0]["waypoints"][:1]),
     r"targets\[0\]: waypoints: expected a list of >= 2"),
    ("polygon of two vertices", lambda d: d["areas"][0].__setitem__("polygon", [[44, 7], [45, 8]]),
     r"areas\[0\]: polygon: .* >= 3"),
    ("negative duration", lambda d: d.__setitem__("duration_s", -5), r"duration_s: -5\.0 is outside"),
    ("start offset after end", lambda d: d["targets"][1].__setitem__("start_offset_s", 600),
     r"targets\[1\]: start_offset_s: 600\.0 is outside \[0, 600\)"),
    ("seed not integer", lambda d: d.__setitem__("seed", "x"), r"seed: 'x' is not an integer"),
]


@pytest.mark.parametrize("label, edit, match", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_scenarios_rejected(tmp_path, label, edit, match):
    path = _write(tmp_path, _edit(edit))
    with pytest.raises(ConfigurationError, match=match) as info:
        load_scenario(path)
    assert str(path) in str(info.value)


def test_unreadable_and_non_yaml_files(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_scenario(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        load_scenario(bad)


def test_performance_sanity_5000_targets(tmp_path, capsys):
    """Not asserted: loads 5,000 random targets and times one truth_at (reported with -s)."""
    doc = _base()
    doc["targets"] = []
    doc["populations"] = [{"class": "small_drone", "area": "box", "count": 2500},
                          {"class": "business_jet", "area": "box", "count": 2500}]
    t0 = time.perf_counter()
    scenario = load_scenario(_write(tmp_path, doc))
    t1 = time.perf_counter()
    truth = scenario.truth_at(scenario.start_epoch_ns + 300 * NS + 17)
    t2 = time.perf_counter()
    assert len(truth.target_id) == 5000
    with capsys.disabled():
        print(f"\n[perf] load 5000 targets: {t1 - t0:.2f} s; truth_at(5000 targets): {(t2 - t1) * 1e3:.1f} ms")
