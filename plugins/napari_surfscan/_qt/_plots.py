"""A matplotlib canvas for a dock widget (Qt Agg backend, no pyplot state)."""

from __future__ import annotations

from typing import Any

from qtpy.QtWidgets import QVBoxLayout, QWidget

__all__ = ["PlotCanvas"]


class PlotCanvas(QWidget):
    """One matplotlib figure in a widget; ``axes()`` starts a new drawing, ``draw()`` shows it."""

    def __init__(self, height: int = 220, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(4, 2.4), layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(height)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)

    def axes(self) -> Any:
        """Clear the figure and return one new axes."""
        self.figure.clear()
        return self.figure.add_subplot()

    def draw(self, ax: Any) -> None:
        """Small fonts for a dock, a light grid, then redraw."""
        ax.grid(True, which="both", lw=0.3, alpha=0.5)
        ax.tick_params(labelsize=7)
        ax.xaxis.label.set_fontsize(8)
        ax.yaxis.label.set_fontsize(8)
        self.canvas.draw_idle()

    def has_data(self) -> bool:
        """True when the figure shows at least one line with points."""
        return any(len(line.get_xdata()) > 0 for ax in self.figure.axes for line in ax.get_lines())
