"""surfscan: SEM micrographs and confocal height maps of coatings, turned into numbers.

>>> import surfscan as ss
>>> s = ss.read("E1_site1.x3p")                # Surface: z in µm, dx/dy in µm, NaN = not measured
>>> s = ss.level(s, "plane")
>>> ss.roughness(s, ["Sa", "Sz"])              # doctest: +SKIP
"""

from __future__ import annotations

from .curves import acf, height_histogram, material_ratio_curve, psd
from .errors import FormatError, SurfscanError, SurfscanWarning
from .filters import apply_filters, gaussian_filter, robust_gaussian_filter
from .io import formats, read, write
from .iso25178 import parameters, roughness
from .level import fit_plane, level, level_plane, level_polynomial, level_rows
from .model import Micrograph, Surface
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
