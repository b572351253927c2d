"""Generate the sample files in this folder (deterministic: fixed seeds).

    python sample_images/make_samples.py            # writes the files, prints Sa/Sz of each height map
    python sample_images/make_samples.py --check    # only measures, writes nothing

Height maps (X3P, int16 CZ with a 1 nm increment): synthetic confocal
measurements of Ag/C anode layers, electrodes A (good), B (fair), C (poor),
three sites each. SEM micrographs (8-bit TIFF with a Thermo Fisher-style
information bar and tag 34682 metadata): a smooth layer and a layer with
many protrusions. ``truth.json`` records what was planted in each file.
See README.md for the design.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import tifffile
from scipy import ndimage

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import surfscan as ss  # noqa: E402
from surfscan.io.x3p_write import write_x3p  # noqa: E402

DATE = "2025-06-12T10:30:00"


# --------------------------------------------------------------------------- height maps


@dataclass(frozen=True)
class Layer:
    """Design of one electrode's anode layer (lengths and heights in µm)."""

    name: str
    amplitude: float  # scale of the granular texture (rms of the field before flattening)
    flatten: float  # tanh flattening of the texture's tops, in field rms (smaller = flatter, bounded tops)
    flatten_valleys: float  # the same for the valleys (pores between particles reach deeper)
    correlation: float  # correlation length of the texture
    density: float  # planted protrusions per mm² (the count per site follows its area)
    bump_height: tuple[float, float]  # protrusion heights, uniform range
    bump_radius: tuple[float, float]  # protrusion base radii, uniform range


LAYERS = {
    "A_good": Layer("A_good", 0.115, 1.2, 1.5, 1.2, 150.0, (0.62, 0.74), (1.5, 3.0)),
    "B_fair": Layer("B_fair", 0.205, 0.9, 1.0, 1.5, 2200.0, (0.60, 0.85), (2.0, 4.5)),
    "C_poor": Layer("C_poor", 0.22, 0.9, 1.0, 1.2, 3300.0, (0.72, 1.20), (2.5, 5.5)),
}
SITES = {1: (768, 1024), 2: (600, 800), 3: (600, 800)}  # rows, columns
PIXEL_UM = 0.15
CAP_POWER = 1.0  # protrusion profile h (1 - (r/R)^2)^p
SEEDS = {"A_good": 1100, "B_fair": 2200, "C_poor": 3300}


def _texture(rng: np.random.Generator, shape: tuple[int, int], corr_px: float) -> np.ndarray:
    """Unit-variance Gaussian random field with a Gaussian correlation of ``corr_px`` pixels."""
    white = rng.standard_normal(shape)
    ky = np.fft.fftfreq(shape[0])[:, None]
    kx = np.fft.rfftfreq(shape[1])[None, :]
    spectrum = np.exp(-((np.pi * corr_px) ** 2) * (kx**2 + ky**2) / 2)
    field = np.fft.irfft2(np.fft.rfft2(white) * spectrum, s=shape)
    return field / field.std()


def _packed_layer(g: np.ndarray, tops: float, valleys: float) -> np.ndarray:
    """A packed particle layer from a unit Gaussian field: tops and valleys flattened (``t tanh(g / t)``)."""
    return np.where(g > 0, tops * np.tanh(g / tops), valleys * np.tanh(g / valleys))


def _count(layer: Layer, shape: tuple[int, int]) -> int:
    area_mm2 = shape[0] * shape[1] * PIXEL_UM**2 * 1e-6
    return max(1, int(round(layer.density * area_mm2)))


def _bumps(rng: np.random.Generator, layer: Layer, shape: tuple[int, int]) -> tuple[np.ndarray, list[dict]]:
    """Planted protrusions: smooth caps ``h (1 - (r/R)^2)^1.5``; returns heights and their list."""
    z = np.zeros(shape)
    planted = []
    rows, cols = shape
    for _ in range(_count(layer, shape)):
        radius = rng.uniform(*layer.bump_radius)
        height = rng.uniform(*layer.bump_height)
        margin = radius / PIXEL_UM
        while True:  # protrusions keep 1.5 µm apart, so the planted count is the count to find
            x = rng.uniform(margin, cols - 1 - margin) * PIXEL_UM
            y = rng.uniform(margin, rows - 1 - margin) * PIXEL_UM
            if all(np.hypot(x - p["x_um"], y - p["y_um"]) > radius + p["radius_um"] + 1.5 for p in planted):
                break
        r_px = int(np.ceil(radius / PIXEL_UM)) + 1
        cy, cx = int(round(y / PIXEL_UM)), int(round(x / PIXEL_UM))
        ys, xs = slice(max(cy - r_px, 0), min(cy + r_px + 1, rows)), slice(max(cx - r_px, 0), min(cx + r_px + 1, cols))
        yy, xx = np.mgrid[ys, xs] * PIXEL_UM
        d2 = ((xx - x) ** 2 + (yy - y) ** 2) / radius**2
        cap = height * np.clip(1 - d2, 0, None) ** CAP_POWER
        z[ys, xs] = np.maximum(z[ys, xs], cap)
        planted.append(
            {"x_um": round(x, 3), "y_um": round(y, 3), "height_um": round(height, 4), "radius_um": round(radius, 3)}
        )
    return z, planted


def _dropouts(rng: np.random.Generator, z: np.ndarray, bumps: np.ndarray) -> np.ndarray:
    """Non-measured points: isolated dropouts, a few small clusters and steep protrusion flanks."""
    mask = np.zeros(z.shape, dtype=bool)
    n = z.size
    mask.flat[rng.choice(n, size=n // 4000, replace=False)] = True
    for _ in range(6):
        r, c = rng.integers(2, z.shape[0] - 3), rng.integers(2, z.shape[1] - 3)
        mask[r - 1 : r + 2, c - 1 : c + 2] |= rng.random((3, 3)) < 0.7
    gy, gx = np.gradient(bumps, PIXEL_UM)
    steep = np.hypot(gx, gy) > 0.45
    mask |= steep & (rng.random(z.shape) < 0.2)
    return mask


def height_site(key: str, site: int) -> tuple[ss.Surface, dict]:
    """One synthetic confocal measurement (µm) and its design truth."""
    layer = LAYERS[key]
    shape = SITES[site]
    rng = np.random.default_rng(SEEDS[key] + site)
    g = _texture(rng, shape, layer.correlation / PIXEL_UM)
    texture = layer.amplitude * _packed_layer(g, layer.flatten, layer.flatten_valleys)
    grain = 0.1 * layer.amplitude * _texture(rng, shape, 0.35 / PIXEL_UM)
    bumps, planted = _bumps(rng, layer, shape)
    # an agglomerate lies on the layer: it covers the particles below it and carries the fine grain
    z = ndimage.gaussian_filter(np.where(bumps > 0, np.maximum(texture, bumps), texture) + grain, 1.0)  # optical transfer (about 0.3 µm)
    z += rng.normal(0.0, 0.003, shape)  # instrument noise, 3 nm rms
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]] * PIXEL_UM
    tilt = rng.uniform(-0.006, 0.006, size=2)
    z += 12.0 + tilt[0] * xx + tilt[1] * yy
    nan = _dropouts(rng, z, bumps)
    z[nan] = np.nan
    meta = {
        "manufacturer": "surfscan sample generator",
        "model": "synthetic laser confocal (VK-X style)",
        "serial": "SYN-0001",
        "software_version": "make_samples.py 2",
        "date": DATE,
        "calibration_date": "2025-01-15T09:00:00",
        "probing_system": "NonContacting",
        "probing_identification": "50x objective, 0.15 um pixel (synthetic)",
        "comment": f"Synthetic Ag/C anode layer, electrode {key}, site {site}; see sample_images/README.md",
    }
    truth = {
        "electrode": key,
        "site": site,
        "shape": list(shape),
        "pixel_um": PIXEL_UM,
        "tilt_um_per_um": [round(float(t), 6) for t in tilt],
        "invalid_points": int(nan.sum()),
        "texture_max_um": round(float((texture + grain).max()), 4),
        "protrusions": planted,
    }
    return ss.Surface(z, PIXEL_UM, PIXEL_UM, meta), truth


def measure(surface: ss.Surface) -> dict[str, float]:
    """Sa, Sq, Sz (µm) after least-squares plane levelling, as in the README."""
    return ss.roughness(ss.level(surface, "plane"), ["Sa", "Sq", "Sz"])


# --------------------------------------------------------------------------- SEM micrographs

SEM_PIXEL_M = 7.8125e-07  # HFW 800 µm over 1024 columns
SEM_SHAPE = (768, 1024)
DATABAR_ROWS = 60


@dataclass(frozen=True)
class Micrograph:
    name: str
    blobs: int
    seed: int


MICROGRAPHS = [
    Micrograph("sem_anode_smooth_100x.tif", 6, 4400),
    Micrograph("sem_anode_protrusions_100x.tif", 70, 5500),
]


def _sem_background(rng: np.random.Generator) -> np.ndarray:
    """Fine particle grain (1-2 px), faint large-scale mottling, vignetting and a detector gradient (grey levels)."""
    rows, cols = SEM_SHAPE
    fine = ndimage.gaussian_filter(rng.standard_normal(SEM_SHAPE), 0.5)
    grain = np.exp(0.35 * fine / fine.std())  # slightly skewed: bright particle tops on a darker matrix
    mottle = ndimage.gaussian_filter(rng.standard_normal(SEM_SHAPE), 40.0)
    img = 100 * (1 + 0.14 * (grain - grain.mean()) / grain.std()) + 3 * mottle / mottle.std()
    yy, xx = np.mgrid[0:rows, 0:cols]
    r2 = ((xx - cols / 2) / cols) ** 2 + ((yy - rows / 2) / rows) ** 2
    img *= 1.05 - 0.35 * r2  # vignetting
    img += 10 * (xx / cols - 0.5)  # detector-side brightness gradient
    return img


def _sem_blobs(rng: np.random.Generator, img: np.ndarray, n: int) -> list[dict]:
    """Bright agglomerates (5-20 µm): soft edge, brighter rim, own grain, a dark shadow towards the lower right."""
    px = SEM_PIXEL_M * 1e6
    rows, cols = img.shape
    planted: list[dict] = []
    for _ in range(n):
        diameter = rng.uniform(5.0, 20.0)
        contrast = rng.uniform(0.5, 0.9)  # brightness over the surroundings, relative
        rad = diameter / 2 / px
        while True:  # agglomerates do not touch, so the planted count is the count to find
            cx, cy = rng.uniform(rad + 4, cols - rad - 4), rng.uniform(rad + 4, rows - rad - 4)
            if all(np.hypot(cx - p["x_px"], cy - p["y_px"]) > 1.3 * (rad + p["diameter_um"] / 2 / px) + 6
                   for p in planted):
                break
        reach = int(1.6 * rad) + 8
        y0, y1 = max(0, int(cy) - reach), min(rows, int(cy) + reach + 1)
        x0, x1 = max(0, int(cx) - reach), min(cols, int(cx) + reach + 1)
        yy, xx = np.mgrid[y0:y1, x0:x1]
        d = np.hypot(xx - cx, yy - cy)
        inside = 0.5 * (1 - np.tanh((d - rad) / (1.0 + 0.06 * rad)))
        rim = np.exp(-(((d - 0.85 * rad) / (0.15 * rad + 1)) ** 2))
        own = 1 + 0.12 * ndimage.gaussian_filter(rng.standard_normal(d.shape), 1.0) / 0.28
        facing = np.clip(((xx - cx) + (yy - cy)) / (np.sqrt(2) * np.maximum(d, 1e-6)), 0, None)
        shadow = np.exp(-(((d - 1.2 * rad) / (0.25 * rad + 1)) ** 2)) * facing  # the side away from the detector
        local = img[y0:y1, x0:x1]
        local *= 1 + inside * contrast * (own + 0.35 * rim) - 0.3 * shadow * (1 - inside)
        planted.append({"x_px": round(cx, 2), "y_px": round(cy, 2), "diameter_um": round(diameter, 3),
                        "contrast": round(contrast, 3)})
    return planted


def _databar(mag: float) -> np.ndarray:
    """Black information bar with white text and a 200 µm scale bar."""
    bar = np.zeros((DATABAR_ROWS, SEM_SHAPE[1]), dtype=np.uint8)
    hfw = SEM_SHAPE[1] * SEM_PIXEL_M * 1e6
    text = f"HV 10.00 kV   mag {mag:.0f} x   HFW {hfw:.0f} um   WD 10.2 mm   det ETD   mode SE"
    cv2.putText(bar, text, (10, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.55, 255, 1, cv2.LINE_AA)
    cv2.putText(bar, "surfscan sample (synthetic)", (10, 50), cv2.FONT_HERSHEY_SIMPLEX, 0.45, 255, 1, cv2.LINE_AA)
    length = int(round(200 / (SEM_PIXEL_M * 1e6)))
    x0 = SEM_SHAPE[1] - length - 20
    bar[40:46, x0 : x0 + length] = 255
    cv2.putText(bar, "200 um", (x0 + length // 2 - 30, 32), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 255, 1, cv2.LINE_AA)
    return bar


def _fei_ini(mag: float) -> str:
    """Thermo Fisher (FEI) style metadata for tag 34682: INI sections, lengths in metres."""
    hfw = SEM_SHAPE[1] * SEM_PIXEL_M
    vfw = SEM_SHAPE[0] * SEM_PIXEL_M
    sections = {
        "User": {"Date": "06/12/2025", "Time": "10:45:00 AM", "User": "supervisor", "UserText": "synthetic sample"},
        "System": {
            "Type": "SEM",
            "Source": "FEG",
            "Column": "Elstar",
            "Stage": "110 x 110",
            "Pump": "TMP",
            "SystemType": "Synthetic FEG SEM (Quanta-style)",
            "DisplayWidth": 0.127,
            "DisplayHeight": 0.0953,
        },
        "Beam": {"HV": 10000, "Spot": 3.0, "Beam": "EBeam", "Scan": "EScan", "ImageMode": "Normal"},
        "EBeam": {"HV": 10000, "HFW": hfw, "VFW": vfw, "WD": 0.0102, "BeamCurrent": 1.6e-10},
        "Scan": {
            "InternalScan": "true",
            "Dwelltime": 3e-06,
            "PixelWidth": SEM_PIXEL_M,
            "PixelHeight": SEM_PIXEL_M,
            "HorFieldsize": hfw,
            "VerFieldsize": vfw,
            "FrameTime": 2.5,
        },
        "Stage": {
            "StageX": 0.0123,
            "StageY": -0.0047,
            "StageZ": 0.0102,
            "StageR": 0,
            "StageT": 0,
            "WorkingDistance": 0.0102,
        },
        "Image": {
            "ResolutionX": SEM_SHAPE[1],
            "ResolutionY": SEM_SHAPE[0],
            "DigitalContrast": 1,
            "DigitalBrightness": 0,
            "DigitalGamma": 1,
            "ZoomFactor": 1,
            "MagCanvasRealWidth": 0.127,
            "MagnificationMode": 4,
        },
        "Detectors": {"Number": 1, "Name": "ETD", "Mode": "SE"},
        "ETD": {"Contrast": 72.5, "Brightness": 48.0, "Grid": 250},
        "PrivateFei": {
            "BitShift": 0,
            "DataBarSelected": "HV mag HFW WD det mode",
            "DatabarHeight": DATABAR_ROWS,
            "Magnification": round(mag, 2),
        },
    }
    lines = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
        lines.append("")
    return "\r\n".join(lines)


def sem_micrograph(spec: Micrograph) -> tuple[np.ndarray, str, dict]:
    """The stored frame (image + information bar), the tag 34682 text and the design truth."""
    rng = np.random.default_rng(spec.seed)
    img = _sem_background(rng)
    planted = _sem_blobs(rng, img, spec.blobs)
    img = ndimage.gaussian_filter(img, 0.5) + rng.normal(0, 8, SEM_SHAPE)  # beam spot and shot noise
    image = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    mag = 0.127 / (SEM_SHAPE[1] * SEM_PIXEL_M)
    frame = np.vstack([image, _databar(mag)])
    truth = {
        "pixel_size_um": SEM_PIXEL_M * 1e6,
        "image_shape": list(SEM_SHAPE),
        "databar_rows": DATABAR_ROWS,
        "protrusions": planted,
    }
    return frame, _fei_ini(mag), truth


def write_sem(path: Path, frame: np.ndarray, ini: str) -> None:
    tifffile.imwrite(
        path,
        frame,
        photometric="minisblack",
        resolution=(96, 96),
        resolutionunit="INCH",
        metadata=None,
        extratags=[(34682, "s", 0, ini, True)],
    )


# --------------------------------------------------------------------------- main


def _detect(data, planted: list[dict], pixel_um: float | None = None) -> dict:
    """Default detection on one sample, matched to what was planted (centroid within half the diameter)."""
    import pandas as pd

    from surfscan.synthetic import match_objects

    found = ss.detect_protrusions(data)
    t = pd.DataFrame(planted)
    if pixel_um is None:  # height map: positions and radii in µm
        t = t.assign(diameter_um=2 * t["radius_um"])
    else:  # SEM: positions in pixels
        t = t.assign(x_um=t["x_px"] * pixel_um, y_um=t["y_px"] * pixel_um)
    hit, matched = match_objects(t, found.table)
    limit = found.summary["detection_limit"]
    return {
        "found": found.count,
        "matched": int(hit.sum()),
        "false": int((~matched).sum()),
        "density_per_mm2": found.density_per_mm2,
        "threshold": limit.get("height_threshold_um", limit.get("contrast_threshold")),
        "k": found.summary["settings"]["k"],
    }


def _tables(rows: dict[str, dict]) -> str:
    """The README tables (markdown) from the measured rows."""
    out = [
        "| file | Sa µm | Sq µm | Sz µm | invalid % | texture max µm | planted | found (defaults) | "
        "threshold µm (k) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    sem = ["| file | planted | found (defaults) | matched | false | per mm² | contrast threshold |",
           "|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        d = r["detection"]
        if "Sa" in r:
            out.append(
                f"| {name} | {r['Sa']:.4f} | {r['Sq']:.4f} | {r['Sz']:.4f} | {r['invalid_pct']:.3f} | "
                f"{r['texture_max_um']:.3f} | {r['planted']} | {d['found']} ({d['matched']} matched) | "
                f"{d['threshold']:.3f} ({d['k']:.2f}) |"
            )
        else:
            sem.append(
                f"| {name} | {r['planted']} | {d['found']} | {d['matched']} | {d['false']} | "
                f"{d['density_per_mm2']:.1f} | {d['threshold']:.3f} |"
            )
    means = []
    for key in LAYERS:
        site_rows = [r for n, r in rows.items() if n.startswith(f"electrode_{key}_")]
        if site_rows:
            sa, sz = (np.mean([r[m] for r in site_rows]) for m in ("Sa", "Sz"))
            dens = np.mean([r["detection"]["density_per_mm2"] for r in site_rows])
            means.append(f"| {key} | {sa:.3f} | {sz:.3f} | {dens:.0f} |")
    mean_table = ["| electrode | mean Sa µm | mean Sz µm | protrusions per mm² (defaults, mean) |",
                  "|---|---|---|---|", *means]
    return "\n".join(out) + "\n\n" + "\n".join(mean_table) + "\n\n" + "\n".join(sem)


def _update_readme(tables: str) -> None:
    """Replace the text between the table markers in README.md."""
    path = HERE / "README.md"
    text = path.read_text()
    start, end = "<!-- tables: written by make_samples.py -->", "<!-- end of tables -->"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + start + "\n" + tables + "\n" + end + rest.split(end, 1)[1]
        path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="measure only, write nothing")
    args = parser.parse_args(argv)
    truth: dict[str, dict] = {}
    rows: dict[str, dict] = {}
    for key in LAYERS:
        for site in SITES:
            surface, design = height_site(key, site)
            name = f"electrode_{key}_site{site}.x3p"
            if not args.check:
                write_x3p(surface, HERE / name, dtype="I", z_increment_um=0.001, compresslevel=9)
                surface = ss.read(HERE / name)  # measure what is stored (1 nm steps)
            r = measure(surface)
            design["measured_after_plane"] = {k: round(v, 4) for k, v in r.items()}
            truth[name] = design
            rows[name] = {**r, "invalid_pct": 100 * surface.invalid_fraction, "texture_max_um": design["texture_max_um"],
                          "planted": len(design["protrusions"]), "detection": _detect(surface, design["protrusions"])}
            print(name, {k: round(v, 4) for k, v in r.items()}, rows[name]["detection"])
    for spec in MICROGRAPHS:
        frame, ini, design = sem_micrograph(spec)
        truth[spec.name] = design
        if not args.check:
            write_sem(HERE / spec.name, frame, ini)
            m = ss.read(HERE / spec.name)  # information bar removed, pixel size from tag 34682
        else:
            m = ss.Micrograph(frame[: SEM_SHAPE[0]], SEM_PIXEL_M * 1e6, {})
        det = _detect(m, design["protrusions"], SEM_PIXEL_M * 1e6)
        rows[spec.name] = {"planted": len(design["protrusions"]), "detection": det}
        print(spec.name, det)
    tables = _tables(rows)
    print(tables)
    if not args.check:
        (HERE / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
        _update_readme(tables)
        total = sum(p.stat().st_size for p in HERE.iterdir() if p.is_file())
        print(f"total size of sample_images/: {total / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
