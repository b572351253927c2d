"""The Roughness widget's plots: a profile along a drawn line, the Abbott-Firestone curve, the PSD."""

from __future__ import annotations

from typing import Any

from qtpy.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from surfscan import SurfscanError
from surfscan.curves_plot import _abbott, _psd

from .._line_profile import LineProfile, line_profile
from .._roughness import RoughnessResult, pretty_unit
from .._surface_curves import SurfaceCurves
from ._common import FrameModel, fit_columns, make_table_view
from ._plots import PlotCanvas

__all__ = ["ProfilePanel", "draw_curves"]


def draw_curves(abbott: PlotCanvas, spectrum: PlotCanvas, curves: SurfaceCurves) -> None:
    """Draw the Abbott-Firestone curve (with its Sk construction) and the log-log PSD, as ``surfscan curves`` does."""
    ax = abbott.axes()
    _abbott(ax, curves.abbott)
    ax.set_title(ax.get_title().replace(", Smr1", "\nSmr1"), fontsize=7)  # two lines fit a dock
    abbott.draw(ax)
    ax = spectrum.axes()
    _psd(ax, curves.spectrum)
    if curves.psd_filled:
        ax.set_title(f"{curves.psd_filled} non-measured points filled (thin plate) for the PSD", fontsize=8)
    spectrum.draw(ax)


class ProfilePanel(QWidget):
    """Draw a line on the levelled surface; see its profile and ISO 21920-2 parameters.

    "Draw profile line" adds (or reuses) a Shapes layer in line mode over the
    levelled layer, with the same scale and translation, so its vertices are
    the map's ``(row, column)`` pixel coordinates. The last line drawn is
    profiled whenever the layer's shapes change.
    """

    def __init__(self, viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer = viewer
        self.result: RoughnessResult | None = None
        self.source = ""
        self.line: LineProfile | None = None
        self.shapes = None
        self.button = QPushButton("Draw profile line")
        self.button.setToolTip("Add a Shapes layer in line mode: drag a line on the levelled surface")
        self.button.clicked.connect(self.start)
        self.button.setEnabled(False)
        self.note = QLabel("Measure first, then draw a line.")
        self.note.setWordWrap(True)
        self.plot = PlotCanvas(180)
        self.model = FrameModel(formats={"value": ".5g"})
        self.table = make_table_view(self.model)
        layout = QVBoxLayout(self)
        layout.addWidget(self.button)
        layout.addWidget(self.note)
        layout.addWidget(self.plot)
        layout.addWidget(self.table, stretch=1)

    def set_result(self, result: RoughnessResult, source: str) -> None:
        """A new levelled surface: enable drawing and re-profile a line already drawn."""
        self.result, self.source = result, source
        self.button.setEnabled(True)
        if self.shapes is not None and self.shapes in self.viewer.layers:
            self.update_profile()

    def start(self) -> Any:
        """Add (or select) the profile Shapes layer in line mode; returns it."""
        if self.result is None:
            return None
        if self.shapes is None or self.shapes not in self.viewer.layers:
            name = f"{self.source} levelled"
            ref = self.viewer.layers[name] if name in self.viewer.layers else None
            self.shapes = self.viewer.add_shapes(
                name=f"{self.source} profile",
                ndim=2,
                scale=tuple(ref.scale) if ref is not None else (self.result.prepared.dy, self.result.prepared.dx),
                translate=tuple(ref.translate) if ref is not None else (0.0, 0.0),
                edge_color="yellow",
                edge_width=2,
                metadata={"surfscan_role": "profile", "surfscan_source": self.source},
            )
            self.shapes.events.data.connect(self._on_data)
        self.viewer.layers.selection.active = self.shapes
        self.shapes.mode = "add_line"
        self.note.setText("Drag a line on the levelled surface.")
        return self.shapes

    def _on_data(self, event: Any = None) -> None:
        action = str(getattr(event, "action", ""))
        if action.endswith("ing"):  # "adding", "changing", "removing": the data is not there yet
            return
        self.update_profile()

    def update_profile(self) -> LineProfile | None:
        """Profile the last line of the Shapes layer; returns it (None when there is no line)."""
        lines = [d for d, kind in zip(self.shapes.data, self.shapes.shape_type, strict=True)
                 if kind in ("line", "path")]
        if self.result is None or not lines:
            return None
        try:
            self.line = line_profile(self.result.prepared, lines[-1], self.result.settings.lambda_c_um is not None)
        except SurfscanError as exc:  # in words: line shorter than a pixel, outside the map, too short to measure
            self.note.setText(f"No profile: {exc}")
            return None
        p = self.line
        ax = self.plot.axes()
        ax.plot(p.distance_um, p.profile.z, color="k", lw=0.8)
        ax.set_xlabel("distance along the line [µm]")
        ax.set_ylabel("height [µm]")
        self.plot.draw(ax)
        self.model.set_frame(p.table.assign(unit=p.table["unit"].map(pretty_unit)))
        fit_columns(self.table)
        self.note.setText(f"{p.profile.z.size} points, {p.distance_um[-1]:.4g} µm, "
                          f"spacing {p.profile.spacing:.4g} µm; {p.filter_note}")
        return p
