"""Finding the files of a batch: walk folders, apply include globs, name groups.

Every candidate becomes one task, including files no reader recognises:
those are recorded as errors rather than silently skipped, so a lab sees
what the batch did not measure. Only files that are plainly not
measurements are left out (hidden files, documents and sidecars such as
``.md``, ``.toml``, ``.json``, ``.html``, ``.py``, and anything inside the
batch's own output folder),
unless an ``--include`` glob names them; so are Hitachi and JEOL ``.txt``
sidecars next to their image (the image's reader takes its calibration from
them). Label files saved beside an image
(``<image>.labels.tif``, see :mod:`surfscan.labels_io`) are never taken, not
even by an ``--include`` glob: the batch measures their image from them.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import SurfscanError
from ..io.sem.micrograph import is_vendor_sidecar
from ..labels_io import is_labels_file

__all__ = ["Candidate", "discover", "group_of", "assign_groups", "parse_group_by", "replicate_stem", "NOT_MEASUREMENTS"]

_REPLICATE = re.compile(r"(?:[ _.-]+(?:site|spot|pos|position|area|field|rep|replicate|s|r|p)?|"
                        r"(?:site|spot|position|field|replicate))[ _.-]*\(?\d+\)?$", re.I)

#: Suffixes of files that are never measurements (unless a reader claims them).
NOT_MEASUREMENTS = frozenset(
    {".md", ".rst", ".toml", ".json", ".html", ".htm", ".pdf", ".py", ".ipynb", ".yaml", ".yml", ".log",
     ".sqlite", ".sqlite-wal", ".sqlite-shm", ".db", ".db-wal", ".db-shm", ".parquet", ".xlsx", ".docx"}
)


@dataclass(frozen=True)
class Candidate:
    """One file of a batch.

    Attributes
    ----------
    path : str
        The file as found (absolute, not resolved through links).
    root : str
        The folder given on the command line under which it was found.
    """

    path: str
    root: str

    @property
    def relative(self) -> str:
        """The path relative to its root, with ``/`` separators."""
        rel = os.path.relpath(self.path, self.root)
        return PurePosixPath(*Path(rel).parts).as_posix()


def _reader_suffixes() -> set[str]:
    from ..io import formats

    return {s for f in formats() if f.reader is not None for s in f.suffixes}


def _wanted(name: str, include: Sequence[str], known: set[str]) -> bool:
    if is_labels_file(name):  # a person's labels for an image, not a measurement
        return False
    if name.startswith(".") and not any(g.startswith(".") for g in include):
        return False
    if include:
        return any(fnmatch.fnmatch(name, g) or fnmatch.fnmatch(name.lower(), g.lower()) for g in include)
    suffix = os.path.splitext(name)[1].lower()
    return suffix in known or suffix not in NOT_MEASUREMENTS


def _inside(path: str, folder: str | None) -> bool:
    if folder is None:
        return False
    try:
        return os.path.commonpath([os.path.abspath(path), folder]) == folder
    except ValueError:
        return False


def _entries(folder: str, recursive: bool, known: set[str]) -> Iterable[tuple[str, bool]]:
    """(path, is_candidate_folder) of every entry; folders named like data files count as files."""
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        raise SurfscanError(f"{folder}: cannot list the folder ({exc.strerror or exc})") from None
    for e in entries:
        try:
            is_dir = e.is_dir(follow_symlinks=False)
        except OSError:
            is_dir = False
        named_like_data = os.path.splitext(e.name)[1].lower() in known
        if is_dir and not named_like_data:
            if recursive and not e.name.startswith("."):
                yield from _entries(e.path, recursive, known)
            continue
        yield e.path, is_dir


def discover(
    folders: Sequence[str | os.PathLike],
    recursive: bool = False,
    include: Sequence[str] | None = None,
    exclude_folder: str | os.PathLike | None = None,
) -> list[Candidate]:
    """The files of a batch, sorted and without duplicates.

    Parameters
    ----------
    folders : list of path
        Folders to walk; a path that is a file is taken as it is.
    recursive : bool
        Walk sub-folders too.
    include : list of str, optional
        Shell globs matched against file names (``"*.x3p"``); when given,
        only matching files are taken.
    exclude_folder : path, optional
        A folder whose contents are never taken (the batch output).

    Returns
    -------
    list of Candidate
        Including folders named like data files (``scan.x3p/``) and
        dangling links: they are reported as unreadable by the batch.
    """
    include = list(include or [])
    known = _reader_suffixes()
    skip = os.path.abspath(exclude_folder) if exclude_folder is not None else None
    seen: set[str] = set()
    out: list[Candidate] = []
    for folder in folders:
        folder = os.path.abspath(os.fspath(folder))
        if not os.path.lexists(folder):
            raise SurfscanError(f"{folder}: no such folder")
        if not os.path.isdir(folder):
            found = [(folder, False)]
            root = os.path.dirname(folder)
        else:
            found = list(_entries(folder, recursive, known))
            root = folder
        for path, _ in found:
            if path in seen or _inside(path, skip) or not _wanted(os.path.basename(path), include, known):
                continue
            if not include and is_vendor_sidecar(Path(path)):  # read with its image, not measured on its own
                continue
            seen.add(path)
            out.append(Candidate(path, root))
    return out


def parse_group_by(spec: str | None) -> tuple[str, re.Pattern[str] | None]:
    """Check a ``--group-by`` value: ``auto``, ``parent``, ``name``, ``file``/``none`` or ``regex:PATTERN``."""
    if spec is None or spec in ("auto", "parent", "name", "file", "none"):
        return (spec or "auto"), None
    if spec.startswith("regex:"):
        try:
            return "regex", re.compile(spec[len("regex:"):])
        except re.error as exc:
            raise SurfscanError(f"--group-by {spec!r}: not a valid regular expression ({exc})") from None
    raise SurfscanError(f"--group-by {spec!r}: use 'auto', 'parent', 'name', 'file' or 'regex:PATTERN'")


def replicate_stem(name: str) -> str:
    """A file name without its suffix and trailing replicate number: ``E1_site3.x3p`` -> ``E1``."""
    stem = os.path.splitext(name)[0]
    cut = _REPLICATE.sub("", stem)
    return cut or stem


def group_of(candidate: Candidate, group_by: str | None) -> str:
    """The group (sample) a file belongs to.

    ``parent``: the folder holding the file, relative to the folder given on
    the command line (its own name when the file lies directly in it).
    ``regex:PATTERN``: the first capture group that matched (or the whole match) of
    ``PATTERN`` searched in the relative path; files that do not match form
    the group ``"(no match)"``. ``name``: the file name without its
    replicate number (``E1_site3.x3p`` -> ``E1``). ``file``/``none``: every
    file is its own group. ``auto`` is ``parent`` here; see
    :func:`assign_groups`.
    """
    kind, pattern = parse_group_by(group_by)
    rel = candidate.relative
    if kind == "regex":
        assert pattern is not None
        m = pattern.search(rel)
        if m is None:
            return "(no match)"
        if "group" in m.groupdict():
            return m.group("group")
        return next((g for g in m.groups() if g is not None), m.group(0))
    if kind in ("file", "none"):
        return rel
    if kind == "name":
        return replicate_stem(os.path.basename(candidate.path))
    parent = PurePosixPath(rel).parent.as_posix()
    return os.path.basename(candidate.root) if parent == "." else parent


def assign_groups(candidates: Sequence[Candidate], group_by: str | None) -> list[str]:
    """The group of each file.

    ``auto`` (the default) groups by parent folder, unless every file lies in
    one folder: then by file name without the replicate number (``name``),
    so ``E1_site1``, ``E1_site2`` and ``E2_site1`` make the groups E1 and E2.
    """
    kind, _ = parse_group_by(group_by)
    if kind == "auto":
        parents = {os.path.dirname(c.path) for c in candidates}
        kind = "name" if len(parents) == 1 and len(candidates) > 1 else "parent"
    return [group_of(c, kind if kind in ("parent", "name") else group_by) for c in candidates]
