"""The curves the Roughness widget shows for a levelled surface: Abbott-Firestone curve and PSD.

The library computes them (:func:`surfscan.material_ratio_curve`,
:func:`surfscan.psd`); the PSD needs a complete map, so non-measured points
are filled (thin plate) for it alone, as ``surfscan curves`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

from surfscan import Surface, fill_nonmeasured, material_ratio_curve, psd
from surfscan.curves import MaterialRatioCurve, PowerSpectrum

__all__ = ["SurfaceCurves", "surface_curves"]


@dataclass(frozen=True)
class SurfaceCurves:
    """The curves of one levelled surface.

    Attributes
    ----------
    abbott : MaterialRatioCurve
        Material ratio (%) against height (µm), with its Sk construction.
    spectrum : PowerSpectrum
        Radially averaged PSD ``C(q)`` (µm⁴) and the 1-D PSD along the rows
        (µm³) against the wavevector ``q`` (1/µm).
    psd_filled : int
        Non-measured points filled (thin plate) for the PSD only; 0 when the
        map was complete.
    """

    abbott: MaterialRatioCurve
    spectrum: PowerSpectrum
    psd_filled: int = 0


def surface_curves(surface: Surface) -> SurfaceCurves:
    """The Abbott-Firestone curve and the PSD of ``surface`` (heights in µm, levelled)."""
    abbott = material_ratio_curve(surface)
    filled = 0
    if surface.has_invalid:
        surface = fill_nonmeasured(surface)
        filled = int(surface.meta["points_filled"])
    return SurfaceCurves(abbott, psd(surface), filled)
