"""The batch report: one self-contained HTML file (figures embedded as base64 PNG).

Contents: a summary (files, errors, verdicts, settings, spec), the group
table with verdicts, per-group box plots of Sa, Sz and protrusion density
with the spec limits drawn, a histogram of protrusion sizes, thumbnails of
the worst files with their protrusions outlined, the files whose automatic
result is unreliable (with the analysis's reasons), and the file table with
a ``quality`` column: "⚠ unreliable" for an automatic result its quality block
calls unreliable, "✎ labels" where a person's saved labels were measured
(they count as reliable), empty where no quality was assessed.

Figures are drawn with matplotlib's Agg canvas directly (no pyplot, so the
caller's backend is left alone).
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SurfscanError
from ..grey import to_grey
from .export import Tables, build_tables
from .report_curves import curves_section
from .spec import Spec, metric_column, metric_columns
from .store import ResultStore

__all__ = ["write_report", "worst_files", "quality_flags", "UNRELIABLE_MARK"]

#: Marker of a file whose automatic result its analysis called unreliable.
UNRELIABLE_MARK = "⚠ unreliable"
_ANALYSIS_PREFIXES = {"sem_protrusion_": "protrusions", "height_protrusion_": "protrusions", "particles_": "particles"}

_MAX_FILE_ROWS = 2000
_BOX_METRICS = ("Sa", "Sz", "protrusion_density")
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1200px;
color:#222;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 7px;
text-align:right}th{background:#f4f4f4}td.t,th.t{text-align:left}
.pass{background:#d9f2d9}.fail{background:#f9d6d5}.error{background:#fde9c4}.unreliable{background:#ffe08a}
.thumbs{display:flex;flex-wrap:wrap;gap:12px}.thumbs figure{margin:0;width:280px;font-size:.8em}
img{max-width:100%}.note{color:#666;font-size:.85em}
"""


def _png(fig: Any) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _unit(u: str | None) -> str:
    """A unit for display: ``um3/um2`` -> ``µm³/µm²``."""
    return (u or "").replace("um", "µm").replace("2", "²").replace("3", "³") if u and u != "1" else ""


def _key_metrics(t: Tables) -> list[str]:
    """The metrics shown in the report's tables: those of the spec, Sa, Sq, Sz and the protrusion summary."""
    wanted = [r.metric for r in t.spec.rules] if t.spec else []
    wanted += ["Sa", "Sq", "Sz", "protrusion_count", "protrusion_density"]
    return list(dict.fromkeys(c for m in wanted for c in metric_columns(m, t.metrics)))


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return ""
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    return str(v)


def _table(df: pd.DataFrame, columns: list[str], units: dict[str, str] | None = None) -> str:
    units = units or {}
    columns = [c for c in columns if c in df.columns]
    heads = "".join(f"<th class='t'>{html.escape(c)}</th>" if df[c].dtype == object else
                    f"<th>{html.escape(c)}{' [' + html.escape(_unit(units[c])) + ']' if _unit(units.get(c)) else ''}</th>"
                    for c in columns)
    rows = []
    for rec in df[columns].to_dict("records"):
        cells = []
        for c in columns:
            v = rec[c]
            cls = " class='t'" if isinstance(v, str) or v is None else ""
            if c == "verdict" and v in ("pass", "fail", "error"):
                cls = f" class='t {v}'"
            elif c == "quality" and isinstance(v, str) and v.startswith(UNRELIABLE_MARK):
                cls = " class='t unreliable'"
            cells.append(f"<td{cls}>{html.escape(_fmt(v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{heads}</tr>{''.join(rows)}</table>"


def _limits(spec: Spec | None, column: str, unit: str | None, columns: list[str]) -> list[tuple[str, float]]:
    if spec is None:
        return []
    out = []
    for rule in spec.rules:
        if column in metric_columns(rule.metric, columns):
            try:
                out.append((rule.text, rule.limit_in(unit)))
            except SurfscanError:
                continue
    return out


def _box_plots(t: Tables) -> str:
    from matplotlib.figure import Figure

    ok = t.files[t.files["status"] == "ok"]
    cols = [c for m in _BOX_METRICS for c in metric_columns(m, list(ok.columns)) if ok[c].notna().any()]
    if not cols:
        return "<p class='note'>No roughness or protrusion values to plot.</p>"
    groups = sorted(ok["group"].unique())
    fig = Figure(figsize=(4.2 * len(cols), 3.6 + 0.08 * max(len(g) for g in groups)))
    for i, c in enumerate(cols):
        ax = fig.add_subplot(1, len(cols), i + 1)
        data = [pd.to_numeric(ok.loc[ok["group"] == g, c], errors="coerce").dropna().to_numpy() for g in groups]
        keep = [j for j, d in enumerate(data) if d.size]
        ax.boxplot([data[j] for j in keep], showmeans=True)
        ax.set_xticks(range(1, len(keep) + 1), [groups[j] for j in keep])  # works on every matplotlib >= 3.5
        for j, d in zip(range(1, len(keep) + 1), (data[k] for k in keep)):
            ax.plot(np.full(d.size, j) + np.linspace(-0.08, 0.08, d.size), d, "k.", alpha=0.5, ms=4)
        for text, limit in _limits(t.spec, c, t.units.get(c), list(ok.columns)):
            ax.axhline(limit, color="tab:red", ls="--", lw=1.2, label=text)
            ax.legend(fontsize=7, loc="best")
        unit = _unit(t.units.get(c))
        ax.set_title(f"{c}" + (f" [{unit}]" if unit else ""), fontsize=10)
        ax.tick_params(axis="x", rotation=45 if len(keep) > 4 else 0, labelsize=8)
    fig.tight_layout()
    return f"<img alt='box plots per group' src='{_png(fig)}'>"


def _size_histogram(t: Tables) -> str:
    from matplotlib.figure import Figure

    obj = t.objects
    col = next((c for c in ("equivalent_diameter_um", "diameter_um", "area_um2") if c in obj.columns), None)
    if obj.empty or col is None:
        return "<p class='note'>No protrusions were detected (or protrusion detection was off).</p>"
    sizes = pd.to_numeric(obj[col], errors="coerce").dropna().to_numpy()
    fig = Figure(figsize=(7, 3.4))
    ax = fig.add_subplot()
    for g in sorted(obj["group"].unique()):
        v = pd.to_numeric(obj.loc[obj["group"] == g, col], errors="coerce").dropna().to_numpy()
        ax.hist(v, bins=np.histogram_bin_edges(sizes, bins="auto"), histtype="step", lw=1.5, label=f"{g} ({v.size})")
    ax.set_xlabel(col.replace("_um2", " [µm²]").replace("_um", " [µm]").replace("_", " "))
    ax.set_ylabel("protrusions")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return f"<img alt='histogram of protrusion sizes' src='{_png(fig)}'>"


def worst_files(t: Tables, n: int = 6) -> pd.DataFrame:
    """The ``n`` files furthest beyond the spec (largest value/limit ratio); by Sa without a spec."""
    ok = t.files[t.files["status"] == "ok"].copy()
    if ok.empty:
        return ok
    score = pd.Series(-np.inf, index=ok.index)
    rules = t.spec.rules if t.spec is not None else ()
    for rule in rules:
        for c in metric_columns(rule.metric, list(ok.columns)):
            try:
                limit = rule.limit_in(t.units.get(c))
            except SurfscanError:
                continue
            v = pd.to_numeric(ok[c], errors="coerce")
            ratio = v / limit if rule.op.startswith("<") else limit / v
            score = np.fmax(score, ratio.replace([np.inf, -np.inf], np.nan).fillna(-np.inf))
    if not rules:
        c = metric_column("Sa", list(ok.columns)) or metric_column("protrusion_density", list(ok.columns))
        if c is not None:
            score = pd.to_numeric(ok[c], errors="coerce").fillna(-np.inf)
    ok["score"] = score
    return ok.sort_values(["score", "path"], ascending=[False, True]).head(n)


def _settings_from(run: dict[str, Any]):
    from ..pipeline import RoughnessSettings

    s = run["settings"]
    return RoughnessSettings(level=s.get("level", "plane"), lambda_s_um=s.get("lambda_s_um"),
                             lambda_c_um=s.get("lambda_c_um"), robust=bool(s.get("robust", False)),
                             filters=s.get("filters") or "manual", outliers=s.get("outliers"), fill=s.get("fill"))


def _thumbnail(row: pd.Series, t: Tables) -> str:
    """A figure of one file: the levelled height map or the SEM image, protrusions outlined."""
    from matplotlib.figure import Figure

    from ..io import read
    from ..model import Surface
    from ..pipeline import prepare

    obj = read(row["path"])
    settings = t.run["settings"]
    if isinstance(obj, Surface):
        image, cmap, label = prepare(obj, _settings_from(t.run)).z, "viridis", "height [µm]"
    else:
        image, cmap, label = to_grey(obj.image), "gray", None
    labels = None
    if settings.get("protrusions"):
        import surfscan

        from ..labels_io import load_labels

        labels = load_labels(row["path"], "protrusions")  # a person's labels, as the batch measured them
        detect = getattr(surfscan, "detect_protrusions", None)
        if labels is None and detect is not None:
            labels = np.asarray(detect(obj, **settings.get("protrusion_settings", {})).labels)
    step = max(1, int(max(image.shape) // 400))  # the thumbnail needs no more than ~400 pixels a side
    fig = Figure(figsize=(3.6, 3.2))
    ax = fig.add_subplot()
    im = ax.imshow(image[::step, ::step], cmap=cmap, interpolation="nearest")
    if label:
        fig.colorbar(im, ax=ax, shrink=0.8, label=label)
    if labels is not None and labels.any():
        ax.contour(labels[::step, ::step] > 0, levels=[0.5], colors="red", linewidths=0.8)
    ax.set_axis_off()
    fig.tight_layout()
    return _png(fig)


def _thumbnails(t: Tables, n: int) -> str:
    worst = worst_files(t, n)
    if worst.empty:
        return "<p class='note'>No analysed files.</p>"
    figs = []
    for _, row in worst.iterrows():
        caption = f"<b>{html.escape(row['file'])}</b> ({html.escape(str(row['group']))}) {row.get('verdict') or ''}"
        why = html.escape(row.get("failed_rules") or "")
        try:
            with warnings.catch_warnings():  # the file's warnings were recorded by the batch already
                warnings.simplefilter("ignore")
                img = f"<img alt='{html.escape(row['file'])}' src='{_thumbnail(row, t)}'>"
        except (SurfscanError, OSError, MemoryError) as exc:  # a file moved or unreadable since the batch: say so, keep the report
            img = f"<p class='note'>cannot show this file now: {html.escape(str(exc))}</p>"
        figs.append(f"<figure>{img}<figcaption>{caption}<br>{why}</figcaption></figure>")
    return f"<div class='thumbs'>{''.join(figs)}</div>"


def _is_false(v: Any) -> bool:
    return isinstance(v, (bool, np.bool_)) and not bool(v)


def quality_flags(files: pd.DataFrame) -> pd.Series:
    """One text per file: ``"⚠ unreliable particles: <reasons>"``, ``"✎ labels: particles"`` or ``""``.

    Reads the ``*_quality_reliable``, ``*_quality_reasons`` and ``*_source``
    columns of the file table; a result without a quality block gives no flag.
    """
    texts = []
    for rec in files.to_dict("records"):
        parts, edited = [], []
        for prefix, analysis in _ANALYSIS_PREFIXES.items():
            if rec.get(f"{prefix}source") == "labels":
                edited.append(analysis)
            elif _is_false(rec.get(f"{prefix}quality_reliable")):
                reasons = rec.get(f"{prefix}quality_reasons")
                parts.append(f"{UNRELIABLE_MARK} {analysis}" + (f": {reasons}" if isinstance(reasons, str) and reasons
                                                                  else ""))
        if edited:
            parts.append("✎ labels: " + ", ".join(edited))
        texts.append("; ".join(parts))
    return pd.Series(texts, index=files.index, dtype=object)


def _quality_section(t: Tables) -> str:
    f = t.files
    flags = quality_flags(f)
    unreliable = flags.str.startswith(UNRELIABLE_MARK)
    bad = f[unreliable].assign(quality=flags[unreliable])
    edited = int(flags.str.contains("✎ labels").sum())
    note = (f"<p class='note'>{edited} file{'s' if edited != 1 else ''} measured from labels a person saved "
            "beside the image (&lt;image&gt;.labels.tif); they count as reliable.</p>" if edited else "")
    if bad.empty:
        return "<p class='note'>No automatic result was flagged unreliable.</p>" + note
    return (f"<p>{len(bad)} file{'s' if len(bad) != 1 else ''} with an automatic result its quality check calls "
            "unreliable: check them, or correct their labels in napari and save them beside the image.</p>"
            + _table(bad, ["file", "group", "quality"]) + note)


def _summary(t: Tables) -> str:
    f, g, run = t.files, t.groups, t.run
    counts = f["status"].value_counts().to_dict()
    items = [f"<li>{len(f)} files: {counts.get('ok', 0)} analysed, {counts.get('error', 0)} errors"
             + (f", {counts['not done']} not done (batch interrupted)" if counts.get("not done") else "") + "</li>"]
    flagged = int(quality_flags(f).str.startswith(UNRELIABLE_MARK).sum())
    if flagged:
        items.append(f"<li><span class='unreliable'>{UNRELIABLE_MARK}: {flagged} file{'s' if flagged != 1 else ''}"
                     "</span> (see Quality)</li>")
    if t.spec is not None:
        vc = g["verdict"].value_counts().to_dict()
        fv = f["verdict"].value_counts().to_dict()
        items.append(f"<li>spec <b>{html.escape(t.spec.name)}</b>: "
                     f"{'; '.join(html.escape(r.text) for r in t.spec.rules)}</li>")
        items.append(f"<li>groups: <span class='pass'>{vc.get('pass', 0)} pass</span>, "
                     f"<span class='fail'>{vc.get('fail', 0)} fail</span>; files: {fv.get('pass', 0)} pass, "
                     f"{fv.get('fail', 0)} fail</li>")
    cfg = run["config"]
    items.append(f"<li>folders: {html.escape(', '.join(cfg.get('folders', [])))}; grouped by "
                 f"{html.escape(str(cfg.get('group_by')))}; run started {html.escape(run['started_at'])}</li>")
    shown = {k: v for k, v in run["settings"].items() if k != "params"}
    items.append(f"<li>settings: {html.escape(', '.join(f'{k}={v}' for k, v in shown.items()))}</li>")
    items.append(_chain_item(f))
    return f"<ul>{''.join(items)}</ul>"


def _chain_item(files: pd.DataFrame, most: int = 5) -> str:
    """The roughness operator chains as applied (ISO 25178-3), each with its number of files."""
    if "chain" not in files or not files["chain"].notna().any():
        return ""
    counts = files["chain"].dropna().value_counts()
    lines = [f"{html.escape(str(c))} ({n} file{'s' if n != 1 else ''})" for c, n in counts.head(most).items()]
    if len(counts) > most:
        lines.append(f"... and {len(counts) - most} more (column chain of files.csv)")
    return f"<li>operator chain (outliers, fill, F, S, L): {'<br>'.join(lines)}</li>"


def _group_section(t: Tables) -> str:
    g = t.groups
    cols = ["group", "n_files", "n_ok", "n_errors"]
    for m in _key_metrics(t):
        if f"{m}_mean" in g and g[f"{m}_n"].fillna(0).astype(int).sum():
            cols += [f"{m}_mean", f"{m}_sd", f"{m}_n"]
    cols += ["files_pass", "files_fail", "verdict", "failed_rules"]
    units = {f"{m}_{s}": t.units.get(m, "") for m in t.metrics for s in ("mean", "sd")}
    note = "<p class='note'>Mean, sample standard deviation and n of every parameter: groups.csv.</p>"
    return _table(g, cols, units) + note


def write_report(folder: str | os.PathLike, path: str | os.PathLike | None = None, spec: Spec | None = None,
                 group_by: str | None = None, worst: int = 6) -> Path:
    """Write the HTML report of the batch results in ``folder``.

    Parameters
    ----------
    folder : path
        A batch output folder (holding the results database).
    path : path, optional
        The HTML file; default ``folder/report.html``.
    spec : Spec, optional
        Judge against this spec instead of the one the batch was run with.
    group_by : str, optional
        Group this way instead of the way the batch was run.
    worst : int
        How many of the worst files to show as thumbnails.

    Returns
    -------
    Path
        The report written.
    """
    with ResultStore(folder, create=False) as store:
        t = build_tables(store, spec, group_by)
    path = Path(path) if path is not None else Path(folder) / "report.html"
    f = t.files.assign(quality=quality_flags(t.files))
    file_cols = ["file", "group", "status", "verdict", "quality", *_key_metrics(t), "failed_rules", "error"]
    shown = f.head(_MAX_FILE_ROWS)
    more = (f"<p class='note'>First {_MAX_FILE_ROWS} of {len(f)} files; the full table is in files.csv.</p>"
            if len(f) > _MAX_FILE_ROWS else "")
    title = "surfscan batch report" + (f": {t.spec.name}" if t.spec else "")
    body = [f"<h1>{html.escape(title)}</h1>", _summary(t), "<h2>Groups</h2>", _group_section(t),
            "<h2>Per group</h2>", _box_plots(t), "<h2>Protrusion sizes</h2>", _size_histogram(t),
            f"<h2>Worst {worst} files</h2>", _thumbnails(t, worst), "<h2>Quality</h2>", _quality_section(t),
            "<h2>Curves</h2>", curves_section(t, _settings_from(t.run)),
            "<h2>Files</h2>", more,
            _table(shown, file_cols, t.units),
            f"<p class='note'>Written by surfscan on {html.escape(time.strftime('%Y-%m-%d %H:%M'))}.</p>"]
    doc = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
           f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(doc, encoding="utf-8")
    os.replace(tmp, path)
    return path
