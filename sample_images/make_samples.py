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
    """Design of one electrode's anode layer (lengths in µm)."""

    name: str
    amplitude: float  # scale of the granular texture before tail shaping
    tail: float  # tanh shaping of the texture (smaller = flatter tails, lower Sz/Sa)
    correlation: float  # correlation length of the texture
    protrusions: int  # planted protrusions per site
    bump_height: tuple[float, float]  # protrusion heights, uniform range
    bump_radius: tuple[float, float]  # protrusion base radii, uniform range


LAYERS = {
    "A_good": Layer("A_good", 0.0951, 3.0, 1.2, 3, (0.52, 0.62), (1.5, 3.0)),
    "B_fair": Layer("B_fair", 0.1925, 1.6, 1.6, 24, (0.34, 0.57), (1.5, 4.0)),
    "C_poor": Layer("C_poor", 0.2548, 1.5, 2.0, 40, (0.53, 0.78), (2.0, 5.0)),
}
SITES = {1: (768, 1024), 2: (600, 800), 3: (600, 800)}  # rows, columns
PIXEL_UM = 0.15
SEEDS = {"A_good": 1100, "B_fair": 2200, "C_poor": 3300}


def _texture(rng: np.random.Generator, shape: tuple[int, int], corr_px: float) -> np.ndarray:
    """Unit-variance Gaussian random field with a Gaussian correlation of ``corr_px`` pixels."""
    white = rng.standard_normal(shape)
    ky = np.fft.fftfreq(shape[0])[:, None]
    kx = np.fft.rfftfreq(shape[1])[None, :]
    spectrum = np.exp(-((np.pi * corr_px) ** 2) * (kx**2 + ky**2) / 2)
    field = np.fft.irfft2(np.fft.rfft2(white) * spectrum, s=shape)
    return field / field.std()


def _bumps(rng: np.random.Generator, layer: Layer, shape: tuple[int, int]) -> tuple[np.ndarray, list[dict]]:
    """Planted protrusions: smooth caps ``h (1 - (r/R)^2)^1.5``; returns heights and their list."""
    z = np.zeros(shape)
    planted = []
    rows, cols = shape
    for _ in range(layer.protrusions):
        radius = rng.uniform(*layer.bump_radius)
        height = rng.uniform(*layer.bump_height)
        margin = radius / PIXEL_UM
        while True:  # protrusions do not touch, so the planted count is the count to find
            x = rng.uniform(margin, cols - 1 - margin) * PIXEL_UM
            y = rng.uniform(margin, rows - 1 - margin) * PIXEL_UM
            if all(np.hypot(x - p["x_um"], y - p["y_um"]) > radius + p["radius_um"] + 1.0 for p in planted):
                break
        r_px = int(np.ceil(radius / PIXEL_UM)) + 1
        cy, cx = int(round(y / PIXEL_UM)), int(round(x / PIXEL_UM))
        ys, xs = slice(max(cy - r_px, 0), min(cy + r_px + 1, rows)), slice(max(cx - r_px, 0), min(cx + r_px + 1, cols))
        yy, xx = np.mgrid[ys, xs] * PIXEL_UM
        d2 = ((xx - x) ** 2 + (yy - y) ** 2) / radius**2
        cap = height * np.clip(1 - d2, 0, None) ** 1.5
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
    mask |= steep & (rng.random(z.shape) < 0.3)
    return mask


def height_site(key: str, site: int) -> tuple[ss.Surface, dict]:
    """One synthetic confocal measurement (µm) and its design truth."""
    layer = LAYERS[key]
    shape = SITES[site]
    rng = np.random.default_rng(SEEDS[key] + site)
    g = _texture(rng, shape, layer.correlation / PIXEL_UM)
    texture = layer.amplitude * layer.tail * np.tanh(g / layer.tail)
    grain = 0.12 * layer.amplitude * _texture(rng, shape, 0.35 / PIXEL_UM)
    bumps, planted = _bumps(rng, layer, shape)
    z = ndimage.gaussian_filter(texture + grain + bumps, 1.0)  # optical transfer (about 0.3 µm)
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
        "software_version": "make_samples.py 1",
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
    """Grain texture, gentle shading and a detector gradient, in grey levels (float)."""
    rows, cols = SEM_SHAPE
    fine = ndimage.gaussian_filter(rng.standard_normal(SEM_SHAPE), 0.8)
    mottle = ndimage.gaussian_filter(rng.standard_normal(SEM_SHAPE), 6.0)
    img = 105 + 60 * fine / fine.std() * 0.25 + 8 * mottle / mottle.std()
    yy, xx = np.mgrid[0:rows, 0:cols]
    r2 = ((xx - cols / 2) / cols) ** 2 + ((yy - rows / 2) / rows) ** 2
    img *= 1.05 - 0.35 * r2  # vignetting
    img += 10 * (xx / cols - 0.5)  # detector-side brightness gradient
    return img


def _sem_blobs(rng: np.random.Generator, img: np.ndarray, n: int) -> list[dict]:
    """Bright round protrusions (2-10 µm) with a bright rim and a soft shadow."""
    px = SEM_PIXEL_M * 1e6
    rows, cols = img.shape
    planted = []
    yy, xx = np.mgrid[0:rows, 0:cols]
    for _ in range(n):
        diameter = rng.uniform(2.0, 10.0)
        rad = diameter / 2 / px
        while True:  # blobs do not touch, so the planted count is the count to find
            cx, cy = rng.uniform(rad + 3, cols - rad - 3), rng.uniform(rad + 3, rows - rad - 3)
            if all(np.hypot(cx - p["x_px"], cy - p["y_px"]) > rad + p["diameter_um"] / 2 / px + 4 for p in planted):
                break
        win = (slice(int(cy - rad - 6), int(cy + rad + 7)), slice(int(cx - rad - 6), int(cx + rad + 7)))
        d = np.hypot(xx[win] - cx, yy[win] - cy) / rad
        inside = 1 / (1 + np.exp((d - 1) * 8))
        rim = np.exp(-(((d - 0.85) / 0.2) ** 2))
        shadow = np.exp(-((np.hypot(xx[win] - cx - 0.6 * rad, yy[win] - cy - 0.6 * rad) / rad - 1.1) ** 2) / 0.1)
        img[win] += inside * (70 + 40 * rim) - 25 * shadow * (1 - inside)
        planted.append({"x_px": round(cx, 2), "y_px": round(cy, 2), "diameter_um": round(diameter, 3)})
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
    img = ndimage.gaussian_filter(img, 0.7) + rng.normal(0, 9, SEM_SHAPE)  # beam spot and shot noise
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="measure only, write nothing")
    args = parser.parse_args(argv)
    truth: dict[str, dict] = {}
    print(f"{'file':34s} {'Sa um':>7s} {'Sq um':>7s} {'Sz um':>7s} {'invalid %':>9s} protrusions")
    for key in LAYERS:
        for site in SITES:
            surface, design = height_site(key, site)
            name = f"electrode_{key}_site{site}.x3p"
            r = measure(surface)
            design["measured_after_plane"] = {k: round(v, 4) for k, v in r.items()}
            truth[name] = design
            print(
                f"{name:34s} {r['Sa']:7.4f} {r['Sq']:7.4f} {r['Sz']:7.4f} {100 * surface.invalid_fraction:9.3f} "
                f"{len(design['protrusions'])}"
            )
            if not args.check:
                write_x3p(surface, HERE / name, dtype="I", z_increment_um=0.001, compresslevel=9)
    for spec in MICROGRAPHS:
        frame, ini, design = sem_micrograph(spec)
        truth[spec.name] = design
        print(f"{spec.name:34s} {len(design['protrusions'])} planted protrusions")
        if not args.check:
            write_sem(HERE / spec.name, frame, ini)
    if not args.check:
        (HERE / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
        total = sum(p.stat().st_size for p in HERE.iterdir() if p.suffix in (".x3p", ".tif", ".json"))
        print(f"total size of the sample files: {total / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
