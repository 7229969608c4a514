"""The installed PySide6 keeps Python's reference counts intact when signals are emitted.

PySide6 6.12.0 drops one reference to `True` per `Signal.emit()`; on Python 3.11 (where `True` is not
immortal) the app then aborts after some thousand emits, e.g. while scrolling through thumbnails.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QObject, QStringListModel, Signal

pytestmark = pytest.mark.gui


class _Emitter(QObject):
    changed = Signal(int)


def test_emitting_signals_leaves_reference_counts_alone(qapp):
    emitter, model = _Emitter(), QStringListModel(["a"])
    index = model.index(0)
    emitter.changed.connect(lambda _value: None)
    before = sys.getrefcount(True), sys.getrefcount(False)
    for n in range(200):
        emitter.changed.emit(n)
        model.dataChanged.emit(index, index)
    assert (sys.getrefcount(True), sys.getrefcount(False)) == before
