"""Label images saved beside the image they belong to: ``<image>.labels.tif``.

A person corrects an automatic segmentation (in napari: paint, erase, fill)
and saves the result next to the image, named after the image's full file
name plus ``.labels.tif``: ``E1_100x.tif`` -> ``E1_100x.tif.labels.tif``,
``site3.vk4`` -> ``site3.vk4.labels.tif``. ``surfscan batch`` then measures
that image from the saved labels instead of detecting automatically, and
never analyses a ``*.labels.tif`` file as an image of its own.

The file is a TIFF with one page per analysis. Each page is a 2-D int32
label image (0 = background, any positive value = one object; values need
not be consecutive), compressed with zlib, whose ImageDescription is JSON
naming the analysis: ``{"surfscan": "labels", "analysis": "particles"}``.
The label image has the shape of the image as surfscan reads it (an SEM
image without its information bar). Saving one analysis keeps the pages of
the others.

>>> import shutil, tempfile
>>> import surfscan as ss
>>> from surfscan.labels_io import save_labels, load_labels
>>> image = shutil.copy("sample_images/sem_anode_protrusions_100x.tif", tempfile.mkdtemp())
>>> edited = ss.measure_particles(ss.read(image)).labels          # or labels painted in napari
>>> save_labels(image, edited, "particles").name
'sem_anode_protrusions_100x.tif.labels.tif'
>>> load_labels(image, "particles").shape, load_labels(image, "protrusions")
((768, 1024), None)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .errors import SurfscanError

__all__ = ["ANALYSES", "LABELS_SUFFIX", "labels_path", "is_labels_file", "labels_analyses", "load_labels",
           "load_all_labels", "save_labels"]

#: The analyses a labels file can hold a page for.
ANALYSES = ("particles", "protrusions")

#: What is appended to the image's file name.
LABELS_SUFFIX = ".labels.tif"


def labels_path(image_path: str | os.PathLike) -> Path:
    """The labels file of an image: its full name plus ``.labels.tif``."""
    return Path(os.fspath(image_path) + LABELS_SUFFIX)


def is_labels_file(path: str | os.PathLike) -> bool:
    """True for a file named like a labels file (``*.labels.tif`` or ``*.labels.tiff``, any case)."""
    name = os.path.basename(os.fspath(path)).lower()
    return name.endswith((LABELS_SUFFIX, LABELS_SUFFIX + "f"))


def _check_analysis(analysis: str) -> str:
    if analysis not in ANALYSES:
        raise SurfscanError(f"labels analysis must be one of {', '.join(ANALYSES)}, not {analysis!r}")
    return analysis


def _page_analysis(description: str | None) -> str | None:
    try:
        d = json.loads(description or "")
    except ValueError:
        return None
    return d.get("analysis") if isinstance(d, dict) else None


def _read_pages(path: Path) -> dict[str, np.ndarray]:
    """Every page of a labels file, keyed by analysis (pages without one are ignored)."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            pages = {}
            for page in tif.pages:
                name = _page_analysis(page.description)
                if name is not None:
                    pages[name] = page.asarray()
    except (OSError, ValueError, tifffile.TiffFileError) as exc:
        raise SurfscanError(f"{path}: not a readable labels file ({exc})") from None
    return pages


def load_all_labels(image_path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every saved page of an image's labels file as ``{analysis: int32 labels}`` (empty when there is no file)."""
    path = labels_path(image_path)
    if not path.is_file():
        return {}
    return {name: _checked_page(path, name, page) for name, page in _read_pages(path).items() if name in ANALYSES}


def _checked_page(path: Path, analysis: str, page: np.ndarray) -> np.ndarray:
    if page.ndim != 2 or page.dtype.kind not in "iu":
        raise SurfscanError(f"{path}: the {analysis} page is not a 2-D integer label image "
                            f"(shape {page.shape}, {page.dtype})")
    return page.astype(np.int32, copy=False)


def labels_analyses(image_path: str | os.PathLike) -> list[str]:
    """The analyses the image's labels file holds pages for (empty when there is no labels file)."""
    path = labels_path(image_path)
    return list(_read_pages(path)) if path.is_file() else []


def load_labels(image_path: str | os.PathLike, analysis: str) -> np.ndarray | None:
    """The saved labels of one analysis of an image, or None when there are none.

    Parameters
    ----------
    image_path : path
        The image (not the labels file): ``E1_100x.tif``.
    analysis : {"particles", "protrusions"}

    Returns
    -------
    ndarray of int32 or None
        None when ``<image>.labels.tif`` does not exist or holds no page for
        ``analysis``.

    Raises
    ------
    SurfscanError
        When the labels file exists but cannot be read, or its page is not a
        2-D integer image.
    """
    _check_analysis(analysis)
    path = labels_path(image_path)
    if not path.is_file():
        return None
    page = _read_pages(path).get(analysis)
    return None if page is None else _checked_page(path, analysis, page)


def save_labels(image_path: str | os.PathLike, labels: np.ndarray, analysis: str = "particles") -> Path:
    """Write the labels of one analysis beside the image, keeping the pages of other analyses.

    Parameters
    ----------
    image_path : path
        The image the labels belong to; the labels go to ``<image>.labels.tif``.
    labels : ndarray
        2-D non-negative integer label image (0 = background), at most
        2**31 - 1; written as int32, zlib-compressed.
    analysis : {"particles", "protrusions"}
        Which analysis the labels are for (the page's description).

    Returns
    -------
    Path
        The labels file written (through a temporary file, so a crash never
        leaves half a file).
    """
    import tifffile

    _check_analysis(analysis)
    arr = np.asarray(labels)
    if arr.ndim != 2 or arr.dtype.kind not in "iu":
        raise SurfscanError(f"labels must be a 2-D integer image, not shape {arr.shape} {arr.dtype}")
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) > np.iinfo(np.int32).max):
        raise SurfscanError("labels must be between 0 and 2**31 - 1")
    path = labels_path(image_path)
    pages = _read_pages(path) if path.is_file() else {}
    pages[analysis] = arr.astype(np.int32, copy=False)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tifffile.TiffWriter(tmp) as tif:
            for name in [a for a in ANALYSES if a in pages] + [a for a in pages if a not in ANALYSES]:
                desc = json.dumps({"surfscan": "labels", "analysis": name})
                tif.write(np.ascontiguousarray(pages[name], dtype=np.int32), description=desc, metadata=None,
                          compression="zlib")
        os.replace(tmp, path)
    except OSError as exc:
        raise SurfscanError(f"{path}: cannot write the labels file ({exc.strerror or exc})") from None
    return path
