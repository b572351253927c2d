"""The report's curves section: Abbott-Firestone curve (with its Sk construction) and PSD per height map.

The result store holds single numbers, not curves, so the curves are
computed at report time from the files themselves, prepared as the batch
prepared them (outlier removal and filling as the run's settings say, then
levelling and filtering). To keep the report fast on large batches only the
first :data:`MAX_CURVE_FILES` analysed height maps get curves, taken in turn
from each group so every group is shown; the section says how many were
left out. Figures are drawn with matplotlib's Agg canvas and embedded as
base64 PNG (nothing is fetched from elsewhere).
"""

from __future__ import annotations

import base64
import html
import io
import warnings
from typing import Any

import pandas as pd

from ..curves import material_ratio_curve, psd
from ..curves_plot import _abbott, _psd
from ..errors import SurfscanError
from ..outliers import fill_nonmeasured, remove_outliers
from ..pipeline import RoughnessSettings, prepare
from .export import Tables

__all__ = ["curves_section", "curve_files", "file_curves_png", "MAX_CURVE_FILES"]

#: How many height maps get curves in one report (about 0.4 s each for 256 x 256 points: 12 take 4.9 s
#: of the 5.7 s report of a 100-file batch, median of 3 on a shared 2-core machine).
MAX_CURVE_FILES = 12


def curve_files(files: pd.DataFrame, limit: int = MAX_CURVE_FILES) -> pd.DataFrame:
    """The analysed height maps that get curves: up to ``limit``, taken in turn from each group."""
    ok = files[(files["status"] == "ok") & (files.get("kind", "height") == "height")]
    if ok.empty or limit <= 0:
        return ok.head(0)
    turn = ok.groupby("group", sort=False).cumcount()  # 0 for each group's first file, 1 for its second, ...
    order = ok.assign(_turn=turn.to_numpy()).sort_values(["_turn", "group", "path"], kind="stable")
    return order.head(limit).drop(columns="_turn").sort_values(["group", "path"], kind="stable")


def _png(fig: Any) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def file_curves_png(path: str, settings: RoughnessSettings, outliers: str | None = None,
                    fill: str | None = None) -> str:
    """The Abbott-Firestone curve and the log-log PSD of one height-map file, as a PNG data URI.

    Parameters
    ----------
    path : str
        The height-map file.
    settings : RoughnessSettings
        Levelling and filters (cut-offs in µm) the batch used.
    outliers, fill : str or None
        Outlier removal and fill methods the batch used (None = not done).
        The PSD needs a complete map: points still missing are filled (thin
        plate) for it.
    """
    from matplotlib.figure import Figure

    from ..io import read
    from ..model import Surface

    surface = read(path)
    if not isinstance(surface, Surface):
        raise SurfscanError(f"{path} is not a height map")
    if outliers:
        surface = remove_outliers(surface, outliers)
    if fill:
        surface = fill_nonmeasured(surface, fill)
    prepared = prepare(surface, settings)
    complete = fill_nonmeasured(prepared) if prepared.has_invalid else prepared
    fig = Figure(figsize=(10, 3.4))
    ax1, ax2 = fig.subplots(1, 2)
    _abbott(ax1, material_ratio_curve(prepared))
    _psd(ax2, psd(complete))
    for ax in (ax1, ax2):
        ax.grid(True, which="both", lw=0.3, alpha=0.5)
    fig.tight_layout()
    return _png(fig)


def curves_section(t: Tables, settings: RoughnessSettings, limit: int = MAX_CURVE_FILES) -> str:
    """HTML of the curves section: one figure per chosen height map, a note on the files left out."""
    chosen = curve_files(t.files, limit)
    if chosen.empty:
        return "<p class='note'>No analysed height maps.</p>"
    run = t.run["settings"]
    figs = []
    for _, row in chosen.iterrows():
        caption = f"<b>{html.escape(row['file'])}</b> ({html.escape(str(row['group']))})"
        try:
            with warnings.catch_warnings():  # the file's warnings were recorded by the batch already
                warnings.simplefilter("ignore")
                img = f"<img alt='curves of {html.escape(row['file'])}' src='" + file_curves_png(
                    row["path"], settings, run.get("outliers"), run.get("fill")) + "'>"
        except (SurfscanError, OSError, MemoryError) as exc:  # a file moved or unreadable since the batch: say so, keep the report
            img = f"<p class='note'>cannot show the curves of this file now: {html.escape(str(exc))}</p>"
        figs.append(f"<figure>{img}<figcaption>{caption}</figcaption></figure>")
    n_maps = int(((t.files["status"] == "ok") & (t.files.get("kind", "height") == "height")).sum())
    note = (f"<p class='note'>Curves of {len(chosen)} of {n_maps} height maps (at most {limit}, taken in turn "
            "from each group), computed from the files as the batch prepared them.</p>")
    return note + "".join(figs)
