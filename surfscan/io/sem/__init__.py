"""SEM micrographs: calibrated pixel size from every major vendor, information bar removed.

One module per vendor family (:mod:`.fei` incl. Phenom, :mod:`.zeiss`,
:mod:`.tescan`, :mod:`.hitachi`, :mod:`.jeol`), the containers
(:mod:`.semtiff`, :mod:`.raster`) and the bar search (:mod:`.databar`,
public :func:`find_databar`). Importing this package registers the formats
``sem-tiff`` and ``sem-image``.
"""

from __future__ import annotations

from typing import Any

from ..registry import Format, register
from .raster import list_sem_raster, read_sem_raster, sniff_raster
from .semtiff import list_sem_tiff, read_sem_tiff, sniff_sem_tiff

__all__ = ["find_databar", "read_sem_tiff", "read_sem_raster"]


def __getattr__(name: str) -> Any:
    """``find_databar`` loads :mod:`.databar` (and scipy.ndimage) on first use, not when a file is listed."""
    if name == "find_databar":
        from .databar import find_databar

        return find_databar
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

register(Format("sem-tiff",
                "SEM TIFF (Thermo Fisher/FEI, Phenom, Zeiss, TESCAN, Hitachi, JEOL sidecar, plain 8/16-bit)",
                (".tif", ".tiff"), kind="sem", reader=read_sem_tiff, sniff=sniff_sem_tiff,
                lister=list_sem_tiff))
register(Format("sem-image", "SEM image as PNG, JPEG or BMP (calibration from a Hitachi/JEOL sidecar)",
                (".png", ".jpg", ".jpeg", ".bmp"), kind="sem", reader=read_sem_raster, sniff=sniff_raster,
                lister=list_sem_raster))
