"""Draw docs/overview.png (the README picture) from the sample images.

    python docs/make_overview.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from skimage.segmentation import find_boundaries  # noqa: E402

import surfscan as ss  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_images"


def height_panel(ax) -> None:
    s = ss.level(ss.read(SAMPLES / "electrode_C_poor_site1.x3p"), "plane")
    p = ss.detect_protrusions(s)
    lim = float(np.nanpercentile(np.abs(s.z), 99.5))
    h, w = s.size_um
    ax.imshow(s.z, cmap="RdBu_r", vmin=-lim, vmax=lim, extent=(0, w, h, 0))
    edge = np.ma.masked_where(~find_boundaries(p.labels > 0), np.ones(s.shape))
    ax.imshow(edge, cmap="autumn", extent=(0, w, h, 0), interpolation="nearest")
    r = ss.roughness(s, ["Sa", "Sz"])
    ax.set_title(f"confocal height map, poor layer\nSa {r['Sa']:.3f} µm, Sz {r['Sz']:.2f} µm, "
                 f"{p.summary['count']} protrusions", fontsize=9)
    ax.set_xlabel("x (µm)")
    ax.set_ylabel("y (µm)")


def sem_panel(ax) -> None:
    m = ss.read(SAMPLES / "sem_anode_protrusions_100x.tif")
    p = ss.detect_protrusions(m)
    h, w = m.shape[0] * m.pixel_size, m.shape[1] * m.pixel_size
    ax.imshow(m.image, cmap="gray", extent=(0, w, h, 0))
    ax.scatter(p.table["x_um"], p.table["y_um"], s=60, facecolors="none", edgecolors="orange", linewidths=0.8)
    ax.set_title(f"SEM ~100x, information bar removed\n{p.summary['count']} protrusions, "
                 f"{p.summary['density_per_mm2']:.0f} per mm²", fontsize=9)
    ax.set_xlabel("x (µm)")


def spec_panel(ax) -> None:
    names, sa, sz = [], [], []
    for f in sorted(SAMPLES.glob("electrode_*.x3p")):
        r = ss.roughness(ss.level(ss.read(f), "plane"), ["Sa", "Sz"])
        names.append(f.stem.replace("electrode_", "").replace("_site", " "))
        sa.append(r["Sa"])
        sz.append(r["Sz"])
    x = np.arange(len(names))
    ax.bar(x - 0.2, sa, 0.4, label="Sa (µm)", color="#4c72b0")
    ax.bar(x + 0.2, np.array(sz) / 10, 0.4, label="Sz / 10 (µm)", color="#dd8452")
    ax.axhline(0.10, color="#4c72b0", ls="--", lw=1)
    ax.axhline(0.10, color="#dd8452", ls=":", lw=1)
    ax.set_xticks(x, names, rotation=60, fontsize=7)
    ax.set_title("acceptance spec: Sa < 0.10 µm, Sz < 1.0 µm\n(dashed: both limits)", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")


def main() -> None:
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), gridspec_kw={"width_ratios": [1.25, 1.25, 1]})
    height_panel(axes[0])
    sem_panel(axes[1])
    spec_panel(axes[2])
    fig.tight_layout()
    out = ROOT / "docs" / "overview.png"
    fig.savefig(out, dpi=110)
    print(out)


if __name__ == "__main__":
    main()
