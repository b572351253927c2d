"""Protrusion detector: count and measure surface protrusions on height maps and SEM images.

>>> import surfscan as ss
>>> p = ss.detect_protrusions(ss.read("E1_site1.vk4"))          # doctest: +SKIP
>>> p.summary["density_per_mm2"], p.summary["detection_limit"]  # doctest: +SKIP
>>> p.table.head(); p.write_overlay("E1_site1_protrusions.png")  # doctest: +SKIP

Height maps (:mod:`.height`): robust form removal, robust L-filter,
spike removal, hysteresis thresholds at ``max(h_abs_um, k Sq_robust)`` and
half of it. SEM images (:mod:`.sem`): background flattening, a band-pass
matched to the expected sizes, a noise estimate from non-candidate pixels
that follows skewed grain textures, hysteresis thresholds, size and shape
gates. Both report the thresholds they used in physical units
(``summary["detection_limit"]``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .._renamed import new_names
from ..errors import SurfscanError
from ..model import Micrograph, Surface
from .result import Protrusions, ProtrusionSettings

__all__ = ["detect_protrusions", "Protrusions", "ProtrusionSettings"]


def detect_protrusions(
    data: Surface | Micrograph, settings: ProtrusionSettings | None = None, **kwargs: Any
) -> Protrusions:
    """Find protrusions on a height map or an SEM image.

    Parameters
    ----------
    data : Surface or Micrograph
        A height map (heights in µm) or an SEM image. An SEM image needs a
        pixel size: from its calibration or the ``pixel_size_um`` setting
        (an uncalibrated image is refused with a clear error).
    settings : ProtrusionSettings, optional
        All settings at once; keyword arguments override single fields
        (``k``, ``h_abs_um``, ``min_area_um2``, ``min_size_um``, ``max_size_um``,
        ``max_aspect``, ``polarity``, ``form``, ``lambda_c_um``, ``despike``,
        ``split``, ``pixel_size_um``; see :class:`ProtrusionSettings`).

    Returns
    -------
    Protrusions
        ``.table`` (one row per object, µm), ``.labels`` (int32 label
        image), ``.summary`` (count, density per mm², percentiles, detection
        limit, settings) and ``.write_overlay(path)``.

    Examples
    --------
    >>> import surfscan as ss
    >>> p = ss.detect_protrusions(ss.read("sample_images/electrode_A_good_site2.x3p"))  # a height map
    >>> p.summary["count"], round(p.summary["density_per_mm2"])      # the 2 planted agglomerates, per mm²
    (2, 185)
    >>> m = ss.read("sample_images/sem_anode_protrusions_100x.tif")  # an SEM image with 70 planted
    >>> found = ss.detect_protrusions(m, min_size_um=4.0)
    >>> found.summary["count"], list(found.table.columns[:3])
    (70, ['id', 'x_um', 'y_um'])
    """
    kwargs = new_names("detect_protrusions", kwargs, ProtrusionSettings.RENAMED)  # old names warn
    if settings is None:
        settings = ProtrusionSettings.from_kwargs(**kwargs)
    elif kwargs:
        settings = ProtrusionSettings.from_kwargs(**{**dataclasses.asdict(settings), **kwargs})
    if isinstance(data, Surface):
        from .height import detect_on_height_map

        return detect_on_height_map(data, settings)
    if isinstance(data, Micrograph):
        from .sem import detect_on_micrograph

        return detect_on_micrograph(data, settings)
    raise SurfscanError(f"detect_protrusions needs a Surface or a Micrograph, not {type(data).__name__}")
