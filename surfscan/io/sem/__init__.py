"""SEM micrographs: calibrated pixel size from every major vendor, information bar removed.

One module per vendor family (:mod:`.fei` incl. Phenom, :mod:`.zeiss`,
:mod:`.tescan`, :mod:`.hitachi`, :mod:`.jeol`), the containers
(:mod:`.semtiff`, :mod:`.raster`) and the bar search (:mod:`.databar`,
public :func:`find_databar`). Importing this package registers the formats
``sem-tiff`` and ``sem-image``.
"""

from __future__ import annotations

from ..registry import Format, register
from .databar import find_databar
from .raster import read_sem_raster, sniff_raster
from .semtiff import read_sem_tiff, sniff_sem_tiff

__all__ = ["find_databar", "read_sem_tiff", "read_sem_raster"]

register(
    Format(
        "sem-tiff",
        "SEM TIFF (Thermo Fisher/FEI, Phenom, Zeiss, TESCAN, Hitachi, JEOL sidecar, plain 8/16-bit)",
        (".tif", ".tiff"),
        "sem",
        read_sem_tiff,
        None,
        sniff_sem_tiff,
    )
)
register(
    Format(
        "sem-image",
        "SEM image as PNG, JPEG or BMP (calibration from a Hitachi/JEOL sidecar)",
        (".png", ".jpg", ".jpeg", ".bmp"),
        "sem",
        read_sem_raster,
        None,
        sniff_raster,
    )
)
