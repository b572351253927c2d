"""Acceptance specs: TOML rules such as ``Sa < 0.10 um``, with units checked and converted.

A spec file::

    name = "Ag/C anode layer"
    rules = [
        "Sa < 0.10 um",
        "Sz < 1.0 um",
        "protrusion_density < 5 per mm2",
    ]

A rule is ``METRIC OP LIMIT [UNIT]`` with ``OP`` one of ``< <= > >=``. A
rule may also be a table: ``{metric = "Sa", op = "<", limit = 100, unit = "nm"}``.
Metrics are ISO 25178 parameter names (``Sa``, ``Sz``, ...) or protrusion
summary values (``protrusion_density``, ``protrusion_count``, ...); a
protrusion metric applies to SEM images and height maps alike, while
``sem_protrusion_density`` or ``height_protrusion_density`` picks one kind
(an SEM at 100x and a confocal field of 0.02 mm² count differently).
SEM images measured with ``--particles`` and ``--porosity`` carry
``particles_*`` values (``particles_d50_um``, ``particles_count``,
``particles_linear_fraction`` ...) and ``porosity_percent``,
``porosity_band_low_percent``, ``porosity_band_high_percent``; the unit
suffix may be left out of the rule (``particles_d50 < 5 um``). Units:
lengths ``nm um µm mm cm m`` with powers (``um2``, ``µm³/µm²``), densities
(``per mm2``, ``/mm2``, ``1/um2``, ``mm-2``), ``%`` and ``1``; the limit is
converted to the metric's own unit, and a unit of the wrong kind (``Sa < 5
per mm2``) is an error naming the rule.

A spec may also set the roughness operator chain of the batch (the command
line's ``--filters``, ``--outliers``, ``--fill`` take precedence)::

    filters = "auto"        # or "manual"
    outliers = "median"     # or "global"; true = median, false = none
    fill = "thinplate"      # or "harmonic", "nearest"; true = thinplate, false = none

A file passes when every rule that applies to it holds (height maps carry
roughness, micrographs carry protrusions); a group (sample) is judged on the
mean of its files.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import SurfscanError

__all__ = ["Rule", "Spec", "Unit", "parse_unit", "load_spec", "parse_spec", "column_unit", "metric_column", "metric_columns",
           "judge", "protrusion_base", "defect_base", "is_sem_measure", "KINDS", "PROTRUSION_UNITS"]

_LENGTHS = {"nm": 1e-3, "um": 1.0, "micron": 1.0, "microns": 1.0, "mm": 1e3, "cm": 1e4, "m": 1e6}
_OPS = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__}
_RULE = re.compile(r"^\s*([A-Za-z_]\w*)\s*(<=|>=|<|>|≤|≥)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")

#: Protrusion metrics known before any file is analysed (others are checked against the data).
PROTRUSION_UNITS = {"protrusion_count": "1", "protrusion_density": "1/mm2"}
DEFECT_UNITS = PROTRUSION_UNITS  # the name before "defect" became "protrusion"; kept for one release

#: Kinds of measurement: protrusion columns are named ``<kind>_protrusion_<key>``.
KINDS = ("sem", "height")

#: Unit suffixes of protrusion summary keys (``density_per_mm2``) -> unit.
KEY_SUFFIXES = (("_per_mm2", "1/mm2"), ("_per_um2", "1/um2"), ("_mm2", "mm2"), ("_um2", "um2"), ("_um", "um"),
                ("_mm", "mm"), ("_pct", "%"), ("_percent", "%"), ("_fraction", "1"))


#: Prefixes of the SEM particle and porosity values (``particles_d50_um``, ``porosity_percent``).
SEM_MEASURE_PREFIXES = ("particles_", "porosity_")

#: SEM measure metrics known before any file is analysed -> unit.
SEM_MEASURE_UNITS = {
    **{f"particles_{k}": "um" for k in ("mean_ecd_um", "d10_um", "d50_um", "d90_um", "d10_v_um", "d50_v_um",
                                         "d90_v_um")},
    **{f"particles_{k}": "1" for k in ("count", "excluded_border", "point_like_fraction", "linear_fraction",
                                        "mean_aspect_ratio")},
    **{f"porosity_{k}": "%" for k in ("percent", "band_low_percent", "band_high_percent")},
}


def is_sem_measure(name: str) -> bool:
    """True for particle and porosity values of SEM images (``particles_*``, ``porosity_*``)."""
    return name.startswith(SEM_MEASURE_PREFIXES)


def _sem_measure_unit(metric: str) -> str | None:
    """The unit of an SEM measure metric, with or without its unit suffix (``particles_d50`` -> um)."""
    for name in (metric, *(metric + suffix for suffix, _ in KEY_SUFFIXES)):
        if name in SEM_MEASURE_UNITS:
            return SEM_MEASURE_UNITS[name]
    return column_unit(metric) if is_sem_measure(metric) else None


def protrusion_base(name: str) -> str:
    """``sem_protrusion_density`` -> ``protrusion_density`` (other names unchanged)."""
    for kind in KINDS:
        if name.startswith(f"{kind}_protrusion_"):
            return name[len(kind) + 1:]
    return name


def defect_base(name: str) -> str:
    """Deprecated name of :func:`protrusion_base`."""
    warnings.warn("defect_base is deprecated and will be removed in the next release; use protrusion_base",
                  DeprecationWarning, stacklevel=2)
    return protrusion_base(name)


@dataclass(frozen=True)
class Unit:
    """A unit as a power of micrometres and a factor: value [unit] = value * factor [µm**power]."""

    power: int
    factor: float
    kind: str = ""  # "" for lengths and plain numbers, "deg" for angles

    def same_kind(self, other: Unit) -> bool:
        return self.power == other.power and self.kind == other.kind


def _term(token: str, text: str) -> Unit:
    if token in ("", "1", "count", "counts", "objects"):
        return Unit(0, 1.0)
    if token in ("%", "percent"):  # a factor in a product unit (Sak1, Sak2: % * um)
        return Unit(0, 0.01)
    m = re.fullmatch(r"([a-z]+?)(-?\d+)?", token)
    if m is None or m.group(1) not in _LENGTHS:
        raise SurfscanError(f"unknown unit {text!r} (use nm, um, mm, um2, per mm2, %, 1 ...)")
    p = int(m.group(2) or 1)
    return Unit(p, _LENGTHS[m.group(1)] ** p)


def parse_unit(text: str | None) -> Unit:
    """Parse a unit string (``"um"``, ``"µm²"``, ``"per mm2"``, ``"µm³/µm²"``, ``"%"``, ``"1"``)."""
    t = (text or "").strip().lower()
    if t in ("%", "percent"):
        return Unit(0, 0.01)
    if t in ("deg", "°", "degree", "degrees"):
        return Unit(0, 1.0, "deg")
    if t in ("rad", "radian", "radians"):
        return Unit(0, 180.0 / math.pi, "deg")
    t = t.replace("µ", "u").replace("μ", "u").replace("²", "2").replace("³", "3").replace("^", "").replace(" ", "")
    t = re.sub(r"^per", "1/", t)
    num, _, den = t.partition("/")
    power, factor = 0, 1.0
    for tok in filter(None, num.split("*")) if num else ["1"]:
        u = _term(tok, text or "")
        power, factor = power + u.power, factor * u.factor
    for tok in filter(None, den.split("*")):
        u = _term(tok, text or "")
        power, factor = power - u.power, factor / u.factor
    return Unit(power, factor)


def column_unit(column: str, roughness_units: dict[str, str] | None = None) -> str | None:
    """The unit of a file-table column: a parameter's registry unit, or from a protrusion key's suffix."""
    if roughness_units and column in roughness_units:
        return roughness_units[column]
    base = protrusion_base(column)
    if base.startswith("protrusion_") or is_sem_measure(base):
        for suffix, unit in KEY_SUFFIXES:
            if base.endswith(suffix):
                return unit
        return "1"  # counts, relative contrasts, fractions
    return None


def metric_columns(metric: str, columns: list[str]) -> list[str]:
    """The table columns holding ``metric``.

    ``protrusion_density`` is found on SEM images and on height maps
    (``sem_protrusion_density_per_mm2``, ``height_protrusion_density_per_mm2``);
    ``sem_protrusion_density`` only on SEM images.
    """
    names = [metric]
    if metric.startswith("protrusion_"):
        names += [f"{kind}_{metric}" for kind in KINDS]
    found = []
    lower = {c.lower(): c for c in columns}
    for name in names:
        for cand in (name, *(name + suffix for suffix, _ in KEY_SUFFIXES)):
            if cand in columns or cand.lower() in lower:
                found.append(cand if cand in columns else lower[cand.lower()])
                break
    return found


def metric_column(metric: str, columns: list[str]) -> str | None:
    """The first column holding ``metric`` (see :func:`metric_columns`), or None."""
    found = metric_columns(metric, columns)
    return found[0] if found else None


@dataclass(frozen=True)
class Rule:
    """One acceptance rule: ``metric op limit unit``."""

    metric: str
    op: str
    limit: float
    unit: str
    text: str

    def limit_in(self, unit: str | None) -> float:
        """The limit converted to ``unit``; an error naming the rule when the kinds differ."""
        mine, theirs = parse_unit(self.unit), parse_unit(unit)
        if not mine.same_kind(theirs):
            raise SurfscanError(f"spec rule {self.text!r}: {self.metric} is measured in {unit or '1'}, "
                                f"which cannot be compared with {self.unit or 'a plain number'}")
        return self.limit * mine.factor / theirs.factor

    def holds(self, value: float, unit: str | None) -> bool:
        """True when ``value`` (in ``unit``) satisfies the rule."""
        return _OPS[self.op](float(value), self.limit_in(unit))


@dataclass(frozen=True)
class Spec:
    """An acceptance spec: a name, its rules and the file it came from."""

    name: str
    rules: tuple[Rule, ...]
    source: str = ""
    text: str = ""
    filters: str | None = None
    outliers: str | None = None
    fill: str | None = None


def _chain_key(doc: dict[str, Any], key: str, allowed: tuple[str, ...], source: str) -> str | None:
    """A spec's ``filters``/``outliers``/``fill`` value (None when absent or false; true = the first of ``allowed``)."""
    value = doc.get(key)
    if value is None or value is False:
        return None
    if value is True:
        return allowed[0]
    if not isinstance(value, str) or value.strip().lower() not in allowed:
        raise SurfscanError(f"{source}: {key} = {value!r}: use {', '.join(repr(a) for a in allowed)} (or false)")
    return value.strip().lower()


def _rule_from_text(text: str, where: str) -> Rule:
    m = _RULE.match(text)
    if m is None:
        raise SurfscanError(f"{where}: cannot read rule {text!r}; write it like 'Sa < 0.10 um'")
    op = {"≤": "<=", "≥": ">="}.get(m.group(2), m.group(2))
    return Rule(m.group(1), op, float(m.group(3)), m.group(4), text.strip())


def _rule_from_table(d: dict[str, Any], where: str) -> Rule:
    try:
        metric, op, limit = str(d["metric"]), str(d.get("op", "<")), float(d["limit"])
    except (KeyError, TypeError, ValueError):
        raise SurfscanError(f"{where}: a rule table needs metric, op and a numeric limit, got {d!r}") from None
    unit = str(d.get("unit", ""))
    return _rule_from_text(f"{metric} {op} {limit!r} {unit}".strip(), where)


def _check(rule: Rule, where: str) -> Rule:
    """The rule with its metric's canonical name, after checking the metric and the unit."""
    from ..iso25178 import registry_units

    units = registry_units()
    canonical = {n.lower(): n for n in units}.get(rule.metric.lower())
    if canonical is not None and canonical != rule.metric and rule.metric not in units:
        rule = dataclasses.replace(rule, metric=canonical)
    if rule.metric in units:
        unit: str | None = units[rule.metric]
    elif protrusion_base(rule.metric) in PROTRUSION_UNITS:
        unit = PROTRUSION_UNITS[protrusion_base(rule.metric)]
    elif protrusion_base(rule.metric).startswith("protrusion_"):
        unit = column_unit(rule.metric)
    elif _sem_measure_unit(rule.metric) is not None:
        unit = _sem_measure_unit(rule.metric)
    else:
        known = ", ".join([*units, *PROTRUSION_UNITS, *SEM_MEASURE_UNITS])
        raise SurfscanError(f"{where}: rule {rule.text!r}: unknown metric {rule.metric!r}; known: {known}")
    parse_unit(rule.unit)
    if unit is not None:
        try:
            rule.limit_in(unit)
        except SurfscanError as exc:
            raise SurfscanError(f"{where}: {exc}") from None
    return rule


def parse_spec(text: str, source: str = "<spec>") -> Spec:
    """Parse and check a spec from TOML text (see the module docstring)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SurfscanError(f"{source}: not valid TOML ({exc})") from None
    raw = doc.get("rules", doc.get("rule"))
    if not isinstance(raw, list) or not raw:
        raise SurfscanError(f"{source}: no rules; write rules = [\"Sa < 0.10 um\", ...]")
    rules = []
    for item in raw:
        if isinstance(item, str):
            rule = _rule_from_text(item, source)
        elif isinstance(item, dict):
            rule = _rule_from_table(item, source)
        else:
            raise SurfscanError(f"{source}: a rule must be a string or a table, got {item!r}")
        rules.append(_check(rule, source))
    from ..outliers import FILL_METHODS, OUTLIER_METHODS
    from ..pipeline import FILTER_MODES

    name = str(doc.get("name", Path(source).stem))
    return Spec(name, tuple(rules), source, text, filters=_chain_key(doc, "filters", FILTER_MODES, source),
                outliers=_chain_key(doc, "outliers", OUTLIER_METHODS, source),
                fill=_chain_key(doc, "fill", FILL_METHODS, source))


def load_spec(path: str | os.PathLike) -> Spec:
    """Read and check a spec file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SurfscanError(f"{path}: cannot read the spec ({exc})") from None
    return parse_spec(text, str(path))


def judge(spec: Spec | None, values: dict[str, Any], units: dict[str, str]) -> tuple[str, list[str]]:
    """Verdict of one set of values (a file, or a group's means) against a spec.

    Parameters
    ----------
    values : dict
        Column name -> value (None or NaN = not measured).
    units : dict
        Column name -> unit.

    Returns
    -------
    verdict : str
        ``"pass"``, ``"fail"``, ``"n/a"`` (no rule applies) or ``""`` (no spec).
    failed : list of str
        One line per broken rule: ``"Sz = 1.13 um (rule Sz < 1.0 um)"``.
    """
    if spec is None:
        return "", []
    judged, failed = 0, []
    columns = list(values)
    for rule in spec.rules:
        for col in metric_columns(rule.metric, columns):
            v = values.get(col)
            if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) or isinstance(v, str):
                continue
            judged += 1
            if not rule.holds(v, units.get(col)):
                failed.append(f"{col} = {v:.4g} {units.get(col) or ''} (rule {rule.text})".replace("  ", " "))
    if not judged:
        return "n/a", []
    return ("fail" if failed else "pass"), failed
