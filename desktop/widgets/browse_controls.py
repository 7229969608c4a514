"""The row above the grid: the browse order, a date range (taken or modified) that restricts browsing
and searching alike, and the thumbnail size (remembered with the window's state)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, time

from PySide6.QtCore import QDate, QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QMenu,
    QSizePolicy,
    QSlider,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from desktop.widgets.grid_model import ICON_SIZE
from store.storage.filters import SearchFilter

SIZES = (96, 256, 16)  # smallest, largest thumbnail and the slider's step, in pixels
SIZE_KEY = "grid/thumbnail-size"
FIRST_DAY = QDate(1900, 1, 1)


class BrowseControls(QWidget):
    """`changed`: the order or the date range changed; `thumbnail_size_changed(px)`."""

    changed = Signal()
    thumbnail_size_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.order_box = QComboBox()
        orders = ((self.tr("Folder"), "path"), (self.tr("Name"), "name"), (self.tr("Date taken"), "taken"),
                  (self.tr("Date modified"), "modified"))  # fmt: skip
        for text, order in orders:
            self.order_box.addItem(text, order)
        self.order_box.setToolTip(self.tr("Sort the browsed items (newest first by date)"))
        self.order_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.dates = QCheckBox(self.tr("Only images from these days"))
        self.date_kind = QComboBox()
        self.date_kind.addItem(self.tr("modified"), "file")  # as the command line's --date
        self.date_kind.addItem(self.tr("taken"), "taken")
        self.since, self.until = QDateEdit(FIRST_DAY), QDateEdit(QDate.currentDate())
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.dateChanged.connect(self._range_edited)
        self.date_kind.currentIndexChanged.connect(self._range_edited)
        self.dates.toggled.connect(self._dates_toggled)
        self.order_box.currentIndexChanged.connect(self.changed)
        self.dates_button = QToolButton(popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        self.dates_button.setToolTip(
            self.tr("Show only images from these days, in browsing and in search results")
        )
        self.dates_button.setMenu(self._dates_menu())
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(SIZES[0], SIZES[1])
        self.size_slider.setSingleStep(SIZES[2])
        self.size_slider.setPageStep(SIZES[2] * 2)
        self.size_slider.setValue(ICON_SIZE)
        self.size_slider.setTracking(False)  # thumbnails are read again at the new size once, on release
        self.size_slider.setMaximumWidth(120)
        self.size_slider.setToolTip(self.tr("Thumbnail size"))
        self.size_slider.valueChanged.connect(self.thumbnail_size_changed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.order_box, self.dates_button):
            layout.addWidget(widget)
        layout.addStretch(1)
        layout.addWidget(self.size_slider)
        # A narrow grid pane clips the row rather than widening the window past a small screen.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._dates_toggled(False)

    def _dates_menu(self) -> QMenu:
        form = QWidget()
        rows = QFormLayout(form)
        rows.addRow(self.dates)
        rows.addRow(self.tr("Date"), self.date_kind)
        rows.addRow(self.tr("From"), self.since)
        rows.addRow(self.tr("To"), self.until)
        menu = QMenu(self)
        action = QWidgetAction(menu)
        action.setDefaultWidget(form)
        menu.addAction(action)
        return menu

    @property
    def order(self) -> str:
        """The browse order (store.services.browse.BROWSE_ORDERS)."""
        return self.order_box.currentData()

    def set_browsing(self, browsing: bool) -> None:
        """The order applies to browsing only; search results come best first."""
        self.order_box.setEnabled(browsing)

    def restrict(self, filters: SearchFilter) -> SearchFilter:
        """`filters` with the date range, when one is chosen."""
        if not self.dates.isChecked():
            return filters
        since = datetime.combine(self.since.date().toPython(), time.min).timestamp()
        until = datetime.combine(self.until.date().toPython(), time.max).timestamp()
        return dataclasses.replace(filters, since=since, until=until, date=self.date_kind.currentData())

    def restriction_note(self) -> str:
        """The date range in the grid's heading ("" when none is chosen)."""
        if not self.dates.isChecked():
            return ""
        since, until = (edit.date().toString("yyyy-MM-dd") for edit in (self.since, self.until))
        if self.date_kind.currentData() == "taken":
            return self.tr("; taken {since} – {until}").format(since=since, until=until)
        return self.tr("; modified {since} – {until}").format(since=since, until=until)

    def remember_in(self, state: QSettings) -> None:
        """Take the thumbnail size kept in `state` (the window's), and keep it there when it changes."""
        size = state.value(SIZE_KEY, ICON_SIZE, type=int)
        self.size_slider.setValue(min(max(size, SIZES[0]), SIZES[1]))
        self.size_slider.valueChanged.connect(lambda value: state.setValue(SIZE_KEY, value))

    def _dates_toggled(self, on: bool) -> None:
        for widget in (self.date_kind, self.since, self.until):
            widget.setEnabled(on)
        self._range_edited()
        self.changed.emit()

    def _range_edited(self) -> None:
        if self.since.date() > self.until.date():  # an empty range: the other end follows
            edit = self.until if self.sender() is self.since else self.since
            edit.setDate(self.sender().date())  # its dateChanged runs this again: one reload, not two
            return
        on = self.dates.isChecked()
        since, until = (edit.date().toString("yyyy-MM-dd") for edit in (self.since, self.until))
        self.dates_button.setText(f"{since} – {until}" if on else self.tr("Any date"))
        if on and self.sender() is not self.dates:
            self.changed.emit()
