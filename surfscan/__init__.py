"""surfscan: SEM micrographs and confocal height maps of coatings, turned into numbers.

>>> import surfscan as ss
>>> s = ss.read("sample_images/electrode_A_good_site1.x3p")  # Surface: z in µm, dx/dy in µm, NaN = not measured
>>> s = ss.level(s, "plane")
>>> {k: round(v, 2) for k, v in ss.roughness(s, ["Sa", "Sz"]).items()}   # µm
{'Sa': 0.07, 'Sz': 0.88}
>>> m = ss.read("sample_images/sem_anode_protrusions_100x.tif")   # Micrograph: bar removed, pixel size in µm
>>> p = ss.detect_protrusions(m)
>>> p.summary["count"], round(p.summary["density_per_mm2"])       # protrusions, per mm²
(70, 146)

Every public function's docstring has an example on the files in ``sample_images/``
(run from the repository root; ``pytest`` runs them all).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import FormatError, SurfscanError, SurfscanWarning
from .level import fit_plane, level, level_plane, level_polynomial, level_rows  # eager: ``level`` is also a module
from .model import Micrograph, Surface

# Everything else is imported on first use (PEP 562), so ``import surfscan`` and the command line pay only
# for what they touch: pandas, scipy.fft and scikit-image load when a function that needs them is called.
_LAZY = {
    "acf": "curves", "height_histogram": "curves", "material_ratio_curve": "curves", "psd": "curves",
    "apply_filters": "filters", "gaussian_filter": "filters", "robust_gaussian_filter": "filters",
    "formats": "io", "list_channels": "io", "read": "io", "write": "io",
    "parameters": "iso25178", "roughness": "iso25178",
    "fill_nonmeasured": "outliers", "remove_outliers": "outliers",
    "Particles": "particles", "measure_particles": "particles",
    "porosity_from_section": "porosity", "porosity_gravimetric": "porosity",
    "profile_roughness": "profile_parameters",
    "Profile": "profiles", "profile": "profiles",
    "Protrusions": "protrusions", "ProtrusionSettings": "protrusions", "detect_protrusions": "protrusions",
    "measure_particles_from_labels": "remeasure", "measure_protrusions_from_labels": "remeasure",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module (or a submodule) on first access."""
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    try:
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and IDEs: the names as plain imports
    from .curves import acf, height_histogram, material_ratio_curve, psd
    from .filters import apply_filters, gaussian_filter, robust_gaussian_filter
    from .io import formats, list_channels, read, write
    from .iso25178 import parameters, roughness
    from .outliers import fill_nonmeasured, remove_outliers
    from .particles import Particles, measure_particles
    from .porosity import porosity_from_section, porosity_gravimetric
    from .profile_parameters import profile_roughness
    from .profiles import Profile, profile
    from .protrusions import Protrusions, ProtrusionSettings, detect_protrusions
    from .remeasure import measure_particles_from_labels, measure_protrusions_from_labels

__version__ = "0.1.0"

__all__ = [
    "Surface",
    "detect_protrusions",
    "Protrusions",
    "ProtrusionSettings",
    "Micrograph",
    "read",
    "write",
    "formats",
    "list_channels",
    "level",
    "level_plane",
    "level_polynomial",
    "level_rows",
    "fit_plane",
    "gaussian_filter",
    "robust_gaussian_filter",
    "apply_filters",
    "roughness",
    "parameters",
    "measure_particles",
    "measure_particles_from_labels",
    "measure_protrusions_from_labels",
    "Particles",
    "Profile",
    "profile",
    "profile_roughness",
    "remove_outliers",
    "fill_nonmeasured",
    "material_ratio_curve",
    "height_histogram",
    "psd",
    "acf",
    "porosity_from_section",
    "porosity_gravimetric",
    "SurfscanError",
    "SurfscanWarning",
    "FormatError",
    "__version__",
]
