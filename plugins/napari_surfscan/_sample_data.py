"""Sample data contribution: the ``sample_images/`` set shipped with surfscan.

Each entry of the manifest's ``sample_data`` calls one of the functions
below, which read the matching file through :func:`surfscan.read` and return
it as layer data. The folder is ``sample_images/`` next to ``plugins/`` in
the source tree (an editable install), or the folder named by the
``SURFSCAN_SAMPLE_IMAGES`` environment variable.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import surfscan
from surfscan.errors import SurfscanError

from ._layers import LayerData, layer_data

__all__ = ["sample_dir", "sample_path", "SAMPLES", "all_samples"]

#: Sample key -> (file name pattern, what it shows).
SAMPLES: dict[str, tuple[str, str]] = {
    "height_good": ("electrode_A_*site1.x3p", "Confocal height map: good Ag/C anode layer (A, site 1)"),
    "height_fair": ("electrode_B_*site1.x3p", "Confocal height map: fair layer (B, site 1)"),
    "height_poor": ("electrode_C_*site1.x3p", "Confocal height map: poor layer (C, site 1)"),
    "sem_smooth": ("sem_*smooth*.tif", "SEM 100x: smooth anode layer"),
    "sem_protrusions": ("sem_*protrusion*.tif", "SEM 100x: layer with many protrusions"),
}


def sample_dir() -> Path:
    """The ``sample_images`` folder (``SURFSCAN_SAMPLE_IMAGES`` overrides)."""
    env = os.environ.get("SURFSCAN_SAMPLE_IMAGES")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "sample_images"


def sample_path(key: str) -> Path:
    """The file of sample ``key`` (the first match of its pattern, by name)."""
    pattern, what = SAMPLES[key]
    folder = sample_dir()
    matches = sorted(folder.glob(pattern))
    if not matches:
        raise SurfscanError(f"sample {what!r}: no file matching {pattern} in {folder} "
                            "(run sample_images/make_samples.py, or set SURFSCAN_SAMPLE_IMAGES)")
    return matches[0]


def _loader(key: str) -> Callable[[], list[LayerData]]:
    def load() -> list[LayerData]:
        return [layer_data(surfscan.read(sample_path(key)))]

    load.__name__ = f"load_{key}"
    load.__doc__ = f"Sample data: {SAMPLES[key][1]}."
    return load


height_good = _loader("height_good")
height_fair = _loader("height_fair")
height_poor = _loader("height_poor")
sem_smooth = _loader("sem_smooth")
sem_protrusions = _loader("sem_protrusions")


def all_samples() -> list[LayerData]:
    """Every file in ``sample_images/`` that surfscan reads, one layer each."""
    from ._reader import can_read

    files = [p for p in sorted(sample_dir().glob("*")) if p.is_file() and p.suffix != ".py" and can_read(p)]
    if not files:
        raise SurfscanError(f"no sample images in {sample_dir()}")
    return [layer_data(surfscan.read(p)) for p in files]
