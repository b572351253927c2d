"""``surfscan porosity``: pore fraction of SEM cross-sections, or gravimetric porosity.

Cross-sections:  surfscan porosity SECTION.tif [--region ROW0:ROW1,COL0:COL1]
Gravimetric:     surfscan porosity --areal-mass "3.1 mg/cm2" --thickness "42 um"
                     --component Ag:0.3 --component "carbon black:0.6:1.9" --component PVdF:0.1
"""

from __future__ import annotations

import argparse

from ..errors import SurfscanError
from .common import add_pixel_size_option, each_file, load, print_json, print_table


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "porosity", help="porosity of cross-sections or from areal mass and thickness",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="*", metavar="FILE", help="SEM cross-section images")
    p.add_argument("--region", metavar="R0:R1,C0:C1", help="pixel rows and columns of the coating (default all)")
    p.add_argument("--method", default="otsu", help="otsu, li, triangle or a grey level (default otsu)")
    p.add_argument("--pores", choices=["dark", "bright"], default="dark", help="pore polarity (default dark)")
    p.add_argument("--delta", type=float, help="threshold shift for the sensitivity band (grey levels)")
    p.add_argument("--areal-mass", metavar="MASS", help="coating mass per area, e.g. '3.1 mg/cm2'")
    p.add_argument("--thickness", metavar="LEN", help="coating thickness, e.g. '42 um'")
    p.add_argument("--component", action="append", default=[], metavar="NAME:FRACTION[:DENSITY]",
                   help="material, mass fraction and true density in g/cm3 (repeat per material)")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_pixel_size_option(p)
    return p


def _region(text: str | None):
    if not text:
        return None
    try:
        rows, cols = text.split(",")
        r0, r1 = rows.split(":")
        c0, c1 = cols.split(":")
        return int(r0), int(r1), int(c0), int(c1)
    except ValueError:
        raise SurfscanError(f"--region must be ROW0:ROW1,COL0:COL1 in pixels, not {text!r}") from None


def _composition(items: list[str]) -> dict:
    comp = {}
    for item in items:
        parts = item.rsplit(":", 2) if item.count(":") >= 2 else item.rsplit(":", 1)
        if len(parts) < 2:
            raise SurfscanError(f"--component must be NAME:FRACTION[:DENSITY], not {item!r}")
        name, frac = parts[0], float(parts[1])
        comp[name] = (frac, float(parts[2])) if len(parts) == 3 else frac
    return comp


def _gravimetric(args: argparse.Namespace) -> int:
    if not (args.areal_mass and args.thickness and args.component):
        raise SurfscanError("gravimetric porosity needs --areal-mass, --thickness and at least one --component")
    from ..porosity import porosity_gravimetric

    r = porosity_gravimetric(args.areal_mass, args.thickness, _composition(args.component))
    if args.json:
        print_json(r)
    else:
        print(f"porosity          {r['porosity_percent']:.2f} %")
        print(f"apparent density  {r['apparent_density_g_cm3']:.4g} g/cm3")
        print(f"true density      {r['true_density_g_cm3']:.4g} g/cm3")
    return 0


def run(args: argparse.Namespace) -> int:
    if not args.files:
        return _gravimetric(args)
    from ..model import Micrograph
    from ..porosity import porosity_from_section

    region = _region(args.region)
    method = args.method
    try:
        method = float(method)
    except ValueError:
        pass
    def measure(path: str) -> dict:
        obj = load(path, args.pixel_size)
        if not isinstance(obj, Micrograph):
            raise SurfscanError("is a height map; porosity is measured on SEM cross-sections")
        r = porosity_from_section(obj, region, method=method, pores=args.pores, delta=args.delta)
        return {"file": path, "porosity_percent": r.porosity_percent,
                "band_low_percent": r.band_percent[0], "band_high_percent": r.band_percent[1],
                "threshold": r.threshold, "method": r.method, **r.details}

    rows, failed = each_file(args, measure)
    if args.json:
        print_json(rows)
    elif rows:
        print_table(rows, ["file", "porosity_percent", "band_low_percent", "band_high_percent", "threshold"])
    return 1 if failed else 0
