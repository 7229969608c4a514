"""No test can hang the suite: pytest-timeout is active with a per-test limit from pyproject.toml."""

from __future__ import annotations

import pytest


def test_every_test_has_a_time_limit(pytestconfig, request):
    assert pytestconfig.pluginmanager.hasplugin("timeout"), "pytest-timeout (the [dev] extra) is missing"
    assert float(pytestconfig.getini("timeout")) == 300
    assert request.node.get_closest_marker("timeout") is None  # plain tests get the ini limit


@pytest.mark.export
def test_export_tests_get_a_longer_limit(request):
    assert request.node.get_closest_marker("timeout").args == (900,)
