"""End-to-end tests in a real browser (headless Chromium): ``make e2e``, or ``pytest -m e2e``."""

from __future__ import annotations


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "e2e: drives a real browser (headless Chromium); skipped without one")
