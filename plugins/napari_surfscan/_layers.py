"""Turning surfscan objects into napari layer data and back (no Qt, no napari import).

A height map (:class:`surfscan.Surface`) becomes an Image layer whose data are
the heights in µm, whose ``scale`` is ``(dy, dx)`` in µm and whose ``units``
are micrometres; an SEM image (:class:`surfscan.Micrograph`) becomes an Image
layer of the cropped image (information bar removed) scaled by its pixel
size. ``layer.metadata`` carries the calibration and the file's metadata, so
a widget can rebuild the object the library expects with
:func:`surface_from_layer` or :func:`micrograph_from_layer`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from surfscan import Micrograph, Surface, SurfscanError

__all__ = [
    "HEIGHT_COLORMAP",
    "DIVERGING_COLORMAP",
    "SEM_COLORMAP",
    "layer_data",
    "surface_layer_data",
    "micrograph_layer_data",
    "object_from_layer",
    "surface_from_layer",
    "micrograph_from_layer",
    "robust_limits",
    "symmetric_limits",
    "nice_ceil",
    "auto_exaggeration",
    "surface_mesh",
    "layer_name",
]

#: Colormap of raw height maps (dark valleys, bright peaks, like Gwyddion's default).
HEIGHT_COLORMAP = "afmhot"
#: Colormap of levelled height maps: blue below the mean plane, red above, white at 0.
DIVERGING_COLORMAP = "RdBu_r"
#: Colormap of SEM images.
SEM_COLORMAP = "gray"

LayerData = tuple[Any, dict[str, Any], str]

_SAMPLE_POINTS = 1_000_000  # percentiles are estimated on at most this many points


def layer_name(obj: Surface | Micrograph, default: str = "surface") -> str:
    """A layer name from the object's source file (its stem), or ``default``."""
    src = obj.meta.get("source_file")
    if not src:
        return default
    name = str(src).replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def _valid_sample(z: np.ndarray) -> np.ndarray:
    """Finite values of ``z``, subsampled on a regular stride to at most ~1e6 points."""
    step = max(1, int(math.sqrt(z.size / _SAMPLE_POINTS)))
    sub = z[::step, ::step] if z.ndim == 2 else z.ravel()[:: step * step]
    sub = np.asarray(sub, dtype=np.float64)
    return sub[np.isfinite(sub)]


def robust_limits(z: np.ndarray, percent: float = 0.5) -> tuple[float, float]:
    """Contrast limits from the ``percent`` and ``100 - percent`` percentiles of finite values.

    Spikes and pits (a few points) do not wash out the display. Returns
    ``(0, 1)`` when nothing is finite and widens a flat map by ±0.5.
    """
    v = _valid_sample(z)
    if v.size == 0:
        return 0.0, 1.0
    lo, hi = np.percentile(v, [percent, 100.0 - percent])
    if not hi > lo:
        lo, hi = float(v.min()), float(v.max())
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    return float(lo), float(hi)


def nice_ceil(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is >= ``value`` (> 0)."""
    if not value > 0:
        return 1.0
    decade = 10.0 ** math.floor(math.log10(value))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * decade >= value * (1 - 1e-12):
            return m * decade
    return 10.0 * decade


def symmetric_limits(z: np.ndarray, percent: float = 99.5, nice: bool = True) -> tuple[float, float]:
    """Limits ``(-m, m)`` centred on 0, ``m`` from the ``percent`` percentile of ``|z|``.

    Used with a diverging colormap so that 0 (the mean plane) is white.
    With ``nice``, ``m`` is rounded up by :func:`nice_ceil` so that the
    colorbar's end ticks are labelled (±0.5 µm rather than ±0.437 µm).
    """
    v = np.abs(_valid_sample(z))
    m = float(np.percentile(v, percent)) if v.size else 0.0
    if not m > 0:
        m = float(v.max()) if v.size and v.max() > 0 else 1.0
    if nice:
        m = nice_ceil(m)
    return -m, m


def _clean_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The object's metadata without large arrays (the uncropped SEM frame stays out)."""
    return {k: v for k, v in meta.items() if not isinstance(v, np.ndarray)}


def surface_layer_data(surface: Surface, name: str | None = None) -> LayerData:
    """Image-layer data of a height map: heights in µm, scale ``(dy, dx)`` in µm.

    Parameters
    ----------
    surface : Surface
    name : str, optional
        Layer name; by default the source file's stem.

    Returns
    -------
    tuple
        ``(z, kwargs, "image")`` as a napari reader returns it.
    """
    meta = _clean_meta(surface.meta)
    kwargs = {
        "name": name or layer_name(surface, "height map"),
        "scale": (surface.dy, surface.dx),
        "units": ("µm", "µm"),
        "colormap": HEIGHT_COLORMAP,
        "contrast_limits": robust_limits(surface.z),
        "metadata": {
            "kind": "height",
            "dx_um": surface.dx,
            "dy_um": surface.dy,
            "z_unit": "µm",
            "invalid_fraction": surface.invalid_fraction,
            "source_file": meta.get("source_file"),
            "format": meta.get("format"),
            "meta": meta,
        },
    }
    return surface.z, kwargs, "image"


def micrograph_layer_data(micrograph: Micrograph, name: str | None = None) -> LayerData:
    """Image-layer data of an SEM image: the cropped image, scaled by its pixel size.

    An uncalibrated image keeps 1-pixel scale and ``units`` of pixels, and
    ``metadata["pixel_size_um"]`` is None.
    """
    meta = _clean_meta(micrograph.meta)
    image = micrograph.image
    rgb = image.ndim == 3
    ps = micrograph.pixel_size
    kwargs: dict[str, Any] = {
        "name": name or layer_name(micrograph, "micrograph"),
        "scale": (ps, ps) if ps else (1.0, 1.0),
        "units": ("µm", "µm") if ps else ("pixel", "pixel"),
        "rgb": rgb,
        "metadata": {
            "kind": "sem",
            "pixel_size_um": ps,
            "pixel_size_source": meta.get("pixel_size_source"),
            "databar_rows": meta.get("databar_rows", 0),
            "source_file": meta.get("source_file"),
            "format": meta.get("format"),
            "meta": meta,
        },
    }
    if not rgb:
        kwargs["colormap"] = SEM_COLORMAP
        kwargs["contrast_limits"] = robust_limits(image, percent=0.1)
    return image, kwargs, "image"


def layer_data(obj: Surface | Micrograph, name: str | None = None) -> LayerData:
    """Image-layer data of whatever :func:`surfscan.read` returned."""
    if isinstance(obj, Surface):
        return surface_layer_data(obj, name)
    if isinstance(obj, Micrograph):
        return micrograph_layer_data(obj, name)
    raise SurfscanError(f"cannot show a {type(obj).__name__} as a layer")


def _um_per_unit(unit: Any) -> float | None:
    """Micrometres per one ``unit`` (a pint unit or a string); None for pixels or unknown units."""
    if unit is None:
        return None
    text = str(unit).strip().lower()
    if text in ("", "pixel", "px", "pixels", "dimensionless"):
        return None
    simple = {"µm": 1.0, "um": 1.0, "micrometer": 1.0, "micrometre": 1.0, "micron": 1.0,
              "nm": 1e-3, "nanometer": 1e-3, "mm": 1e3, "millimeter": 1e3, "m": 1e6, "meter": 1e6}
    if text in simple:
        return simple[text]
    try:
        import pint
    except ImportError:  # pint comes with napari; without it only the names above are known
        return None
    try:
        if not isinstance(unit, pint.Unit):  # a name: napari's layers hold pint units, other objects may hold text
            if not text.isidentifier():  # an expression ("mm/2", "m^^") is not a length unit
                return None
            unit = pint.get_application_registry().parse_units(str(unit).strip())
        return float((1.0 * unit).to("micrometer").magnitude)
    except (pint.PintError, ValueError):  # an unknown name, a number ("nan"), or not a length (seconds, kilograms)
        return None


def _pixel_um(layer: Any) -> tuple[float, float] | None:
    """Row and column spacing of a layer in µm from its scale and units, or None."""
    scale = [float(s) for s in getattr(layer, "scale", (1.0, 1.0))[-2:]]
    units = getattr(layer, "units", None)
    units = tuple(units)[-2:] if units is not None else (None, None)
    factors = [_um_per_unit(u) for u in units]
    if any(f is None for f in factors):
        return None
    return scale[0] * factors[0], scale[1] * factors[1]


def _plane_data(layer: Any) -> np.ndarray:
    data = np.asarray(layer.data)
    if data.ndim != 2:
        raise SurfscanError(f"layer {layer.name!r}: expected a 2-D image, got shape {data.shape}")
    return data


def surface_from_layer(layer: Any) -> Surface:
    """Rebuild the height map shown by an Image layer.

    Heights are the layer data in µm; ``dx``, ``dy`` come from the layer's
    ``scale`` and ``units`` (so a layer calibrated in nm works too).

    Raises
    ------
    SurfscanError
        When the layer is not 2-D or has no length calibration.
    """
    z = _plane_data(layer)
    if getattr(layer, "rgb", False):
        raise SurfscanError(f"layer {layer.name!r} is an RGB image, not a height map")
    spacing = _pixel_um(layer)
    if spacing is None:
        raise SurfscanError(f"layer {layer.name!r} has no lateral calibration (its scale is not in µm)")
    meta = dict(layer.metadata.get("meta", {}))
    meta.setdefault("layer", layer.name)
    return Surface(z, dx=spacing[1], dy=spacing[0], meta=meta)


def micrograph_from_layer(layer: Any) -> Micrograph:
    """Rebuild the SEM image shown by an Image layer (pixel size from scale and units)."""
    image = np.asarray(layer.data)
    if image.ndim not in (2, 3):
        raise SurfscanError(f"layer {layer.name!r}: expected a 2-D image, got shape {image.shape}")
    spacing = _pixel_um(layer)
    meta = dict(layer.metadata.get("meta", {}))
    meta.setdefault("layer", layer.name)
    pixel = None
    if spacing is not None:
        if not math.isclose(spacing[0], spacing[1], rel_tol=1e-6):
            raise SurfscanError(f"layer {layer.name!r} has non-square pixels; an SEM image needs square pixels")
        pixel = spacing[1]
    return Micrograph(image, pixel, meta)


def object_from_layer(layer: Any) -> Surface | Micrograph:
    """The library object for a layer: a height map or an SEM image.

    Layers opened by this plugin say which (``metadata["kind"]``); for other
    layers floating-point data is taken as heights and integer data as an
    SEM image.
    """
    kind = layer.metadata.get("kind")
    if kind is None:
        kind = "height" if np.asarray(layer.data).dtype.kind == "f" and not getattr(layer, "rgb", False) else "sem"
    return surface_from_layer(layer) if kind == "height" else micrograph_from_layer(layer)


def auto_exaggeration(surface: Surface, fraction: float = 0.1) -> float:
    """A vertical exaggeration on a 1-2-5 scale that makes the height range ``fraction`` of the longer side.

    Returns at least 1 (never flattens a rough surface).
    """
    lo, hi = robust_limits(surface.z)
    span = max(surface.size_um)
    if not hi > lo or span <= 0:
        return 1.0
    raw = fraction * span / (hi - lo)
    if raw <= 1:
        return 1.0
    decade = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * decade * 1.5:
            return float(m * decade)
    return float(10 * decade)


def surface_mesh(surface: Surface, max_side: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """A triangle mesh of a height map for a napari Surface layer.

    The grid is subsampled by a whole step so that neither side has more
    than ``max_side`` vertices. Vertices are ``(z µm, row, column)`` in the
    original pixel indices, so the layer's ``scale`` is ``(exaggeration, dy,
    dx)``. Cells that touch a non-measured point are left out.

    Returns
    -------
    vertices : ndarray (n, 3)
    faces : ndarray (m, 3) of int
    values : ndarray (n,)
        True heights in µm (0 where not measured), for the colormap.
    step : float
        The subsampling step in pixels.
    """
    ny, nx = surface.shape
    step = max(1, math.ceil(max(ny, nx) / max_side))
    z = surface.z[::step, ::step]
    rows = np.arange(0, ny, step, dtype=np.float64)
    cols = np.arange(0, nx, step, dtype=np.float64)
    my, mx = z.shape
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    valid = np.isfinite(z)
    zz = np.where(valid, z, 0.0)
    vertices = np.column_stack([zz.ravel(), rr.ravel(), cc.ravel()])
    idx = np.arange(my * mx).reshape(my, mx)
    a, b = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel()
    c, d = idx[1:, :-1].ravel(), idx[1:, 1:].ravel()
    cell_ok = (valid[:-1, :-1] & valid[:-1, 1:] & valid[1:, :-1] & valid[1:, 1:]).ravel()
    faces = np.concatenate([np.column_stack([a, b, c])[cell_ok], np.column_stack([b, d, c])[cell_ok]])
    return vertices, faces.astype(np.int64), zz.ravel(), float(step)
