"""The standard processing chain shared by the CLI, the batch runner and the plugin.

read -> level -> S-filter (lambda_s) -> L-filter (lambda_c) -> parameters.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .errors import SurfscanError
from .filters import apply_filters
from .iso25178 import registry_units, resolve_names, roughness
from .level import level
from .model import Surface

__all__ = ["RoughnessSettings", "prepare", "measure_roughness"]


@dataclass(frozen=True)
class RoughnessSettings:
    """How a height map is prepared before its parameters are computed.

    Attributes
    ----------
    level : str
        Levelling method (``"plane"``, ``"poly:N"``, ``"rows"``, ``"none"``).
    lambda_s : float or None
        S-filter cut-off in µm (None = no S-filter).
    lambda_c : float or None
        L-filter cut-off in µm (None = no L-filter).
    robust : bool
        Use the ISO 16610-71 robust Gaussian for both filters.
    params : tuple of str or None
        Parameter names or families; None = all.
    """

    level: str = "plane"
    lambda_s: float | None = None
    lambda_c: float | None = None
    robust: bool = False
    params: tuple[str, ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready) of the settings, units in the key names."""
        d = asdict(self)
        return {
            "level": d["level"],
            "lambda_s_um": d["lambda_s"],
            "lambda_c_um": d["lambda_c"],
            "robust": d["robust"],
            "params": list(d["params"]) if d["params"] else "all",
        }


def prepare(surface: Surface, settings: RoughnessSettings) -> Surface:
    """Level, then filter, a surface as ``settings`` say."""
    s = level(surface, settings.level)
    return apply_filters(s, settings.lambda_s, settings.lambda_c, robust=settings.robust)


def _holds_intensity(surface: Surface) -> bool:
    """True when a reader flagged the map as intensity, not height (``meta["quantity"]`` or ``z_unit``)."""
    meta = surface.meta
    return meta.get("quantity") == "intensity" or str(meta.get("z_unit") or "").startswith("intensity")


def measure_roughness(surface: Surface, settings: RoughnessSettings) -> tuple[dict[str, float], dict[str, str]]:
    """Prepare a surface and compute its parameters.

    Returns
    -------
    values : dict
        Parameter name -> value.
    units : dict
        Parameter name -> unit string.
    """
    if _holds_intensity(surface):
        src = surface.meta.get("source_file", "this surface")
        raise SurfscanError(
            f"{src}: holds intensity values, not heights (meta z_unit {surface.meta.get('z_unit')!r}); "
            "roughness needs a height map: read the height channel instead"
        )
    names = resolve_names(list(settings.params) if settings.params else None)
    values = roughness(prepare(surface, settings), names, undefined="nan")  # NaN + warning, not a lost file
    units = registry_units()
    return values, {n: units[n] for n in values}
