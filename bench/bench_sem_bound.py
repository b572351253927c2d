"""What any detector could reach on the independent generator's large faint domes: a matched-filter bound.

``bench/bench_sem_pod.py`` checks "objects >= 60 px at contrast 2 x the texture rms: recall >= 0.90" on the
scenes of ``tests/sem_protrusion_scenes.py``. Its two-scale substrate carries blotches 8-25 px in sigma with
up to 30 % of the texture's variance: as large as the domes and, at their scale, about as strong. This
script asks how much of the miss is the detector's and how much the scene's.

For domes drawn exactly as the generator draws them (its ``_draw_dome`` and ``_dome_patch``; diameters 60,
80 and 120 px, C = 2) and textures with the generator's spectra (Gaussian-correlated grain of correlation
length 1-6 px, on two-scale substrates plus the blotches, plus white shot noise of 10-60 % of the
variance), it computes in the Fourier domain, per draw:

- ``SNR_ideal``: the signal-to-noise ratio of the ideal matched filter, told the dome's exact shape and the
  texture's exact power spectrum P: ``sqrt(sum |S|² / P)`` (S the dome's spectrum). No linear detector,
  and no detector at all for a Gaussian texture, separates that dome from the texture better at a known
  position;
- ``SNR_LoG``: the best over scales of the normalised Laplacian of Gaussian that surfscan uses, peak
  response over its rms on the same texture.

A detector searching a whole 1024 x 768 image at about 1 % of images with a false detection needs a
threshold near ``z`` = 4.5 of its response's rms (surfscan's per-scale thresholds at these scales are
4.4-4.8: the Gaussian random-field level for that budget). With a response of unit-rms Gaussian noise
around the dome's SNR, the dome is found with probability ``Phi(SNR - z)``; the mean over draws is the
recall that filter could reach. Elliptical domes are drawn round (the bound only gets looser with a
shape to search) and the log-normal substrate is left out (not Gaussian).

The spectra are the generator's expected ones. A drawn image's texture answers the LoG 2-12 % more
strongly than the model spectrum says (four two-scale scenes measured at sigma 11-23 px: the few large
blotches of one draw, scan lines and shading), so the figures printed lean optimistic; ``--snr-scale
0.93`` prints them for a texture 7 % stronger.

    python bench/bench_sem_bound.py [--draws 300] [--seed 1] [--measure 45] [--snr-scale 0.93]

``--measure N`` also runs ``surfscan.detect_protrusions`` on N scenes per substrate (D 60/80/120, C 2,
seeds 557-559 as in the notes) and prints the recall it measures beside the bound.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.stats import norm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from sem_protrusion_scenes import _dome_patch, _draw_dome, detection_matches, make_scene  # noqa: E402

N = 512  # FFT grid (px): the largest dome (120 px, with its rim) and the texture's correlation fit well inside
DIAMETERS = (60, 80, 120)
CONTRAST = 2.0
Z_LEVELS = (4.0, 4.5, 5.0)
KINDS = ("grain", "two_scale")

_K = 2 * np.pi * np.fft.fftfreq(N)
K2 = (_K[:, None] ** 2 + _K[None, :] ** 2).astype(np.float64)
_OFFSET = np.fft.fftfreq(N, 1.0 / N)  # pixel offsets from the origin, wrapped: the dome is centred on pixel (0, 0)
_Y, _X = np.meshgrid(_OFFSET, _OFFSET, indexing="ij")


def _unit_spectrum(sigma: float) -> np.ndarray:
    """Power spectrum of white noise smoothed by a Gaussian of ``sigma`` px, scaled to unit variance."""
    p = np.exp(-K2 * sigma * sigma)
    return p / p.mean()


def texture_spectrum(rng: np.random.Generator, kind: str) -> np.ndarray:
    """Power spectrum (unit variance per pixel) of a texture drawn with the generator's ranges."""
    fine = _unit_spectrum(float(rng.uniform(1.0, 6.0)) / 2)
    if kind == "two_scale":
        share = float(rng.uniform(0.05, 0.30))
        tex = (1 - share) * fine + share * _unit_spectrum(float(rng.uniform(8.0, 25.0)))
    else:
        tex = fine
    noise = float(rng.uniform(0.10, 0.60))
    return (1 - noise) * tex + noise


def dome_spectrum(rng: np.random.Generator, diameter: float) -> tuple[np.ndarray, str]:
    """Spectrum of one dome of peak ``CONTRAST`` (texture rms units), drawn round, and its profile."""
    d = dataclasses.replace(_draw_dome(rng, 0.0, 0.0, diameter), aspect=1.0, angle=0.0)
    return np.fft.fft2(CONTRAST * _dome_patch(d, _Y, _X)), d.profile


def snr_pair(s: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Ideal matched filter SNR and the best normalised-LoG SNR of spectrum ``s`` on texture spectrum ``p``."""
    ideal = math.sqrt(float(np.sum(np.abs(s) ** 2 / p)) / N**2)
    best = 0.0
    for sigma in np.geomspace(4.0, 60.0, 36):
        lap = sigma * sigma * K2 * np.exp(-K2 * sigma * sigma / 2)
        peak = float(np.real(np.sum(s * lap))) / N**2
        rms = math.sqrt(float(np.sum(lap * lap * p)) / N**2)
        best = max(best, peak / rms)
    return ideal, best


def bound_table(draws: int, seed: int) -> dict[str, dict[str, np.ndarray]]:
    """Per substrate kind: arrays of SNR_ideal, SNR_LoG and the profile names over ``draws`` draws."""
    rng = np.random.default_rng(seed)
    out = {}
    for kind in KINDS:
        ideal, log, prof = [], [], []
        for i in range(draws):
            s, profile = dome_spectrum(rng, DIAMETERS[i % len(DIAMETERS)])
            a, b = snr_pair(s, texture_spectrum(rng, kind))
            ideal.append(a)
            log.append(b)
            prof.append(profile)
        out[kind] = {"ideal": np.array(ideal), "log": np.array(log), "profile": np.array(prof)}
    return out


def measured_recall(n: int) -> dict[str, tuple[int, int]]:
    """surfscan's recall on ``n`` scenes per substrate (D 60/80/120, C 2, seeds 557-559): found, objects."""
    from sem_protrusion_scenes import objects_per_image

    import surfscan as ss

    warnings.simplefilter("ignore")
    out = {}
    for kind in KINDS:
        found = total = 0
        for j in range(n):
            seed, idx = (557, 558, 559)[j % 3], j // 3
            d = DIAMETERS[idx % len(DIAMETERS)]
            m, truth = make_scene(
                np.random.default_rng([seed, idx, 7]), d, CONTRAST, objects_per_image(d), 0.1, texture=kind
            )
            near = detection_matches(ss.detect_protrusions(m).table, truth, 0.1)
            found += int(near.any(axis=0).sum())
            total += near.shape[1]
        out[kind] = (found, total)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=300, help="domes drawn per substrate kind")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--measure", type=int, default=0, help="also run the detector on this many scenes per kind")
    ap.add_argument(
        "--snr-scale",
        type=float,
        default=1.0,
        help="multiply every SNR by this (below 1: a drawn texture stronger than its model spectrum)",
    )
    a = ap.parse_args(argv)
    if not a.snr_scale > 0:
        ap.error("--snr-scale must be positive")
    t0 = time.perf_counter()
    table = bound_table(a.draws, a.seed)
    for t in table.values():
        t["ideal"] *= a.snr_scale
        t["log"] *= a.snr_scale
    print(
        f"domes of {', '.join(map(str, DIAMETERS))} px at C = {CONTRAST:g} (x the texture rms), "
        f"{a.draws} draws per substrate, seed {a.seed}, SNR x {a.snr_scale:g}"
    )
    print("recall reachable at a search threshold z (rms of the filter's response), Phi(SNR - z):")
    head = "".join(f"  ideal z={z:g}  LoG z={z:g}" for z in Z_LEVELS)
    print(f"{'substrate':>10} {'profile':>9} {'n':>4}  median SNR ideal / LoG (share){head}")
    for kind, t in table.items():
        for prof in ("all", *sorted(set(t["profile"]))):
            sel = np.ones(t["ideal"].size, bool) if prof == "all" else t["profile"] == prof
            ideal, log = t["ideal"][sel], t["log"][sel]
            cells = "".join(f"  {norm.cdf(ideal - z).mean():11.3f}  {norm.cdf(log - z).mean():9.3f}" for z in Z_LEVELS)
            print(
                f"{kind:>10} {prof:>9} {sel.sum():4d}  {np.median(ideal):6.2f} / {np.median(log):5.2f} "
                f"({np.median(log / ideal):.2f})      {cells}"
            )
    if a.measure:
        print(f"\nsurfscan.detect_protrusions, default settings, {a.measure} scenes per substrate:")
        for kind, (found, total) in measured_recall(a.measure).items():
            print(f"{kind:>10}: recall {found / max(total, 1):.3f} ({found}/{total})")
    print(f"\n({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
