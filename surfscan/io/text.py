"""Plain-text height grids: a matrix of heights, or x y z triples on a regular grid.

Layouts
-------
- **matrix**: one row of heights per line (rows = y), separated by commas,
  semicolons, tabs or spaces; ``nan`` (or an empty CSV cell) marks a point
  that was not measured.
- **xyz**: three columns ``x y z``; the (x, y) points must lie on a regular
  grid (any order, missing points become NaN). The spacing is detected from
  the coordinates; scattered points are refused ("not a regular grid").

``layout="auto"`` (default) takes three-column files with more than three
lines as xyz, everything else as a matrix.

Header
------
Comment lines start with ``#``, ``%`` or ``;`` and may hold ``key = value``
(or ``key: value``) settings:

- ``dx_um``, ``dy_um``: pixel size of a matrix in µm (``dx``/``dy`` are
  taken in ``xy_unit``);
- ``xy_unit``: unit of x, y and dx/dy (``m``, ``mm``, ``um``, ``nm``);
- ``z_unit``: unit of the heights.

Text has no units of its own: when the header does not give them, lengths
are taken as µm and a :class:`~surfscan.errors.SurfscanWarning` says so; a
matrix without a pixel size gets 1 µm pixels. One header or data line may
hold at most :data:`MAX_LINE_BYTES`; files over :data:`MAX_TEXT_BYTES` are
refused, and the grid size is checked before any array is made.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError, FormatError, NotThisFormatError, SurfscanWarning
from ..model import Surface
from .checks import header_field
from .limits import check_grid
from .registry import Format, register

__all__ = ["read_text", "MAX_TEXT_BYTES", "MAX_LINE_BYTES", "UNITS"]

#: Largest text file read (bytes).
MAX_TEXT_BYTES = 1 << 30
#: Longest single line accepted (bytes).
MAX_LINE_BYTES = 64 << 20
#: Length units accepted in the header, with their factor to µm.
UNITS = {"m": 1e6, "mm": 1e3, "um": 1.0, "µm": 1.0, "micron": 1.0, "microns": 1.0, "nm": 1e-3}
_COMMENT = ("#", "%", ";")
_KEYVAL = re.compile(r"^[#%;]+\s*([A-Za-z_][\w ]*?)\s*[=:]\s*(\S.*?)\s*$")
_NUMBER = re.compile(r"^[\s,;]*[-+]?(\d|\.\d|nan|inf)", re.IGNORECASE)
_HEADER_LINES = 1000


def _sniff(head: bytes, path: Path) -> int:
    """30 when the first lines are comments or rows of numbers (text is a weak signal)."""
    if not head or b"\0" in head:
        return 0
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = head.decode("latin-1")
        if any(ord(c) < 9 or 13 < ord(c) < 32 for c in text):
            return 0
    lines = [ln for ln in text.splitlines()[:-1] if ln.strip()] or [text.strip()]
    data = [ln for ln in lines if not ln.lstrip().startswith(_COMMENT)]
    if len(data) > 1 and not _NUMBER.match(data[0]):
        data = data[1:]  # one line of column names
    if not data or not all(_NUMBER.match(ln) for ln in data[:20]):
        return 0
    return 30


def _split_header(path: Path, raw: bytes) -> tuple[dict[str, str], int]:
    """Header settings (lower-case keys) and the byte offset where the numbers start."""
    settings: dict[str, str] = {}
    pos = 0
    for _ in range(_HEADER_LINES):
        end = raw.find(b"\n", pos, pos + MAX_LINE_BYTES + 1)
        if end < 0:
            if len(raw) - pos > MAX_LINE_BYTES:
                raise FormatError(path, f"a line is longer than {MAX_LINE_BYTES} bytes; not a text grid")
            end = len(raw)
        line = raw[pos:end].decode("utf-8", errors="replace").strip()
        if line and not line.startswith(_COMMENT):
            if _NUMBER.match(line) or "columns" in settings:
                return settings, pos
            settings["columns"] = line  # one line of column names, e.g. "x,y,z"
            pos = end + 1
            continue
        m = _KEYVAL.match(line)
        if m:
            settings[m.group(1).strip().lower().replace(" ", "_")] = m.group(2)
        pos = end + 1
        if pos >= len(raw):
            break
    if pos >= len(raw):
        raise FormatError(path, "no numbers in the file (only comment lines)")
    raise FormatError(path, f"more than {_HEADER_LINES} header lines; not a text grid")


def _delimiter(line: str) -> str | None:
    for sep in ("\t", ";", ","):
        if sep in line:
            return sep
    return None


def _unit(path: Path, settings: dict[str, str], key: str) -> float | None:
    if key not in settings:
        return None
    unit = settings[key].strip().lower()
    if unit not in UNITS:
        raise FormatError(path, f"unknown {key} {settings[key]!r} in the header (use m, mm, um or nm)")
    return UNITS[unit]


def _table(path: Path, body: str) -> np.ndarray:
    """Parse the numbers (2-D float array) after checking the table size."""
    first = body.split("\n", 1)[0]
    if len(first) > MAX_LINE_BYTES:
        raise FormatError(path, f"a line is longer than {MAX_LINE_BYTES} bytes; not a text grid")
    sep = _delimiter(first)
    if sep == ";" and "," in first:
        body = body.replace(",", ".")  # decimal commas with ';' separators
    if sep and (
        f"{sep}{sep}" in body or f"{sep}\n" in body or f"\n{sep}" in body or body[:1] == sep or body[-1:] == sep
    ):
        sep_re = re.escape(sep)
        body = re.sub(rf"(?m)(^|{sep_re})(?=(?:{sep_re}|$))", r"\1nan", body)  # empty cell = not measured
    cols = len(first.split(sep)) if sep else len(first.split())
    rows = body.count("\n") + 1
    check_grid(path, rows, cols)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = np.loadtxt(
                io.StringIO(body),
                delimiter=sep,
                comments=[c for c in _COMMENT if c != sep],
                ndmin=2,
                dtype=np.float64,
                encoding=None,
            )
    except ValueError as exc:
        raise CorruptFileError(path, f"not a table of numbers ({str(exc).splitlines()[0]})") from None
    if table.size == 0:
        raise FormatError(path, "no numbers in the file")
    return table


def _lattice(path: Path, values: np.ndarray, name: str) -> tuple[np.ndarray, float, int]:
    """Grid index of each coordinate, the spacing and the number of grid lines."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise FormatError(path, f"no finite {name} coordinates")
    lo, hi = float(finite.min()), float(finite.max())
    span = hi - lo
    if span == 0:
        return np.zeros(values.shape, dtype=np.int64), 0.0, 1
    levels = np.unique(finite)
    gaps = np.diff(levels)
    tol = 1e-6 * span
    steps = gaps[gaps > tol]
    if steps.size == 0:
        raise FormatError(path, f"the {name} coordinates are not on a regular grid; not a regular grid")
    step = float(np.min(steps))
    n = int(round(span / step)) + 1
    check_grid(path, 1, n)
    step = span / (n - 1)
    index = np.rint((values - lo) / step)
    if not np.all(np.abs((values - lo) / step - index) < 0.05):
        raise FormatError(path, f"the {name} coordinates are not on a regular grid; not a regular grid")
    return index.astype(np.int64), step, n


def _grid_from_xyz(path: Path, table: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(z grid, dx, dy) from x y z triples on a regular grid, in file units."""
    x, y, z = table[:, 0], table[:, 1], table[:, 2]
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise FormatError(path, "x and y coordinates must all be numbers")
    ix, dx, nx = _lattice(path, x, "x")
    iy, dy, ny = _lattice(path, y, "y")
    check_grid(path, ny, nx)
    if ny * nx > 4 * len(z) + 16:
        raise FormatError(path, f"{len(z)} points scattered over a {ny} x {nx} lattice; not a regular grid")
    flat = iy * nx + ix
    if np.unique(flat).size != flat.size:
        raise FormatError(path, "two points share one grid position; not a regular grid")
    grid = np.full(ny * nx, np.nan)
    grid[flat] = z
    dx = dx or dy
    dy = dy or dx
    if not dx:
        raise FormatError(path, "a single point is not a grid")
    return grid.reshape(ny, nx), dx, dy


def read_text(path: str | Path, layout: str = "auto") -> Surface:
    """Read a text height grid (matrix or x y z triples).

    Parameters
    ----------
    path : str or Path
        The ``.csv``/``.txt``/``.xyz``/``.asc`` file.
    layout : {"auto", "matrix", "xyz"}
        How the numbers are arranged (see the module documentation).

    Returns
    -------
    Surface
        Heights in µm (NaN = not measured), pixel size in µm.
    """
    path = Path(path)
    if layout not in ("auto", "matrix", "xyz"):
        raise FormatError(path, f"layout must be auto, matrix or xyz, not {layout!r}")
    size = path.stat().st_size
    if size > MAX_TEXT_BYTES:
        raise FormatError(path, f"text file of {size} bytes is larger than the limit of {MAX_TEXT_BYTES}")
    raw = path.read_bytes()
    if b"\0" in raw[:65536]:
        raise NotThisFormatError(path, "binary data, not a text grid")
    settings, start = _split_header(path, raw)
    body = raw[start:].decode("utf-8", errors="replace").replace("\r\n", "\n").strip()
    table = _table(path, body)
    xy_fac = _unit(path, settings, "xy_unit")
    z_fac = _unit(path, settings, "z_unit")
    if layout == "xyz" or (layout == "auto" and table.shape[1] == 3 and table.shape[0] > 3):
        if table.shape[1] != 3:
            raise FormatError(path, f"x y z triples need 3 columns, the file has {table.shape[1]}")
        z, dx, dy = _grid_from_xyz(path, table)
        source, kind = "x y coordinates", "xyz"
    else:
        z, dx, dy, source = _matrix_spacing(path, table, settings)
        kind = "matrix"
    unitless = [
        *(["x, y and dx/dy"] if xy_fac is None and source in ("x y coordinates", "header (dx)") else []),
        *(["heights"] if z_fac is None else []),
    ]
    if unitless:
        _warn(path, " and ".join(unitless))
    xy = xy_fac or 1.0
    if source != "header (dx_um)":
        dx, dy = dx * xy, dy * xy
    return Surface(z * (z_fac or 1.0), dx, dy, {"instrument": None, "text_layout": kind, "pixel_size_source": source})


def _number(path: Path, settings: dict[str, str], key: str) -> float | None:
    return header_field(path, settings, key, default=None, positive=True)


def _matrix_spacing(path: Path, table: np.ndarray, settings: dict[str, str]) -> tuple[np.ndarray, float, float, str]:
    dx, dy = _number(path, settings, "dx_um"), _number(path, settings, "dy_um")
    if dx or dy:
        return table, dx or dy, dy or dx, "header (dx_um)"
    dx, dy = _number(path, settings, "dx"), _number(path, settings, "dy")
    if dx or dy:
        return table, dx or dy, dy or dx, "header (dx)"
    warnings.warn(
        f"{path}: no pixel size in the header (# dx_um = ...); assuming 1 µm pixels", SurfscanWarning, stacklevel=3
    )
    return table, 1.0, 1.0, "none (1 µm assumed)"


def _warn(path: Path, what: str) -> None:
    warnings.warn(
        f"{path}: text files carry no units; {what} taken as µm (set xy_unit/z_unit in a # header)",
        SurfscanWarning,
        stacklevel=3,
    )


register(Format("text", "plain-text height grid (matrix or x y z)", (".csv", ".txt", ".xyz", ".asc"), kind="height",
                reader=read_text, sniff=_sniff))
