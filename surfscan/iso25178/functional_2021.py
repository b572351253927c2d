"""Material ratio parameters added by ISO 25178-2:2021: Sdc, Spkx, Svkx, Sak1, Sak2.

They reuse the material ratio curve and the Sk construction of
:mod:`surfscan.iso25178.functional` (one sort and one equivalent straight line
per call), and register in the ``"functional"`` family.

Sdc(p, q) -- areal material ratio height difference
    ``Smc(p) - Smc(q)`` (µm), the height difference between the material
    ratios ``p`` < ``q`` (%). ISO 25178-2:2021 names the two ratios but fixes
    no values; the defaults here, 2.5 % and 50 %, are Sxp's ISO 25178-3
    defaults and surfalize's ``Sdc(p=2.5, q=50)``, so with the defaults Sdc
    equals Sxp. Options ``sdc_p``, ``sdc_q``; the profile analogue is Rdc.
Spkx, Svkx -- peak extreme height, dale extreme depth
    The height of the highest measured point above the top of the core
    (the equivalent straight line at 0 %), and the depth of the lowest point
    below its bottom (the line at 100 %), in µm: the heights of the peak and
    dale zones *before* the reduction to equal-area triangles that gives Spk
    and Svk. The standard's text was not available to us; the definition
    follows surfalize 0.19 (``pkx``/``vkx``) and ISO 21920-2's Rpkx/Rvkx as
    we read them. Spkx is negative when no point rises above the core top
    (the line at 0 % can lie above the highest point); it is not clipped.
Sak1, Sak2 -- areas of the peak and dale zones
    The area between the material ratio curve and the core top, over the
    peak zone (0 to Smr1), and between the core bottom and the curve over the
    dale zone (Smr2 to 100 %): the areas A1, A2 of ISO 13565-2 that define
    Spk = 2 A1 / Smr1 and Svk = 2 A2 / (100 - Smr2). Unit % · µm (material
    ratio in %, height in µm) as surfalize reports them; divided by 100 they
    are the volume of the peaks above the core top (µm³/µm²). 0 when the zone
    is empty ("where defined": no peak zone, no area). Integrated exactly over
    the linearly interpolated curve, like Vm/Vv, so Sak1 = Spk * Smr1 / 2 and
    Sak2 = Svk * (100 - Smr2) / 2 hold to rounding.
"""

from __future__ import annotations

from ..errors import SurfscanError
from .functional import _percent, equivalent_line, material_curve
from .registry import Context, parameter

__all__: list[str] = []


def _sdc_ratios(ctx: Context) -> tuple[float, float]:
    p, q = _percent(ctx, "sdc_p", 2.5), _percent(ctx, "sdc_q", 50.0)
    if p > q:
        raise SurfscanError(f"options sdc_p ({p} %) and sdc_q ({q} %): sdc_p must not exceed sdc_q")
    return p, q


@parameter("Sdc", "um", "functional", "Material ratio height difference: Smc(p) - Smc(q) (options sdc_p 2.5 %, sdc_q 50 %)")
def sdc(ctx: Context) -> float:
    """Sdc (µm) = Smc(p) - Smc(q), ISO 25178-2:2021; p, q from ``sdc_p``, ``sdc_q`` (2.5 %, 50 %)."""
    p, q = _sdc_ratios(ctx)
    curve = material_curve(ctx)
    return float(curve.height(p)) - float(curve.height(q))


@parameter("Spkx", "um", "functional", "Peak extreme height: highest point above the top of the core (Sk line at 0 %)")
def spkx(ctx: Context) -> float:
    """Spkx (µm): highest height minus the equivalent straight line at 0 % (not clipped at 0)."""
    return float(material_curve(ctx).v[-1]) - equivalent_line(ctx)[0]


@parameter("Svkx", "um", "functional", "Dale extreme depth: lowest point below the bottom of the core (Sk line at 100 %)")
def svkx(ctx: Context) -> float:
    """Svkx (µm): the equivalent straight line at 100 % minus the lowest height (not clipped at 0)."""
    return equivalent_line(ctx)[1] - float(material_curve(ctx).v[0])


@parameter("Sak1", "%*um", "functional", "Peak zone area A1 between the material ratio curve and the core top (= Spk Smr1 / 2)")
def sak1(ctx: Context) -> float:
    """Sak1 (% · µm): integral over 0..Smr1 of (Smc(mr) - core top); 0 for an empty peak zone."""
    curve = material_curve(ctx)
    upper = equivalent_line(ctx)[0]
    mr1 = curve.ratio(upper)
    return max(curve.excess(0.0, mr1, upper), 0.0) if mr1 > 0 else 0.0


@parameter("Sak2", "%*um", "functional", "Dale zone area A2 between the core bottom and the material ratio curve (= Svk (100 - Smr2) / 2)")
def sak2(ctx: Context) -> float:
    """Sak2 (% · µm): integral over Smr2..100 of (core bottom - Smc(mr)); 0 for an empty dale zone."""
    curve = material_curve(ctx)
    lower = equivalent_line(ctx)[1]
    mr2 = curve.ratio(lower)
    return max(-curve.excess(mr2, 100.0, lower), 0.0) if mr2 < 100 else 0.0
