"""ISO 25178-2 hybrid parameters: Sdq (root mean square gradient) and Sdr
(developed interfacial area ratio).

ISO 25178-2 defines both as integrals over the continuous surface and leaves
the discretisation to the software. surfscan offers two, chosen with the
option ``convention``:

``"iso"`` (default)
    *Sdq*: forward differences between neighbouring samples,
    ``Sdq = sqrt(mean((dz/dx)^2) + mean((dz/dy)^2))``, each mean over its own
    differences (``ny*(nx-1)`` along x, ``(ny-1)*nx`` along y).
    *Sdr*: every grid cell between four samples is triangulated along both
    diagonals and the two triangulations are averaged (ISO 25178-2:2021,
    eq. D.15); the projected area is point-centred,
    ``(nx-1)*(ny-1)*dx*dy``, the area the cells cover. This is what
    surfalize 0.19 computes.
``"gwyddion"``
    Reproduces Gwyddion 2.62 (``gwy_data_field_get_surface_slope`` and
    ``..._get_surface_area``). *Sdq* pools both directions:
    ``sqrt(2*(sum dzx^2/dx^2 + sum dzy^2/dy^2) / (n_x + n_y))``. *Sdr*: each
    cell is cut into four triangles meeting at the cell centre (mean height
    of the corners), half-pixel strips along the border are added and the
    projected area is pixel-centred, ``nx*ny*dx*dy``.

Both are exact for a tilted plane; they differ by O((k*dx)^2) for a
sinusoid of wavenumber k (see the tests). Sdr is in percent.

Non-measured points: with ``"iso"`` a difference is used only when both
ends are measured, and a cell only when its four corners are (the projected
area then counts only those cells). With ``"gwyddion"`` Sdq skips pairs
with a NaN end as Gwyddion does under a mask; Sdr raises, because Gwyddion's
area needs every sample.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import SurfscanError, UndefinedParameterError
from .registry import Context, intermediate, parameter

__all__ = ["sdq", "sdr"]

CONVENTIONS = ("iso", "gwyddion")


def _convention(ctx: Context) -> str:
    conv = str(ctx.option("convention", "iso")).lower()
    if conv not in CONVENTIONS:
        raise SurfscanError(f"convention must be one of {', '.join(CONVENTIONS)}, not {conv!r}")
    return conv


def _heights(ctx: Context) -> np.ndarray:
    z = ctx.z
    return z if z.flags.c_contiguous else np.ascontiguousarray(z)


def _sums(ctx: Context, area: bool) -> tuple[float, int, float, int, float, int]:
    """The slope sums and ISO developed area of :func:`._slope_kernels.slope_and_area`, cached.

    The area is computed when asked for, or when the call also wants Sdr under
    the ISO convention; one pass then serves Sdq and Sdr.
    """
    from . import _slope_kernels as k

    s = ctx.surface
    if area or ("Sdr" in ctx.option("_requested", ()) and _convention(ctx) == "iso"):
        return ctx.cached("slope_and_area", lambda: k.slope_and_area(_heights(ctx), s.dx, s.dy, s.has_invalid))
    return ctx.cached("slope_sums", lambda: k.slope_and_area(_heights(ctx), s.dx, s.dy, s.has_invalid, area=False))


@intermediate(["Sdq"], start=6)
def _slope_sums(ctx: Context) -> tuple[float, int, float, int]:
    return _sums(ctx, area=False)[:4]


@parameter("Sdq", "1", "hybrid", "Root mean square gradient of the surface (option convention='iso'|'gwyddion')")
def sdq(ctx: Context) -> float:
    """Root mean square gradient (dimensionless), see the module text for the discretisation."""
    sx, nx_pairs, sy, ny_pairs = _slope_sums(ctx)
    dx, dy = ctx.surface.dx, ctx.surface.dy
    if _convention(ctx) == "gwyddion":
        n = nx_pairs + ny_pairs
        if n == 0:
            raise UndefinedParameterError("needs at least two neighbouring measured points")
        return math.sqrt(2.0 * (sx / dx**2 + sy / dy**2) / n)
    if nx_pairs == 0 and ny_pairs == 0:
        raise UndefinedParameterError("needs at least two neighbouring measured points")
    gx = sx / nx_pairs / dx**2 if nx_pairs else 0.0
    gy = sy / ny_pairs / dy**2 if ny_pairs else 0.0
    return math.sqrt(gx + gy)


@intermediate(["Sdr"], start=5)
def surface_area(ctx: Context) -> tuple[float, float]:
    """``(developed minus projected area, projected area)`` in µm² under the chosen convention."""
    from . import _slope_kernels as k

    conv = _convention(ctx)
    s = ctx.surface
    if conv == "gwyddion":
        if s.has_invalid:
            raise UndefinedParameterError(
                "convention='gwyddion' needs every point measured (Gwyddion's area uses all samples); "
                "use the default convention='iso', which skips cells with a non-measured corner"
            )
        if min(s.shape) < 2:
            raise UndefinedParameterError("needs at least 2 x 2 points")
        area = ctx.cached("area_gwyddion", lambda: k.gwyddion_area(_heights(ctx), s.dx, s.dy))
        return area, s.shape[0] * s.shape[1] * s.dx * s.dy
    area, cells = _sums(ctx, area=True)[4:]
    if cells == 0:
        raise UndefinedParameterError("no grid cell with four measured corners")
    return area, cells * s.dx * s.dy


@parameter("Sdr", "%", "hybrid", "Developed interfacial area ratio: extra area from the texture, % of the projected area")
def sdr(ctx: Context) -> float:
    """Developed interfacial area ratio in percent, see the module text for the discretisation."""
    excess, projected = surface_area(ctx)
    return 100.0 * excess / projected
