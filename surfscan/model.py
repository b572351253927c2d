"""The data model: a height map (:class:`Surface`) and an SEM image (:class:`Micrograph`).

Both are small immutable dataclasses. Lengths are micrometres; arrays are
indexed ``[row, column]`` = ``[y, x]``; ``dy`` is the row spacing.
"""

from __future__ import annotations

import dataclasses
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from .errors import SurfscanError

__all__ = ["Surface", "Micrograph", "QUANTITIES"]

#: What a :class:`Surface`'s ``z`` holds: heights in µm, or raw intensity counts (an optical channel).
QUANTITIES = ("height", "intensity")


def _positive(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise SurfscanError(f"{name} must be a positive finite length in µm, got {value!r}")
    return value


# True while Surface.replace builds a copy: heights derived from a checked map need no second look for inf
_DERIVED: ContextVar[bool] = ContextVar("surfscan_derived_surface", default=False)


def _infinite_as_not_measured(z: np.ndarray, meta: dict[str, Any] | None) -> np.ndarray:
    """``z`` with +-inf heights turned into NaN (not measured), and one warning that counts them.

    Two reductions decide it for the common all-finite case without a full-size temporary.
    """
    if z.size == 0:
        return z
    lo, hi = z.min(), z.max()
    if np.isfinite(lo) and np.isfinite(hi):
        return z
    inf = np.isinf(z)
    n = int(np.count_nonzero(inf))
    if n == 0:
        return z
    import warnings

    from .errors import SurfscanWarning

    src = (meta or {}).get("source_file", "height map")
    warnings.warn(f"{src}: {n} infinite height(s) treated as not measured (NaN)", SurfscanWarning, stacklevel=4)
    z = z.copy()
    z[inf] = np.nan
    return z


@dataclass(frozen=True, eq=False)
class Surface:
    """A measured height map.

    Parameters
    ----------
    z : ndarray, shape (rows, columns)
        Heights in µm, float64; NaN marks points that were not measured.
    dx, dy : float
        Column and row spacing in µm.
    meta : dict
        Instrument metadata, the source file and the processing history
        (``meta["history"]``, a list of strings).
    quantity : {"height", "intensity"}
        What ``z`` holds: heights in µm (default), or the raw counts of an
        intensity channel, which readers return for viewing and masking
        (roughness refuses them). ``meta["z_unit"]`` says the same in words.
    zero_mean : bool
        True when ``z`` is the residual of a least-squares fit with a constant
        term (plane or polynomial levelling), so its mean over the measured
        points is 0 up to rounding; a hint that saves a pass. Set by
        :mod:`surfscan.level`; :meth:`replace` with new heights clears it.
    """

    z: np.ndarray
    dx: float
    dy: float
    meta: dict[str, Any] = field(default_factory=dict)
    quantity: str = "height"
    zero_mean: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        if self.quantity not in QUANTITIES:
            raise SurfscanError(f"Surface quantity must be one of {', '.join(QUANTITIES)}, got {self.quantity!r}")
        z = np.asarray(self.z)
        if z.ndim == 1:
            z = z[np.newaxis, :]
        if z.ndim != 2:
            raise SurfscanError(f"a Surface needs a 2-D height array, got {z.ndim}-D")
        if z.dtype != np.float64:
            z = z.astype(np.float64)
        if not _DERIVED.get():
            z = _infinite_as_not_measured(z, self.meta)
        object.__setattr__(self, "z", z)
        object.__setattr__(self, "dx", _positive("dx", self.dx))
        object.__setattr__(self, "dy", _positive("dy", self.dy))
        object.__setattr__(self, "meta", dict(self.meta))

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)`` of the height map."""
        return self.z.shape  # type: ignore[return-value]

    @property
    def size_um(self) -> tuple[float, float]:
        """Extent ``(height, width)`` in µm, pixel-centred (``rows*dy, cols*dx``)."""
        return self.z.shape[0] * self.dy, self.z.shape[1] * self.dx

    @cached_property
    def valid(self) -> np.ndarray:
        """Boolean mask of measured points (``~isnan(z)``)."""
        return ~np.isnan(self.z)

    @cached_property
    def invalid_fraction(self) -> float:
        """Fraction of points that were not measured (0..1)."""
        if self.z.size == 0:
            return 0.0
        return float(1.0 - np.count_nonzero(self.valid) / self.z.size)

    @cached_property
    def has_invalid(self) -> bool:
        """True when at least one point is NaN."""
        return bool(np.isnan(self.z).any())

    @property
    def is_intensity(self) -> bool:
        """True when ``z`` holds intensity counts, not heights (``quantity == "intensity"``)."""
        return self.quantity == "intensity"

    def known_all_valid(self) -> Surface:
        """Record that ``z`` has no NaN (a producer that knows it saves a full scan); returns self."""
        self.__dict__["has_invalid"] = False
        return self

    def has_invalid_if_known(self) -> bool | None:
        """:attr:`has_invalid` when it is already known (computed, or set by :meth:`known_all_valid`), else None.

        Costs nothing: it never scans ``z``.
        """
        return self.__dict__.get("has_invalid")

    def replace(self, z: np.ndarray | None = None, step: str | None = None, *, zero_mean: bool | None = None,
                **meta: Any) -> Surface:
        """A copy with new heights and/or metadata; ``step`` is appended to the history.

        The heights are taken as derived from this (already checked) map: ``inf`` in them is not looked
        for again (a map built with ``Surface(...)`` is checked once, on the way in). ``zero_mean`` sets
        the flag of the copy; by default it is kept when ``z`` is unchanged and cleared when it is new.
        The :attr:`quantity` is kept.
        """
        new_meta = dict(self.meta)
        new_meta.update(meta)
        if step is not None:
            new_meta["history"] = [*self.meta.get("history", []), step]
        if zero_mean is None:
            zero_mean = self.zero_mean if z is None else False
        token = _DERIVED.set(True)
        try:
            return dataclasses.replace(self, z=self.z if z is None else z, meta=new_meta, zero_mean=bool(zero_mean))
        finally:
            _DERIVED.reset(token)


@dataclass(frozen=True, eq=False)
class Micrograph:
    """An SEM (or optical) micrograph with its calibration.

    Parameters
    ----------
    image : ndarray, shape (rows, columns)
        The image as stored (dtype kept), information bar removed.
    pixel_size : float or None
        Pixel size in µm; None when the file carries no calibration.
    meta : dict
        Vendor metadata; ``pixel_size_source`` says where the pixel size came
        from, ``databar_rows`` how many rows of information bar were removed,
        ``full_frame`` (optional) holds the uncropped image.
    """

    image: np.ndarray
    pixel_size: float | None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        image = np.asarray(self.image)
        if image.ndim == 3 and image.shape[-1] in (3, 4):
            pass  # RGB(A) kept as stored; analysis converts to grey
        elif image.ndim != 2:
            raise SurfscanError(f"a Micrograph needs a 2-D image, got shape {image.shape}")
        object.__setattr__(self, "image", image)
        if self.pixel_size is not None:
            object.__setattr__(self, "pixel_size", _positive("pixel_size", self.pixel_size))
        object.__setattr__(self, "meta", dict(self.meta))

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)`` of the image after the information bar was removed."""
        return tuple(self.image.shape[:2])  # type: ignore[return-value]

    @property
    def dx(self) -> float | None:
        """Column spacing in µm (same as :attr:`pixel_size`)."""
        return self.pixel_size

    @property
    def dy(self) -> float | None:
        """Row spacing in µm (same as :attr:`pixel_size`)."""
        return self.pixel_size

    def replace(self, **changes: Any) -> Micrograph:
        """A copy with some fields changed (``image``, ``pixel_size``, ``meta``)."""
        return dataclasses.replace(self, **changes)

    def require_pixel_size(self, what: str = "this measurement") -> float:
        """The pixel size in µm, or a clear error when the image is uncalibrated."""
        if self.pixel_size is None:
            src = self.meta.get("source_file", "the image")
            raise SurfscanError(
                f"{src}: no pixel size in the file's metadata; {what} reports micrometres, "
                "so give one (--pixel-size UM, or micrograph.replace(pixel_size=...))"
            )
        return self.pixel_size
