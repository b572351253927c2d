"""Outlier removal and filling of non-measured points before levelling (the widget's "Clean" settings).

All the work is the library's (:func:`surfscan.remove_outliers`,
:func:`surfscan.fill_nonmeasured`); this module only chains the two steps and
counts what they did.
"""

from __future__ import annotations

from dataclasses import dataclass

from surfscan import Surface, fill_nonmeasured, remove_outliers

__all__ = ["Cleaning"]


@dataclass(frozen=True)
class Cleaning:
    """What to do to a height map before it is levelled.

    Attributes
    ----------
    outliers : str or None
        ``"median"`` or ``"global"`` (see :func:`surfscan.remove_outliers`);
        None = keep every point.
    k : float
        Outlier threshold in robust standard deviations.
    fill : str or None
        ``"thinplate"``, ``"harmonic"`` or ``"nearest"`` (see
        :func:`surfscan.fill_nonmeasured`); None = leave non-measured points.
    """

    outliers: str | None = None
    k: float = 6.0
    fill: str | None = None

    @property
    def active(self) -> bool:
        """True when a step is asked for."""
        return bool(self.outliers or self.fill)

    def apply(self, surface: Surface) -> tuple[Surface, dict[str, int]]:
        """Remove outliers, then fill, as asked.

        Parameters
        ----------
        surface : Surface
            Heights in µm.

        Returns
        -------
        Surface
            The cleaned surface (``surface`` itself when nothing is asked).
        dict
            ``outliers_removed`` and/or ``points_filled`` (numbers of points)
            for the steps that ran.
        """
        counts: dict[str, int] = {}
        if self.outliers:
            surface = remove_outliers(surface, self.outliers, k=self.k)
            counts["outliers_removed"] = int(surface.meta["outliers_removed"])
        if self.fill:
            surface = fill_nonmeasured(surface, self.fill)
            counts["points_filled"] = int(surface.meta["points_filled"])
        return surface, counts

    def describe(self, counts: dict[str, int]) -> str:
        """One line for the status: what was removed and filled (empty when nothing was asked)."""
        parts = []
        if "outliers_removed" in counts:
            parts.append(f"{counts['outliers_removed']} outliers removed ({self.outliers}, k={self.k:g})")
        if "points_filled" in counts:
            parts.append(f"{counts['points_filled']} points filled ({self.fill})")
        return "; ".join(parts)
