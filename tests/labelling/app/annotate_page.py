"""The ``browser`` fixture of the labelling app's browser tests.

The driver is ``slowfast_custom.benchmarks.browser``.
"""

import pytest

from slowfast_custom.benchmarks.browser import launch_browser

from conftest import require_browser


@pytest.fixture(scope="module")
def browser():
    """A headless Debian chromium, shared by a test module's tests."""
    require_browser()
    with launch_browser() as browser:
        yield browser
