"""Profiles: one line of heights taken out of a height map.

``profile(surface, "row:N" | "col:N" | "line:x0,y0,x1,y1")`` returns a
:class:`Profile` (heights in µm, spacing in µm, metadata saying where it came
from and how it was sampled).

- ``row:N`` is row ``N`` of the map (spacing ``dx``); ``col:N`` is column
  ``N`` (spacing ``dy``). Negative indices count from the end, as in numpy.
  The heights are copied unchanged: no interpolation.
- ``line:x0,y0,x1,y1`` is the straight segment from ``(x0, y0)`` to
  ``(x1, y1)`` in pixel coordinates (``x`` = column, ``y`` = row, pixel
  centres at integers; ``units="um"`` reads them as µm from the centre of
  pixel (0, 0) instead). It is sampled at ``n = ceil(L / min(dx, dy)) + 1``
  equally spaced points (``L`` its length in µm, so the spacing is
  ``L / (n - 1)``, never coarser than the map's finer pixel) and each point
  is interpolated **bilinearly** from its four neighbouring pixels. A point
  whose interpolation needs a non-measured (NaN) pixel is NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import SurfscanError
from .model import Surface

__all__ = ["Profile", "profile"]


@dataclass(frozen=True, eq=False)
class Profile:
    """A 1-D height profile.

    Parameters
    ----------
    z : ndarray, shape (n,)
        Heights in µm, float64; NaN marks points that were not measured.
    spacing : float
        Distance between neighbouring points in µm.
    meta : dict
        Where the profile came from (``source``, ``at``, ``method``, the
        surface's history) and what was done to it.
    """

    z: np.ndarray
    spacing: float
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        z = np.asarray(self.z, dtype=np.float64)
        if z.ndim != 1:
            raise SurfscanError(f"a Profile needs a 1-D height array, got {z.ndim}-D")
        spacing = float(self.spacing)
        if not (math.isfinite(spacing) and spacing > 0):
            raise SurfscanError(f"the profile spacing must be a positive length in µm, got {self.spacing!r}")
        object.__setattr__(self, "z", z)
        object.__setattr__(self, "spacing", spacing)
        object.__setattr__(self, "meta", dict(self.meta))

    @property
    def n(self) -> int:
        """Number of points."""
        return int(self.z.size)

    @property
    def length_um(self) -> float:
        """Evaluation length in µm, point-centred: ``n * spacing``."""
        return self.n * self.spacing

    @property
    def x(self) -> np.ndarray:
        """Position of each point along the profile in µm (0 at the first point)."""
        return np.arange(self.n) * self.spacing

    def replace(self, z: np.ndarray | None = None, step: str | None = None, **meta: Any) -> Profile:
        """A copy with new heights and/or metadata; ``step`` is appended to ``meta["history"]``."""
        new_meta = dict(self.meta)
        new_meta.update(meta)
        if step is not None:
            new_meta["history"] = [*self.meta.get("history", []), step]
        return Profile(self.z if z is None else z, self.spacing, new_meta)


def _index(text: str, size: int, what: str) -> int:
    try:
        i = int(text)
    except ValueError:
        raise SurfscanError(f"profile position {what}:{text} is not an integer index") from None
    if not -size <= i < size:
        raise SurfscanError(f"profile position {what}:{i} is outside the map ({size} {what}s)")
    return i % size


def _bilinear(z: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Bilinear interpolation at fractional (row, col); NaN where a neighbour with weight > 0 is NaN."""
    ny, nx = z.shape
    r0 = np.clip(np.floor(rows).astype(np.int64), 0, max(ny - 2, 0))
    c0 = np.clip(np.floor(cols).astype(np.int64), 0, max(nx - 2, 0))
    r1 = np.minimum(r0 + 1, ny - 1)
    c1 = np.minimum(c0 + 1, nx - 1)
    fr = rows - r0
    fc = cols - c0
    out = np.zeros(rows.shape)
    for rr, cc, w in (
        (r0, c0, (1 - fr) * (1 - fc)),
        (r0, c1, (1 - fr) * fc),
        (r1, c0, fr * (1 - fc)),
        (r1, c1, fr * fc),
    ):
        v = z[rr, cc]
        out += np.where(w > 0, v * w, 0.0)
        out[(w > 0) & np.isnan(v)] = np.nan
    return out


def _line(surface: Surface, text: str, units: str) -> tuple[np.ndarray, float, dict[str, Any]]:
    try:
        x0, y0, x1, y1 = (float(t) for t in text.split(","))
    except ValueError:
        raise SurfscanError(f"profile position line:{text} must be line:x0,y0,x1,y1 (four numbers)") from None
    if units == "um":
        x0, x1 = x0 / surface.dx, x1 / surface.dx
        y0, y1 = y0 / surface.dy, y1 / surface.dy
    elif units != "px":
        raise SurfscanError(f"line units must be 'px' or 'um', not {units!r}")
    ny, nx = surface.shape
    eps = 1e-9
    for x, y in ((x0, y0), (x1, y1)):
        if not (-eps <= x <= nx - 1 + eps and -eps <= y <= ny - 1 + eps):
            raise SurfscanError(
                f"profile line end ({x:g}, {y:g}) px is outside the map (x 0..{nx - 1}, y 0..{ny - 1} px)"
            )
    length = math.hypot((x1 - x0) * surface.dx, (y1 - y0) * surface.dy)
    step = min(surface.dx, surface.dy)
    n = int(math.ceil(length / step - 1e-9)) + 1
    if length < step * (1 - 1e-9):
        raise SurfscanError(f"profile line:{text} is shorter than one pixel")
    t = np.linspace(0.0, 1.0, n)
    cols = np.clip(x0 + t * (x1 - x0), 0, nx - 1)
    rows = np.clip(y0 + t * (y1 - y0), 0, ny - 1)
    z = _bilinear(surface.z, rows, cols)
    meta = {
        "method": f"bilinear interpolation at {n} equally spaced points",
        "start_px": (x0, y0),
        "end_px": (x1, y1),
    }
    return z, length / (n - 1), meta


def profile(surface: Surface, at: str, units: str = "px") -> Profile:
    """Extract a height profile from a map.

    Parameters
    ----------
    surface : Surface
        The height map (µm).
    at : str
        ``"row:N"``, ``"col:N"`` or ``"line:x0,y0,x1,y1"`` (see the module
        docstring for the sampling of oblique lines).
    units : {"px", "um"}
        Units of the ``line:`` coordinates: pixels (default, x = column,
        y = row) or µm from the centre of the first pixel.

    Returns
    -------
    Profile
        Heights in µm; ``meta["method"]`` says how they were sampled,
        ``meta["at"]`` where.

    Examples
    --------
    >>> import numpy as np, surfscan as ss
    >>> s = ss.Surface(np.arange(12.0).reshape(3, 4), dx=0.5, dy=0.5)
    >>> profile(s, "row:1").z
    array([4., 5., 6., 7.])
    >>> p = profile(s, "line:0,0,2,2")           # oblique: bilinear, spacing <= min(dx, dy)
    >>> p.z.round(3), round(p.spacing, 4)
    (array([ 0.   ,  3.333,  6.667, 10.   ]), 0.4714)

    >>> s = ss.level(ss.read("sample_images/electrode_A_good_site2.x3p"), "plane")
    >>> p = profile(s, "row:300")
    >>> len(p.z), p.spacing
    (800, 0.15)
    """
    if not isinstance(surface, Surface):
        raise SurfscanError(f"a profile needs a height map (Surface), not {type(surface).__name__}")
    kind, sep, rest = str(at).partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in ("row", "col", "line"):
        raise SurfscanError(f"profile position {at!r} must be row:N, col:N or line:x0,y0,x1,y1")
    ny, nx = surface.shape
    if kind == "row":
        i = _index(rest.strip(), ny, "row")
        z, spacing, meta = surface.z[i].copy(), surface.dx, {"method": "row of the map, no interpolation"}
    elif kind == "col":
        i = _index(rest.strip(), nx, "col")
        z, spacing, meta = surface.z[:, i].copy(), surface.dy, {"method": "column of the map, no interpolation"}
    else:
        z, spacing, meta = _line(surface, rest, units)
    if z.size < 2:
        raise SurfscanError(f"profile {at} has fewer than 2 points")
    meta.update(
        at=str(at),
        source_file=surface.meta.get("source_file"),
        history=[*surface.meta.get("history", []), f"profile {at}"],
    )
    return Profile(z, spacing, meta)
