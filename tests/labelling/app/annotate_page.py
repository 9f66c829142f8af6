"""The ``browser`` fixture of the labelling app's browser tests; the driver is ``benchmarks.browser``
(beside tools/)."""

import pytest

from benchmarks.browser import launch_browser

from conftest import require_browser


@pytest.fixture(scope="module")
def browser():
    """A headless Debian chromium, shared by a test module's tests."""
    require_browser()
    with launch_browser() as browser:
        yield browser
