"""The standard processing chain shared by the CLI, the batch runner and the plugin.

read -> outlier removal -> fill -> F-operator (level) -> S-filter (lambda_s) -> L-filter (lambda_c)
-> parameters. :func:`measure_roughness_chain` also returns the operator chain as it was applied
(ISO 25178-3: F-operator, S-filter, L-filter, with the outlier removal and fill counts), the record
every result carries.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ._renamed import renamed_fields
from .errors import SurfscanError
from .filters import apply_filters
from .iso25178 import registry_units, resolve_names, roughness
from .level import level
from .model import Surface

__all__ = ["RoughnessSettings", "prepare", "prepare_with_chain", "measure_roughness", "measure_roughness_chain",
           "FILTER_MODES"]

#: How the S- and L-filter cut-offs are set: given by the user (or none), or chosen from the surface.
FILTER_MODES = ("manual", "auto")


@renamed_fields({"lambda_s": "lambda_s_um", "lambda_c": "lambda_c_um"})
@dataclass(frozen=True)
class RoughnessSettings:
    """How a height map is prepared before its parameters are computed.

    Attributes
    ----------
    level : str
        Levelling method (``"plane"``, ``"poly:N"``, ``"rows"``, ``"none"``).
    lambda_s_um : float or None
        S-filter cut-off in µm (None = no S-filter).
    lambda_c_um : float or None
        L-filter cut-off in µm (None = no L-filter).
    robust : bool
        Use the ISO 16610-71 robust Gaussian for both filters.
    params : tuple of str or None
        Parameter names or families; None = all.
    filters : str
        ``"manual"`` (``lambda_s_um``/``lambda_c_um`` as given) or ``"auto"`` (chosen
        per surface from its sampling and field, :func:`surfscan.nesting.choose_filters`;
        ``lambda_s_um``/``lambda_c_um`` must then be None).
    outliers : str or None
        Outlier removal method before levelling (:func:`surfscan.remove_outliers`), None = none.
    fill : str or None
        Fill method for non-measured points (:func:`surfscan.fill_nonmeasured`), None = none.

    The names without the unit (``lambda_s``, ``lambda_c``) are still accepted,
    with a DeprecationWarning, for one release.
    """

    level: str = "plane"
    lambda_s_um: float | None = None
    lambda_c_um: float | None = None
    robust: bool = False
    params: tuple[str, ...] | None = None
    filters: str = "manual"
    outliers: str | None = None
    fill: str | None = None

    def __post_init__(self) -> None:
        from .outliers import FILL_METHODS, OUTLIER_METHODS

        if self.filters not in FILTER_MODES:
            raise SurfscanError(f"filters {self.filters!r}: use {' or '.join(FILTER_MODES)}")
        if self.filters == "auto" and (self.lambda_s_um or self.lambda_c_um):
            raise SurfscanError("filters 'auto' chooses lambda_s and lambda_c itself; give either 'auto' or the "
                                "cut-offs, not both")
        if self.outliers is not None and self.outliers not in OUTLIER_METHODS:
            raise SurfscanError(f"outliers {self.outliers!r}: use {', '.join(OUTLIER_METHODS)}")
        if self.fill is not None and self.fill not in FILL_METHODS:
            raise SurfscanError(f"fill {self.fill!r}: use {', '.join(FILL_METHODS)}")

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready) of the settings, units in the key names."""
        d = asdict(self)
        return {
            "level": d["level"],
            "lambda_s_um": d["lambda_s_um"],
            "lambda_c_um": d["lambda_c_um"],
            "robust": d["robust"],
            "params": list(d["params"]) if d["params"] else "all",
            "filters": d["filters"],
            "outliers": d["outliers"],
            "fill": d["fill"],
        }


def _filter_text(kind: str, cutoff: float | None, robust: bool) -> str:
    if not cutoff:
        return "none"
    name = "robust Gaussian (ISO 16610-71)" if robust else "Gaussian (ISO 16610-61)"
    return f"{name} {kind} {cutoff:g} um"


def prepare_with_chain(surface: Surface, settings: RoughnessSettings) -> tuple[Surface, dict[str, Any]]:
    """Apply the operator chain to a surface and say what was applied.

    Order: outlier removal, fill, F-operator (levelling), S-filter, L-filter.

    Returns
    -------
    surface : Surface
        The prepared surface.
    chain : dict
        ``F_operator``, ``S_filter``, ``L_filter`` (text), ``filters``
        (manual | auto), ``lambda_s_um``, ``lambda_c_um`` (as applied, µm),
        ``filter_choice`` (how auto chose them, or ""), ``outliers`` and
        ``outliers_removed``, ``fill`` and ``points_filled`` (None when the
        step was not run), and ``text``: the whole chain on one line.
    """
    from .nesting import choose_filters
    from .outliers import fill_nonmeasured, remove_outliers

    chain: dict[str, Any] = {"outliers": settings.outliers, "outliers_removed": None,
                             "fill": settings.fill, "points_filled": None}
    if settings.outliers:
        surface = remove_outliers(surface, settings.outliers)
        chain["outliers_removed"] = int(surface.meta["outliers_removed"])
    if settings.fill:
        surface = fill_nonmeasured(surface, settings.fill)
        chain["points_filled"] = int(surface.meta["points_filled"])
    lambda_s, lambda_c, choice = settings.lambda_s_um, settings.lambda_c_um, ""
    if settings.filters == "auto":
        lambda_s, lambda_c, choice = choose_filters(surface)
    chain.update(F_operator=f"level {settings.level}", S_filter=_filter_text("lambda_s", lambda_s, settings.robust),
                 L_filter=_filter_text("lambda_c", lambda_c, settings.robust), filters=settings.filters,
                 lambda_s_um=lambda_s, lambda_c_um=lambda_c, filter_choice=choice)
    out = apply_filters(level(surface, settings.level), lambda_s, lambda_c, robust=settings.robust)
    chain["text"] = chain_text(chain)
    return out, chain


def chain_text(chain: dict[str, Any]) -> str:
    """The operator chain on one readable line, in the order it was applied."""
    steps = []
    if chain.get("outliers"):
        steps.append(f"outliers {chain['outliers']} ({chain.get('outliers_removed')} removed)")
    if chain.get("fill"):
        steps.append(f"fill {chain['fill']} ({chain.get('points_filled')} filled)")
    steps.append(f"F: {chain.get('F_operator')}")
    auto = " [auto]" if chain.get("filters") == "auto" else ""
    steps.append(f"S: {chain.get('S_filter')}{auto}")
    steps.append(f"L: {chain.get('L_filter')}{auto}")
    return " -> ".join(steps)


def prepare(surface: Surface, settings: RoughnessSettings) -> Surface:
    """Apply the operator chain (outliers, fill, level, S-filter, L-filter) as ``settings`` say."""
    return prepare_with_chain(surface, settings)[0]


def measure_roughness(surface: Surface, settings: RoughnessSettings) -> tuple[dict[str, float], dict[str, str]]:
    """Prepare a surface and compute its parameters: :func:`measure_roughness_chain` without the chain.

    Returns
    -------
    values, units : dict
        Parameter name -> value, and parameter name -> unit string.
    """
    values, units, _ = measure_roughness_chain(surface, settings)
    return values, units


def measure_roughness_chain(
    surface: Surface, settings: RoughnessSettings
) -> tuple[dict[str, float], dict[str, str], dict[str, Any]]:
    """Prepare a surface, compute its parameters, and return the operator chain applied.

    Returns
    -------
    values : dict
        Parameter name -> value.
    units : dict
        Parameter name -> unit string.
    chain : dict
        The operator chain as applied (see :func:`prepare_with_chain`).
    """
    if surface.is_intensity:
        src = surface.meta.get("source_file", "this surface")
        raise SurfscanError(
            f"{src}: holds intensity values, not heights (quantity 'intensity', z_unit "
            f"{surface.meta.get('z_unit')!r}); roughness needs a height map: read the height channel instead"
        )
    names = resolve_names(list(settings.params) if settings.params else None)
    prepared, chain = prepare_with_chain(surface, settings)
    values = roughness(prepared, names, undefined="nan")  # NaN + warning, not a lost file
    units = registry_units()
    return values, {n: units[n] for n in values}, chain
