"""Profile roughness, outlier removal + filling, and the PSD: surfscan against a floor and its peers.

Run:  python bench/bench_metrology.py [--repeat 7]

Timed in-process (medians over --repeat runs after a warm-up):

- profile:   ``profile_roughness`` of a seeded 10 000-point profile, all 17 ISO 21920-2
             parameters, without filter and with lambda_c = 80 µm (lambda_s 2.5 µm paired);
             surfalize's Profile computing the parameters it has (Ra Rq Rz Rsk Rku Rdq Rp Rv Rt,
             Rk Rpk Rvk Rmr1 Rmr2), a fresh object each run (it caches);
- outliers:  ``remove_outliers`` (defaults) then ``fill_nonmeasured`` (thin plate, the default; harmonic alone too) on a 2048 x 1536
             map (Sq 0.1 µm, 60 spikes of +-5 µm, 1 % dropouts in small blobs); the floor is one numpy
             pass over the map (``z.sum()``); surfalize's ``remove_outliers`` (a global 3-sigma cut)
             + ``fill_nonmeasured`` (griddata nearest), timed once (it is slow);
- psd:       ``psd`` of the filled map against SurfaceTopography's ``power_spectrum_from_area``.

Also printed: what the outlier removal did (points removed, Sz against the clean map's Sz).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median_time, print_rows, try_time  # noqa: E402

import surfscan as ss  # noqa: E402
from surfscan.curves import psd  # noqa: E402
from surfscan.outliers import fill_nonmeasured, remove_outliers  # noqa: E402
from surfscan.profile_parameters import profile_roughness  # noqa: E402
from surfscan.profiles import Profile  # noqa: E402
from surfscan.synthetic import correlated_noise  # noqa: E402

SURFALIZE_PROFILE = ("Ra", "Rq", "Rz", "Rsk", "Rku", "Rdq", "Rp", "Rv", "Rt", "Rk", "Rpk", "Rvk", "Rmr1", "Rmr2")


def bench_profile(repeat: int) -> list[dict]:
    rng = np.random.default_rng(20261207)
    z = np.cumsum(rng.normal(size=10_000)) * 0.01 + rng.normal(0, 0.05, 10_000)
    p = Profile(z, 0.1)
    rows = [
        {
            "what": "profile 10k, 17 params, no filter",
            "surfscan_s": median_time(lambda: profile_roughness(p, lambda_c="none"), repeat),
        },
        {
            "what": "profile 10k, 17 params, lambda_c 80 um",
            "surfscan_s": median_time(lambda: profile_roughness(p, lambda_c=80.0), repeat),
        },
    ]
    try:
        import surfalize

        def peer() -> None:
            sp = surfalize.Profile(z, 0.1)
            for name in SURFALIZE_PROFILE:
                getattr(sp, name)()

        rows[0]["peer"] = "surfalize"
        rows[0]["peer_s"] = try_time(peer, repeat)
    except ImportError:
        pass
    return rows


def spiky_map() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    shape = (1536, 2048)
    clean = correlated_noise(rng, shape, 2.0)
    clean = 0.1 * (clean - clean.mean()) / clean.std()
    z = clean.copy()
    idx = rng.choice(z.size, 60, replace=False)
    z.ravel()[idx] += 5.0 * rng.choice([-1.0, 1.0], 60)
    holes = np.zeros(shape, bool)
    holes[rng.integers(0, shape[0], 3000), rng.integers(0, shape[1], 3000)] = True
    holes = ndimage.binary_dilation(holes, iterations=1)
    z[holes] = np.nan
    return clean, z


def bench_outliers(repeat: int) -> list[dict]:
    clean, z = spiky_map()
    s = ss.Surface(z, 0.2, 0.2)
    out = remove_outliers(s)
    sz_clean = ss.roughness(ss.Surface(clean, 0.2, 0.2), ["Sz"])["Sz"]
    sz_raw = ss.roughness(s, ["Sz"])["Sz"]
    sz_out = ss.roughness(out, ["Sz"])["Sz"]
    print(
        f"outliers: {out.meta['outliers_removed']} points removed (60 planted), NaN {np.isnan(z).mean():.2%}; "
        f"Sz clean {sz_clean:.4f} um, with spikes {sz_raw:.4f}, after remove_outliers {sz_out:.4f} "
        f"({sz_out / sz_clean - 1:+.2%})"
    )
    floor = median_time(lambda: z.sum(), repeat)
    t_rm = median_time(lambda: remove_outliers(ss.Surface(z, 0.2, 0.2)), repeat)
    t_fill = median_time(lambda: fill_nonmeasured(out), repeat)
    t_harm = median_time(lambda: fill_nonmeasured(out, "harmonic"), repeat)
    t_both = median_time(lambda: fill_nonmeasured(remove_outliers(ss.Surface(z, 0.2, 0.2))), repeat)
    rows = [
        {"what": "remove_outliers 2048x1536", "surfscan_s": t_rm, "floor_s": floor},
        {"what": "fill_nonmeasured (thinplate)", "surfscan_s": t_fill, "floor_s": floor},
        {"what": "fill_nonmeasured (harmonic)", "surfscan_s": t_harm, "floor_s": floor},
        {"what": "remove_outliers + fill", "surfscan_s": t_both, "floor_s": floor},
    ]
    try:
        import surfalize

        def peer() -> None:
            surfalize.Surface(z.copy(), 0.2, 0.2).remove_outliers().fill_nonmeasured()

        rows[-1]["peer"] = "surfalize (3-sigma, griddata)"
        rows[-1]["peer_s"] = try_time(peer, 1)
    except ImportError:
        pass
    filled = fill_nonmeasured(out)
    try:
        from SurfaceTopography import Topography

        h = filled.z.T.copy()
        topo = Topography(h, (h.shape[0] * 0.2, h.shape[1] * 0.2), periodic=False)
        rows.append(
            {
                "what": "psd 2048x1536",
                "surfscan_s": median_time(lambda: psd(filled), repeat),
                "peer": "SurfaceTopography",
                "peer_s": try_time(lambda: topo.power_spectrum_from_area(), repeat),
                "floor_s": floor,
            }
        )
    except ImportError:
        rows.append({"what": "psd 2048x1536", "surfscan_s": median_time(lambda: psd(filled), repeat)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    rows = bench_profile(args.repeat) + bench_outliers(args.repeat)
    for r in rows:
        if r.get("peer_s"):
            r["ratio"] = r["surfscan_s"] / r["peer_s"]
        if r.get("floor_s"):
            r["x_floor"] = r["surfscan_s"] / r["floor_s"]
    print_rows(rows, ["what", "surfscan_s", "floor_s", "x_floor", "peer", "peer_s", "ratio"])


if __name__ == "__main__":
    main()
