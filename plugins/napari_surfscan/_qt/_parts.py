"""Small widgets the docks are built from: buttons, a progress bar, labels, spin boxes, a settings form."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from qtpy.QtCore import QEvent, QSize
from qtpy.QtGui import QFont
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QStyle,
    QVBoxLayout,
    QWidget,
)
from superqt import QCollapsible

__all__ = ["button", "button_row", "progress_bar", "status_label", "big_label", "spin_box", "combo", "stack",
           "form_rows", "VerticalScroll", "SettingsForm"]


def button(text: str, slot: Callable[..., Any] | None = None, tip: str = "", enabled: bool = True) -> QPushButton:
    """A push button calling ``slot`` when clicked."""
    b = QPushButton(text)
    if slot is not None:
        b.clicked.connect(slot)
    if tip:
        b.setToolTip(tip)
    b.setEnabled(enabled)
    return b


def button_row(*items: QWidget, margins: bool = True) -> QHBoxLayout:
    """The widgets side by side."""
    row = QHBoxLayout()
    if not margins:
        row.setContentsMargins(0, 0, 0, 0)
    for w in items:
        row.addWidget(w)
    return row


def progress_bar(total: int) -> QProgressBar:
    """A progress bar of ``total`` steps without text (the status label says what runs)."""
    bar = QProgressBar()
    bar.setRange(0, total)
    bar.setTextVisible(False)
    return bar


def status_label(text: str) -> QLabel:
    """A word-wrapped label for what the widget is doing or found."""
    label = QLabel(text)
    label.setWordWrap(True)
    return label


def big_label(text: str = "–") -> QLabel:
    """A bold label 1.4 times the normal size, for the headline result (a count, a porosity)."""
    label = QLabel(text)
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * 1.4)
    font.setBold(True)
    label.setFont(font)
    return label


def spin_box(minimum: float, maximum: float, decimals: int, tip: str, value: float | None = None,
             suffix: str = "", special: str = "", min_width: int = 0) -> QDoubleSpinBox:
    """A spin box for a number; ``special`` is shown instead of the minimum ("off", "auto")."""
    box = QDoubleSpinBox()
    box.setRange(minimum, maximum)
    box.setDecimals(decimals)
    if suffix:
        box.setSuffix(f" {suffix}")
    if special:
        box.setSpecialValueText(special)
    if value is not None:
        box.setValue(value)
    box.setToolTip(tip)
    if min_width:
        box.setMinimumWidth(min_width)  # the range's widest number would set the dock's width otherwise
    return box


def combo(items: Iterable[str], tip: str = "", editable: bool = False) -> QComboBox:
    """A combo box of ``items``."""
    box = QComboBox()
    box.addItems(list(items))
    box.setEditable(editable)
    if tip:
        box.setToolTip(tip)
    return box


def stack(layout: QVBoxLayout, *items: QWidget | QLayout, stretch: QWidget | None = None) -> QVBoxLayout:
    """Add widgets and layouts one under the other; ``stretch`` gets the spare height."""
    for item in items:
        if isinstance(item, QLayout):
            layout.addLayout(item)
        else:
            layout.addWidget(item, stretch=1 if item is stretch else 0)
    return layout


def form_rows(rows: Iterable[tuple[str, QWidget | QLayout]], wrap: bool = False) -> QFormLayout:
    """A form of ``(label, field)`` rows; ``wrap`` puts a field under its label when the dock is narrow."""
    form = QFormLayout()
    if wrap:
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    for label, field in rows:
        form.addRow(label, field)
    return form


class VerticalScroll(QScrollArea):
    """A frameless scroll area that asks for the width its content needs (it scrolls sideways only when the dock is narrower).

    napari docks do not scroll: inside one, a short window keeps every field usable.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)

    def setWidget(self, widget: QWidget) -> None:  # noqa: N802 - Qt name
        super().setWidget(widget)
        widget.installEventFilter(self)

    def eventFilter(self, obj: Any, event: QEvent) -> bool:  # noqa: N802 - Qt name
        if obj is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # the content's minimum width changed (styles, fonts): tell the dock
        return super().eventFilter(obj, event)

    def _width(self, hint: QSize, preferred: bool) -> QSize:
        inner = self.widget()
        if inner is not None:
            inner.ensurePolished()  # napari's stylesheet (fonts, paddings) sets the real width
            content = inner.sizeHint() if preferred else inner.minimumSizeHint()
            bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)
            hint.setWidth(content.width() + bar + 2 * self.frameWidth() + 4)
        return hint

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return self._width(super().minimumSizeHint(), preferred=False)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt name
        return self._width(super().sizeHint(), preferred=True)


def _field_widget(field: Any, default: Any) -> QWidget:
    """The editor of one setting field (``kind`` "choice", "bool" or a number)."""
    if field.kind == "choice":
        w: QWidget = combo(field.choices)
        w.setCurrentText(str(default))
    elif field.kind == "bool":
        w = QCheckBox()
        w.setChecked(bool(default))
    else:
        w = spin_box(field.minimum, field.maximum, field.decimals, "", float(default), suffix=field.unit or "",
                     special=field.zero_text or "")
    w.setToolTip(field.tip)
    return w


class SettingsForm(QWidget):
    """The form of an analysis's setting fields: the main ones shown, the others under "More settings".

    Parameters
    ----------
    fields : sequence
        Field descriptions with ``name``, ``label``, ``kind``, ``tip`` (and
        ``choices`` or ``minimum``, ``maximum``, ``decimals``, ``unit``,
        ``zero_text``), as the plugin's ``SETTING_FIELDS``.
    defaults : dict
        Field name -> the value shown first.
    main : sequence of str
        Fields shown without opening "More settings".
    first : tuple of (str, QWidget), optional
        A row put above the fields (the layer chooser).
    """

    def __init__(self, fields: Sequence[Any], defaults: dict[str, Any], main: Sequence[str],
                 first: tuple[str, QWidget] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form, more_form = form_rows([first] if first is not None else []), QFormLayout()
        self.more = QCollapsible("More settings")
        more_box = QWidget()
        more_box.setLayout(more_form)
        self.more.addWidget(more_box)
        self.fields: dict[str, QWidget] = {}
        for f in fields:
            self.fields[f.name] = _field_widget(f, defaults[f.name])
            (form if f.name in main else more_form).addRow(f.label, self.fields[f.name])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        stack(layout, form, self.more)

    def values(self) -> dict[str, Any]:
        """Field name -> the value shown (text, bool or number)."""
        out: dict[str, Any] = {}
        for name, w in self.fields.items():
            if isinstance(w, QComboBox):
                out[name] = w.currentText()
            elif isinstance(w, QCheckBox):
                out[name] = w.isChecked()
            else:
                out[name] = w.value()
        return out

    def set_value(self, name: str, value: Any) -> None:
        """Show ``value`` in field ``name``."""
        w = self.fields[name]
        if isinstance(w, QComboBox):
            w.setCurrentText(str(value))
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        else:
            w.setValue(float(value))
