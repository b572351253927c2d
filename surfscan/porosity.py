"""Porosity: from an SEM cross-section (pore area fraction) and gravimetrically.

:func:`porosity_from_section` thresholds a cross-section image (pores dark
by default) inside a region that excludes the current collector and the
embedding resin, and reports the pore area fraction together with the
fraction at threshold +- delta: how much the answer depends on the
threshold.

:func:`porosity_gravimetric` computes the porosity of a coating from its
areal mass, its thickness and its composition (mass fractions and true
densities): ``porosity = 1 - rho_apparent / rho_true`` with
``rho_true = 1 / sum(w_i / rho_i)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .blur import gaussian_blur
from .errors import SurfscanError
from .model import Micrograph
from .particles import grey_image

__all__ = ["SectionPorosity", "porosity_from_section", "porosity_gravimetric", "DENSITIES_G_CM3", "parse_quantity"]

#: True densities (g/cm³) used when a composition names a material without a density.
DENSITIES_G_CM3: dict[str, float] = {
    "ag": 10.49,
    "silver": 10.49,
    "carbon black": 1.9,  # 1.8-2.1 depending on grade: give the supplier's value when known
    "graphite": 2.26,
    "si": 2.33,
    "silicon": 2.33,
    "pvdf": 1.78,
    "cmc": 1.6,
    "sbr": 0.94,
    "lfp": 3.6,
    "nmc811": 4.75,
    "lco": 5.05,
}

_UNITS = {
    "areal_mass": {"mg/cm2": 1.0, "g/cm2": 1e3, "g/m2": 0.1, "kg/m2": 100.0, "mg/mm2": 100.0, "ug/cm2": 1e-3},
    "thickness": {"um": 1.0, "µm": 1.0, "nm": 1e-3, "mm": 1e3, "cm": 1e4, "m": 1e6},
    "density": {"g/cm3": 1.0, "kg/m3": 1e-3, "g/ml": 1.0, "mg/cm3": 1e-3},
}
_DEFAULT_UNIT = {"areal_mass": "mg/cm2", "thickness": "um", "density": "g/cm3"}


def parse_quantity(value: Any, kind: str) -> float:
    """A positive quantity in surfscan's unit for ``kind`` (mg/cm², µm or g/cm³).

    ``value`` is a number (already in that unit), a string such as
    ``"5.2 mg/cm2"`` or ``"50 um"``, or a ``(number, unit)`` pair. Units are
    checked: a thickness given in mg/cm² is an error.
    """
    units = _UNITS[kind]
    if isinstance(value, (int, float, np.floating, np.integer)):
        number, unit = float(value), _DEFAULT_UNIT[kind]
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        number, unit = float(value[0]), str(value[1])
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*([-+0-9.eE]+)\s*([^\s]*)\s*", value)
        if not m:
            raise SurfscanError(f"cannot read {kind.replace('_', ' ')} {value!r}; write e.g. '5.2 {_DEFAULT_UNIT[kind]}'")
        number, unit = float(m.group(1)), m.group(2) or _DEFAULT_UNIT[kind]
    else:
        raise SurfscanError(f"cannot read {kind.replace('_', ' ')} {value!r}")
    key = unit.replace("³", "3").replace("²", "2").replace("μ", "u").replace("µ", "u").lower()
    if key not in units:
        raise SurfscanError(
            f"{kind.replace('_', ' ')} unit {unit!r} is not one of {', '.join(units)}"
        )
    if not (number > 0 and np.isfinite(number)):
        raise SurfscanError(f"{kind.replace('_', ' ')} must be positive, got {number!r}")
    return number * units[key]


def porosity_gravimetric(
    areal_mass: Any, thickness: Any, composition: dict[str, Any], tolerance: float = 1e-3
) -> dict[str, Any]:
    """Porosity of a coating from areal mass, thickness and composition.

    Parameters
    ----------
    areal_mass : float, str or (float, str)
        Mass of coating per area (default unit mg/cm²), e.g. ``"3.1 mg/cm2"``.
    thickness : float, str or (float, str)
        Coating thickness (default unit µm).
    composition : dict
        Material name -> mass fraction (density from :data:`DENSITIES_G_CM3`)
        or -> ``(mass fraction, density)`` with density in g/cm³ or a string
        with its unit. Fractions must add up to 1 (within ``tolerance``).

    Returns
    -------
    dict
        ``porosity_percent``, ``apparent_density_g_cm3``,
        ``true_density_g_cm3`` and the ``densities_g_cm3`` used.

    Examples
    --------
    >>> import surfscan as ss
    >>> r = ss.porosity_gravimetric("3.1 mg/cm2", 12.0, {"Ag": 0.9, "carbon black": 0.1})
    >>> round(r["porosity_percent"], 1), round(r["apparent_density_g_cm3"], 3)
    (64.2, 2.583)
    """
    m = parse_quantity(areal_mass, "areal_mass")  # mg/cm2
    t = parse_quantity(thickness, "thickness")  # um
    if not composition:
        raise SurfscanError("the composition is empty: give mass fractions of each material")
    fractions, densities = {}, {}
    for name, spec in composition.items():
        if isinstance(spec, (tuple, list)):
            w, rho = float(spec[0]), parse_quantity(spec[1], "density")
        else:
            w = float(spec)
            rho = DENSITIES_G_CM3.get(name.strip().lower())
            if rho is None:
                raise SurfscanError(f"no density known for {name!r}: give (mass fraction, density in g/cm3)")
        if not 0 <= w <= 1:
            raise SurfscanError(f"mass fraction of {name!r} must be between 0 and 1, got {w}")
        fractions[name], densities[name] = w, rho
    total = sum(fractions.values())
    if abs(total - 1.0) > tolerance:
        raise SurfscanError(f"mass fractions add up to {total:.4f}, not 1")
    rho_true = 1.0 / sum(w / densities[k] for k, w in fractions.items())
    rho_app = (m * 1e-3) / (t * 1e-4)  # g/cm2 over cm
    porosity = 1.0 - rho_app / rho_true
    if porosity < 0:
        raise SurfscanError(
            f"apparent density {rho_app:.3f} g/cm3 exceeds the true density {rho_true:.3f} g/cm3: "
            "check the areal mass, thickness and composition"
        )
    return {
        "porosity_percent": 100.0 * porosity,
        "apparent_density_g_cm3": rho_app,
        "true_density_g_cm3": rho_true,
        "densities_g_cm3": densities,
        "areal_mass_mg_cm2": m,
        "thickness_um": t,
    }


@dataclass(frozen=True)
class SectionPorosity:
    """Result of :func:`porosity_from_section`.

    Attributes
    ----------
    porosity_percent : float
        Pore area fraction of the region, %.
    band_percent : tuple of float
        Pore fraction at threshold - delta and + delta, %.
    threshold : float
        Grey level separating pores from solid.
    method : str
        How the threshold was chosen.
    pores : ndarray of bool
        Pore mask (False outside the region).
    details : dict
        Region area (µm² when calibrated), delta, polarity, smoothing.
    """

    porosity_percent: float
    band_percent: tuple[float, float]
    threshold: float
    method: str
    pores: np.ndarray
    details: dict[str, Any] = field(default_factory=dict)


def _region_mask(region: Any, shape: tuple[int, int]) -> np.ndarray:
    if region is None:
        return np.ones(shape, bool)
    if isinstance(region, np.ndarray):
        if region.shape != shape or region.dtype != bool:
            raise SurfscanError(f"region mask must be a boolean array of shape {shape}")
        return region
    try:
        r0, r1, c0, c1 = (int(v) for v in region)
    except (TypeError, ValueError):
        raise SurfscanError("region must be a boolean mask or (row0, row1, col0, col1) in pixels") from None
    mask = np.zeros(shape, bool)
    mask[r0:r1, c0:c1] = True
    return mask


def porosity_from_section(
    micrograph: Micrograph,
    region: Any = None,
    *,
    method: str | float = "otsu",
    pores: str = "dark",
    delta: float | None = None,
    smooth_px: float = 1.0,
) -> SectionPorosity:
    """Pore area fraction of a coating cross-section.

    Parameters
    ----------
    micrograph : Micrograph
        A cross-section image (BSE: pores and resin dark, solid bright).
    region : ndarray of bool or (row0, row1, col0, col1), optional
        The coating only: exclude the current collector, the resin and the
        information bar area. Default: the whole image.
    method : str or float
        ``"otsu"`` (default; computed inside the region), ``"li"``,
        ``"triangle"``, or a grey level.
    pores : {"dark", "bright"}
        Pore polarity.
    delta : float, optional
        Threshold shift for the sensitivity band, in grey levels; default
        5 % of the 1-99 % grey range inside the region.
    smooth_px : float
        Gaussian smoothing (pixels) against noise before thresholding.

    Examples
    --------
    >>> import surfscan as ss
    >>> m = ss.read("sample_images/sem_anode_protrusions_100x.tif")
    >>> # a top view, not a section: the area share of the bright agglomerates stands in for pores
    >>> found = ss.porosity_from_section(m, pores="bright")
    >>> round(found.porosity_percent, 1), [round(b, 1) for b in found.band_percent]
    (2.1, [2.0, 2.2])
    """
    if not isinstance(micrograph, Micrograph):
        raise SurfscanError(f"porosity_from_section needs an SEM image (Micrograph), not {type(micrograph).__name__}")
    if pores not in ("dark", "bright"):
        raise SurfscanError(f"pores must be 'dark' or 'bright', not {pores!r}")
    grey = grey_image(micrograph.image)
    if smooth_px > 0:
        grey = gaussian_blur(grey, smooth_px)
    mask = _region_mask(region, grey.shape)
    vals = grey[mask]
    if vals.size < 100:
        raise SurfscanError("the region holds fewer than 100 pixels")
    if isinstance(method, str):
        from skimage import filters

        fns = {"otsu": filters.threshold_otsu, "li": filters.threshold_li, "triangle": filters.threshold_triangle}
        if method not in fns:
            raise SurfscanError(f"unknown threshold method {method!r}; use {', '.join(fns)} or a grey level")
        flat_msg = ("the region is one grey level (after smoothing): there is nothing to threshold; check the "
                    "region and smooth_px")
        if float(np.ptp(vals)) <= 1e-6 * float(np.abs(vals).max()):  # constant to float32 rounding
            raise SurfscanError(flat_msg)
        try:
            thr, how = float(fns[method](vals)), f"{method} (inside the region)"
        except ValueError:  # grey levels too close together for the method's histogram
            raise SurfscanError(flat_msg) from None
    else:
        thr, how = float(method), "fixed grey level"
    lo, hi = np.percentile(vals, [1, 99])
    d = 0.05 * float(hi - lo) if delta is None else float(delta)

    def fraction(t: float) -> float:
        return float(np.mean(vals < t if pores == "dark" else vals > t))

    pore_mask = np.zeros(grey.shape, bool)
    pore_mask[mask] = vals < thr if pores == "dark" else vals > thr
    band = sorted((100 * fraction(thr - d), 100 * fraction(thr + d)))
    px = micrograph.pixel_size
    details = {
        "region_pixels": int(vals.size),
        "region_area_um2": None if px is None else float(vals.size * px * px),
        "delta_grey": d,
        "pores": pores,
        "smooth_px": smooth_px,
    }
    return SectionPorosity(100 * fraction(thr), (band[0], band[1]), thr, how, pore_mask, details)
