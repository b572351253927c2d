"""Porosity workflow of the plugin, free of Qt: regions from layers, section porosity, gravimetric calculator.

All analysis is the library's (:func:`surfscan.porosity_from_section`,
:func:`surfscan.porosity_gravimetric`); this module turns a Shapes or Labels
layer into the region mask the library takes, runs the section measurement
step by step for a progress display, reads the composition rows of the
calculator and writes the results for people.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import numpy as np
from skimage.draw import polygon2mask

from surfscan import Micrograph, SurfscanError

__all__ = [
    "SECTION_METHODS",
    "GREY_LEVEL",
    "SECTION_STEPS",
    "AREAL_MASS_UNITS",
    "THICKNESS_UNITS",
    "section_settings",
    "shapes_region",
    "region_from_layer",
    "section_steps",
    "section_text",
    "composition_from_rows",
    "gravimetric",
    "gravimetric_text",
]

GREY_LEVEL = "grey level"
#: Threshold choices of the section measurement; :data:`GREY_LEVEL` takes a fixed grey level.
SECTION_METHODS = ("otsu", "li", "triangle", GREY_LEVEL)
SECTION_STEPS = 1
#: Units offered by the calculator (all understood by :func:`surfscan.porosity.parse_quantity`).
AREAL_MASS_UNITS = ("mg/cm2", "g/m2", "mg/mm2")
THICKNESS_UNITS = ("µm", "mm", "nm")


def section_settings(method: str, grey_level: float, pores: str, delta: float, smooth_px: float) -> dict[str, Any]:
    """Keyword settings for :func:`surfscan.porosity_from_section` from form values (delta 0 = automatic)."""
    return {
        "method": float(grey_level) if method == GREY_LEVEL else method,
        "pores": pores,
        "delta": float(delta) if delta > 0 else None,
        "smooth_px": float(smooth_px),
    }


def _shape_polygon(vertices: np.ndarray, kind: str) -> np.ndarray:
    """A polygon (row, col) for one napari shape given in image pixel coordinates."""
    if kind in ("rectangle", "polygon"):
        return vertices
    if kind == "ellipse":  # napari stores an ellipse as the four corners of its (possibly rotated) box
        centre = vertices.mean(axis=0)
        a, b = (vertices[1] - vertices[0]) / 2, (vertices[3] - vertices[0]) / 2
        t = np.linspace(0, 2 * np.pi, 181)[:-1, None]
        return centre + np.cos(t) * a + np.sin(t) * b
    raise SurfscanError(f"a {kind} does not enclose a region: draw a rectangle, polygon or ellipse")


def shapes_region(shapes: Sequence[np.ndarray], kinds: Sequence[str], image_shape: tuple[int, int]) -> np.ndarray:
    """The union of closed shapes as a boolean mask of ``image_shape``.

    ``shapes`` are vertex arrays ``(n, 2)`` in the image's pixel indices
    (row, column); a pixel belongs to the region when its centre is inside.
    """
    if not len(shapes):
        raise SurfscanError("the Shapes layer holds no shape: draw a rectangle around the coating")
    mask = np.zeros(image_shape, bool)
    for vertices, kind in zip(shapes, kinds):
        mask |= polygon2mask(image_shape, _shape_polygon(np.asarray(vertices, float)[:, -2:], kind))
    if not mask.any():
        raise SurfscanError("the drawn region lies outside the image")
    return mask


def _same_grid(region_layer: Any, image_layer: Any) -> bool:
    return (np.allclose(region_layer.scale[-2:], image_layer.scale[-2:])
            and np.allclose(region_layer.translate[-2:], image_layer.translate[-2:]))


def region_from_layer(region_layer: Any | None, image_layer: Any) -> np.ndarray | None:
    """The region mask (image pixels) drawn in a Shapes layer or painted in a Labels layer.

    Shapes: the selected shapes, or all of them when none is selected,
    mapped through world coordinates onto the image's pixels (any scale and
    translation). Labels: every non-zero label; the layer must lie on the
    image's pixel grid. None gives None (the whole image).
    """
    if region_layer is None:
        return None
    shape = tuple(np.asarray(image_layer.data).shape[:2])
    if hasattr(region_layer, "shape_type"):
        chosen = sorted(region_layer.selected_data) or range(len(region_layer.data))
        polys, kinds = [], []
        for i in chosen:
            world = [region_layer.data_to_world(v) for v in region_layer.data[i]]
            polys.append(np.array([image_layer.world_to_data(w) for w in world], float))
            kinds.append(region_layer.shape_type[i])
        return shapes_region(polys, kinds, shape)
    data = np.asarray(region_layer.data)
    if data.shape[-2:] != shape or not _same_grid(region_layer, image_layer):
        raise SurfscanError(f"Labels layer {region_layer.name!r} does not cover image {image_layer.name!r} "
                            "pixel for pixel (same shape, scale and translation)")
    mask = data.reshape(shape) > 0
    if not mask.any():
        raise SurfscanError(f"Labels layer {region_layer.name!r} is empty: paint the coating region first")
    return mask


def section_steps(micrograph: Micrograph, region: np.ndarray | None, settings: dict[str, Any]) -> Generator[str, None, Any]:
    """Section porosity (yields a step name, returns :class:`surfscan.porosity.SectionPorosity`)."""
    from surfscan import porosity_from_section

    yield "measuring the pore fraction"
    return porosity_from_section(micrograph, region, **settings)


def section_text(result: Any) -> tuple[str, str]:
    """Headline (porosity and band) and details (threshold, delta, region) of a section result."""
    lo, hi = result.band_percent
    d = result.details
    headline = f"porosity {result.porosity_percent:.1f} % ({lo:.1f}–{hi:.1f} %)"
    area = d.get("region_area_um2")
    region = f"{area:.4g} µm²" if area is not None else f"{d['region_pixels']} pixels"
    side = "darker" if d["pores"] == "dark" else "brighter"
    details = (f"pores: {side} than grey level {result.threshold:.4g}, {result.method}; "
               f"band: threshold ± {d['delta_grey']:.3g} grey levels; region {region}")
    return headline, details


def _number(text: Any, what: str) -> float:
    try:
        return float(str(text).replace("%", "").replace(",", ".").strip())
    except ValueError:
        raise SurfscanError(f"{what}: {text!r} is not a number") from None


def composition_from_rows(rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """A composition for :func:`surfscan.porosity_gravimetric` from table rows.

    Each row is ``(material, mass %, density)``; empty rows are skipped; an
    empty density means the library's table value for that material; a
    density is a number in g/cm³ or a string with its unit (``"1.9 g/cm3"``).
    """
    out: dict[str, Any] = {}
    for row in rows:
        name, fraction, density = (str(c or "").strip() for c in (list(row) + ["", "", ""])[:3])
        if not (name or fraction or density):
            continue
        if not name:
            raise SurfscanError("a composition row has no material name")
        if not fraction:
            raise SurfscanError(f"{name}: give its mass fraction in %")
        if name in out:
            raise SurfscanError(f"{name} is listed twice in the composition")
        w = _number(fraction, f"{name} mass fraction") / 100.0
        if density:
            try:
                rho: Any = float(density.replace(",", "."))
            except ValueError:
                rho = density
            out[name] = (w, rho)
        else:
            out[name] = w
    if not out:
        raise SurfscanError("the composition is empty: add a row per material with its mass %")
    return out


def gravimetric(areal_mass: float, mass_unit: str, thickness: float, thickness_unit: str,
                rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """Gravimetric porosity from the calculator's fields (the library checks the units and sums)."""
    from surfscan import porosity_gravimetric

    return porosity_gravimetric((areal_mass, mass_unit), (thickness, thickness_unit), composition_from_rows(rows))


def gravimetric_text(result: dict[str, Any]) -> tuple[str, str]:
    """Headline (porosity) and details (densities used) of a gravimetric result."""
    used = ", ".join(f"{k} {v:.4g}" for k, v in result["densities_g_cm3"].items())
    details = (f"apparent density {result['apparent_density_g_cm3']:.4g} g/cm³ "
               f"({result['areal_mass_mg_cm2']:.4g} mg/cm² over {result['thickness_um']:.4g} µm); "
               f"true density {result['true_density_g_cm3']:.4g} g/cm³ from {used} g/cm³")
    return f"porosity {result['porosity_percent']:.1f} %", details
