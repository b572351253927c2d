"""What a vendor parser recovers from an SEM file: pixel size, information bar and instrument facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Calibration", "bar_from_frame"]


@dataclass
class Calibration:
    """Calibration and metadata of one SEM image, as read from its vendor metadata.

    Parameters
    ----------
    vendor : str
        Vendor family in the user's words ("Thermo Fisher (FEI)", "Zeiss", ...).
    pixel_size_um : float or None
        Pixel size in µm; None when the metadata holds none.
    pixel_size_source : str or None
        Where it came from, e.g. ``"FEI tag 34682 [Scan] PixelWidth"``.
    databar_rows : int or None
        Rows of information bar at the bottom of the stored frame according to
        the metadata; None when the metadata does not say (the image is then
        searched for a bar).
    databar_source : str or None
        Which metadata gave ``databar_rows``.
    instrument, detector, date : str or None
    hv_kV, magnification, working_distance_mm : float or None
        Accelerating voltage in kV, magnification (x), working distance in mm.
    raw : dict
        The parsed vendor metadata, for reference.
    notes : list of str
        Doubts found while parsing, turned into warnings by the reader.
    """

    vendor: str
    pixel_size_um: float | None = None
    pixel_size_source: str | None = None
    databar_rows: int | None = None
    databar_source: str | None = None
    instrument: str | None = None
    hv_kV: float | None = None
    magnification: float | None = None
    working_distance_mm: float | None = None
    detector: str | None = None
    date: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def facts(self) -> dict[str, Any]:
        """The instrument facts as ``Micrograph.meta`` entries."""
        return {
            "vendor": self.vendor,
            "instrument": self.instrument,
            "hv_kV": self.hv_kV,
            "magnification": self.magnification,
            "working_distance_mm": self.working_distance_mm,
            "detector": self.detector,
            "date": self.date,
        }


def bar_from_frame(cal: Calibration, stored_rows: int, image_rows: float | None, source: str) -> None:
    """Set ``cal.databar_rows`` from the image height the metadata declares.

    The bar is what the stored frame has below the declared image rows. A
    declared height that does not fit the frame is noted and ignored.
    """
    if image_rows is None:
        return
    n = int(round(image_rows))
    if n != image_rows or n <= 0 or n > stored_rows:
        cal.notes.append(f"{source} = {image_rows!r} does not fit the stored frame of {stored_rows} rows; ignored")
        return
    cal.databar_rows = stored_rows - n
    cal.databar_source = source
