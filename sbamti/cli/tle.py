"""``sbamti tle``: generate and check orbital element files. Pure: never imports rclpy.

    sbamti tle walker --total 48 --planes 6 --phasing 1 --altitude-km 700 --inclination-deg 53 \\
                      --epoch 2028-01-01T00:00:00Z [--prefix SBAMTI] [--first-catalog 90001] [--out FILE]
    sbamti tle check FILE [FILE ...] [--list]

``walker`` writes a 3LE file (a title line, e.g. ``SBAMTI-001``, then lines 1 and 2 per satellite;
stdout without ``--out``). ``check`` prints each rejected satellite's error and a count per file;
it exits 1 when any satellite is rejected, a file cannot be read, or a file holds no element set.
Usage errors (including Walker parameters out of range) exit 2 and name the option.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sbamti.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CommandError
from sbamti.errors import ConfigurationError
from sbamti.timeutil import format_utc_epoch_ns, parse_utc_epoch_ns

# sbamti.orbit (sgp4) is imported when a tle command runs, so other commands' start-up stays lean.

# walker_delta's keyword → the option that sets it (so a range error names the option)
OPTIONS = {
    "total": "--total", "planes": "--planes", "phasing": "--phasing", "altitude_m": "--altitude-km",
    "inclination_deg": "--inclination-deg", "epoch_ns": "--epoch", "name_prefix": "--prefix",
    "first_catalog_number": "--first-catalog", "raan_offset_deg": "--raan-offset-deg",
    "eccentricity": "--eccentricity", "bstar": "--bstar",
}


# -- argument types -------------------------------------------------------------------------------
def _integer(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text}")
        return value
    return parse


def _number(low: float | None = None, high: float | None = None, *, low_open: bool = False, what: str = ""):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        below = low is not None and (value <= low if low_open else value < low)
        if value != value or below or (high is not None and value > high) or value in (float("inf"), float("-inf")):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value
    return parse


def _epoch(text: str) -> int:
    try:
        return parse_utc_epoch_ns(text, field="--epoch")
    except ConfigurationError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--epoch: ")) from None


# -- parser ---------------------------------------------------------------------------------------
def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``tle walker`` and ``tle check`` on the top-level subcommands; each sets ``handler``."""
    tle = commands.add_parser("tle", help="generate and check orbital element files (TLE/3LE, OMM)",
                              description="Generate Walker constellations as 3LE files and check element files.")
    tle_commands = tle.add_subparsers(dest="tle_command", metavar="SUBCOMMAND", required=True)

    walker = tle_commands.add_parser(
        "walker", help="write a Walker-delta constellation as a 3LE file",
        description="Write a Walker delta constellation i:T/P/F as 3LE text: T satellites in P planes 360/P "
                    "apart in RAAN, T/P per plane, phase offset F*360/T between adjacent planes; circular "
                    "(e = 1e-4) at the given altitude above the equatorial radius. Satellites are named "
                    "PREFIX-001, PREFIX-002, ... plane by plane.")
    walker.add_argument("--total", type=_integer(1), required=True, metavar="T", help="number of satellites")
    walker.add_argument("--planes", type=_integer(1), required=True, metavar="P", help="number of planes (divides T)")
    walker.add_argument("--phasing", type=_integer(0), required=True, metavar="F", help="phasing factor, 0..P-1")
    walker.add_argument("--altitude-km", type=_number(0.0, low_open=True, what="kilometres > 0"), required=True,
                        metavar="KM", help="altitude above the equatorial radius 6378.137 km")
    walker.add_argument("--inclination-deg", type=_number(0.0, 180.0, what="degrees in 0..180"), required=True,
                        metavar="DEG", help="inclination, 0..180 degrees")
    walker.add_argument("--epoch", type=_epoch, required=True, metavar="UTC",
                        help="epoch of the elements, ISO-8601 UTC, e.g. 2028-01-01T00:00:00Z")
    walker.add_argument("--prefix", default="SBAMTI", help="name prefix (default: %(default)s)")
    walker.add_argument("--first-catalog", type=_integer(1), default=90001, metavar="N",
                        help="catalog number of the first satellite (default: %(default)s)")
    walker.add_argument("--raan-offset-deg", type=_number(what="degrees"), default=0.0, metavar="DEG",
                        help="RAAN of the first plane (default: %(default)s)")
    walker.add_argument("--eccentricity", type=_number(0.0, what="a number in 0..<1"), default=0.0001,
                        help="eccentricity (default: %(default)s)")
    walker.add_argument("--bstar", type=_number(what="a number"), default=0.0,
                        help="B* drag term in 1/earth radii (default: %(default)s, no drag)")
    walker.add_argument("--out", type=Path, metavar="FILE", help="write to FILE instead of stdout")
    walker.set_defaults(handler=run_walker)

    check = tle_commands.add_parser(
        "check", help="parse element files and report every malformed satellite",
        description="Parse element files (TLE/3LE .tle/.txt/.3le, OMM .xml/.csv/.json) and print every "
                    "rejected satellite with its line and field, then the accepted count. Exit 1 if any "
                    "satellite was rejected, a file is unreadable, or a file holds no element set.")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.add_argument("--list", action="store_true",
                       help="also list the accepted satellites (catalog number, id, name, epoch)")
    check.set_defaults(handler=run_check)


# -- commands -------------------------------------------------------------------------------------
def run_walker(args: argparse.Namespace) -> int:
    from sbamti.orbit.elements import format_3le
    from sbamti.orbit.walker import WalkerParameterError, walker_delta

    try:
        element_sets = walker_delta(
            args.total, args.planes, args.phasing, altitude_m=args.altitude_km * 1000.0,
            inclination_deg=args.inclination_deg, epoch_ns=args.epoch, name_prefix=args.prefix,
            first_catalog_number=args.first_catalog, raan_offset_deg=args.raan_offset_deg,
            eccentricity=args.eccentricity, bstar=args.bstar)
    except WalkerParameterError as exc:
        raise CommandError(f"argument {OPTIONS.get(exc.parameter, exc.parameter)}: {exc.detail}", EXIT_USAGE) from None
    text = format_3le(element_sets)
    if args.out is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        args.out.write_text(text, encoding="ascii")
    except OSError as exc:
        raise CommandError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    print(f"wrote {len(element_sets)} element sets to {args.out}", file=sys.stderr)
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    from sbamti.orbit.elements import ElementError, load_element_sets

    failed = False
    for path in args.files:
        try:
            result = load_element_sets(path)
        except ElementError as exc:
            print(exc)
            print(f"{path}: not loaded")
            failed = True
            continue
        for error in result.errors:
            print(error)
        if args.list:
            for element_set in result.element_sets:
                print(f"{path}: {element_set.catalog_number:6d}  {element_set.satellite_id:<24}  "
                      f"{element_set.name!r}  epoch {format_utc_epoch_ns(element_set.epoch_ns)}")
        accepted, rejected = len(result.element_sets), len(result.errors)
        print(f"{path}: {accepted} element set(s) accepted, {rejected} rejected"
              + ("" if accepted or rejected else " (no element sets found)"))
        failed = failed or rejected > 0 or accepted == 0
    return EXIT_FAILURE if failed else EXIT_OK
