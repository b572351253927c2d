"""PNG figures of the curves of :mod:`surfscan.curves` (matplotlib, no pyplot state, no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .curves import Autocorrelation, HeightHistogram, MaterialRatioCurve, PowerSpectrum
from .errors import SurfscanError

__all__ = ["plot_curve"]


def _abbott(ax, c: MaterialRatioCurve) -> None:
    sk = c.sk
    ax.plot(c.mr, c.height, color="k", lw=1.2, label="material ratio curve")
    ax.plot([0, 100], [sk.line_top_um, sk.line_bottom_um], color="tab:blue", lw=0.8, ls="--", label="equivalent line")
    a, b = sk.window_percent
    ax.axvspan(a, b, color="tab:blue", alpha=0.08, label="40 % window")
    ax.axhline(sk.line_top_um, color="tab:red", lw=0.8)
    ax.axhline(sk.line_bottom_um, color="tab:green", lw=0.8)
    ax.plot([0, 0, sk.Smr1], [sk.line_top_um, sk.line_top_um + sk.Spk, sk.line_top_um], color="tab:red", lw=0.8)
    ax.plot(
        [100, 100, sk.Smr2],
        [sk.line_bottom_um, sk.line_bottom_um - sk.Svk, sk.line_bottom_um],
        color="tab:green",
        lw=0.8,
    )
    ax.set_xlim(0, 100)
    ax.set_xlabel("material ratio mr [%]")
    ax.set_ylabel("height [µm]")
    ax.set_title(
        f"Sk {sk.Sk:.4g} µm, Spk {sk.Spk:.4g} µm, Svk {sk.Svk:.4g} µm, Smr1 {sk.Smr1:.3g} %, Smr2 {sk.Smr2:.3g} %",
        fontsize=8,
    )
    ax.legend(fontsize=7, loc="upper right")


def _histogram(ax, h: HeightHistogram) -> None:
    ax.bar(h.centres_um, h.density_per_um, width=np.diff(h.edges_um), color="0.4", edgecolor="none")
    ax.set_xlabel("height [µm]")
    ax.set_ylabel("probability density [1/µm]")


def _psd(ax, p: PowerSpectrum) -> None:
    ax.loglog(p.q, p.C, "o-", ms=3, color="k", label="radial average C(q) [µm⁴]")
    ax.loglog(p.q_rows, p.C_rows, "s-", ms=2, color="tab:orange", lw=0.8, label="along rows C1D(q) [µm³]")
    ax.set_xlabel("wavevector q = 2π/λ [1/µm]")
    ax.set_ylabel("PSD")
    ax.legend(fontsize=7)


def _acf(fig, a: Autocorrelation) -> None:
    ax1, ax2 = fig.subplots(1, 2)
    extent = (a.tx_um[0], a.tx_um[-1], a.ty_um[-1], a.ty_um[0])
    im = ax1.imshow(a.map, extent=extent, cmap="RdBu_r", vmin=-1, vmax=1)
    ax1.set_xlabel("tx [µm]")
    ax1.set_ylabel("ty [µm]")
    fig.colorbar(im, ax=ax1, shrink=0.8)
    ax2.plot(a.r_um, a.radial, color="k")
    ax2.axhline(0.2, color="tab:blue", lw=0.8, ls="--", label="s = 0.2 (Sal)")
    ax2.set_xlabel("lag [µm]")
    ax2.set_ylabel("ACF (radial average)")
    ax2.legend(fontsize=7)


def plot_curve(curve, path: str | Path, title: str | None = None) -> Path:
    """Write a PNG of a curve from :mod:`surfscan.curves`.

    Parameters
    ----------
    curve : MaterialRatioCurve, HeightHistogram, PowerSpectrum or Autocorrelation
    path : str or Path
        The PNG to write.
    title : str, optional
        Figure title (the file name, for example).

    Returns
    -------
    Path
        The file written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    wide = isinstance(curve, Autocorrelation)
    fig = Figure(figsize=(9 if wide else 6, 4), dpi=120)
    FigureCanvasAgg(fig)
    if isinstance(curve, Autocorrelation):
        _acf(fig, curve)
    else:
        ax = fig.add_subplot(1, 1, 1)
        if isinstance(curve, MaterialRatioCurve):
            _abbott(ax, curve)
        elif isinstance(curve, HeightHistogram):
            _histogram(ax, curve)
        elif isinstance(curve, PowerSpectrum):
            _psd(ax, curve)
        else:
            raise SurfscanError(f"cannot plot a {type(curve).__name__}")
        ax.grid(True, which="both", lw=0.3, alpha=0.5)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    try:
        fig.savefig(path, format="png")
    except OSError as exc:
        raise SurfscanError(f"{path}: cannot write the figure: {exc.strerror or exc}") from None
    return path
