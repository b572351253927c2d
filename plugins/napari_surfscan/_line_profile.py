"""A profile along a line drawn on the levelled surface, and its ISO 21920-2 parameters (free of Qt).

The line comes from a napari Shapes layer in the pixel coordinates of the
map (``(row, column)`` vertices); :func:`surfscan.profile` samples it
bilinearly and :func:`surfscan.profile_roughness` computes the parameters.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from surfscan import Profile, Surface, SurfscanError, profile
from surfscan.errors import SurfscanWarning
from surfscan.profile_parameters import PROFILE_PARAMETERS, profile_roughness_with_settings

__all__ = ["LineProfile", "line_profile", "line_position", "PROFILE_NAMES"]

#: Profile parameters shown in the widget's table.
PROFILE_NAMES = ("Ra", "Rq", "Rz", "Rp", "Rv", "Rt", "Rsk", "Rku", "RSm", "Rk", "Rpk", "Rvk")


@dataclass(frozen=True)
class LineProfile:
    """A drawn line's profile.

    Attributes
    ----------
    profile : Profile
        Heights in µm, spacing in µm.
    distance_um : ndarray
        Distance of each point from the line's start, µm.
    table : pandas.DataFrame
        ``parameter``, ``value``, ``unit`` (registry unit, e.g. ``um``).
    filter_note : str
        Which L-filter the parameters were computed with.
    """

    profile: Profile
    distance_um: np.ndarray
    table: pd.DataFrame
    filter_note: str


def line_position(vertices: np.ndarray, shape: tuple[int, int]) -> str:
    """``"line:x0,y0,x1,y1"`` (pixels) of a drawn line's first and last ``(row, column)`` vertices.

    The ends are clipped to the map, so a line drawn a little past its
    border still gives a profile.
    """
    v = np.asarray(vertices, dtype=float)[:, -2:]
    if v.shape[0] < 2:
        raise SurfscanError("a profile line needs two ends")
    ny, nx = shape
    (y0, x0), (y1, x1) = v[0], v[-1]
    x0, x1 = np.clip([x0, x1], 0, nx - 1)
    y0, y1 = np.clip([y0, y1], 0, ny - 1)
    return f"line:{x0:.6g},{y0:.6g},{x1:.6g},{y1:.6g}"


def line_profile(surface: Surface, vertices: np.ndarray, filtered: bool) -> LineProfile:
    """The profile of ``surface`` along a drawn line and its parameters.

    Parameters
    ----------
    surface : Surface
        The levelled (and filtered) map, heights in µm.
    vertices : ndarray, shape (2, 2)
        The line's ends as ``(row, column)`` pixel coordinates.
    filtered : bool
        True when the map was already L-filtered (λc set in the widget): the
        profile then gets no further filter. Otherwise the ISO 21920-3
        default cut-offs apply, or none when the line is too short for them
        (``filter_note`` says which).
    """
    prof = profile(surface, line_position(vertices, surface.shape))
    cut = "none" if filtered else None
    with warnings.catch_warnings():  # the cut-off chosen is reported in filter_note instead
        warnings.simplefilter("ignore", SurfscanWarning)
        values, settings = profile_roughness_with_settings(prof, list(PROFILE_NAMES), lambda_c=cut, lambda_s=cut)
    if filtered:
        note = "no further filter (the map was L-filtered)"
    elif settings["lambda_c_um"]:
        note = f"λc {settings['lambda_c_um']:g} µm (ISO 21920-3 default)"
    else:
        note = "no filter (the ISO 21920-3 λc needs a longer line)"
    table = pd.DataFrame({
        "parameter": list(values),
        "value": [values[n] for n in values],
        "unit": [PROFILE_PARAMETERS[n][0] for n in values],
    })
    return LineProfile(prof, np.arange(prof.z.size) * prof.spacing, table, note)
