"""The real stack on loopback: action server, Rasa server (trained model) and the webhook in
development mode, on a fresh migrated SQLite database with the demo data.

`./mobilis test` sets MOBILIS_RASA_BIN and MOBILIS_MODEL and MOBILIS_REQUIRE_E2E=1, so there these
tests can never be skipped; a developer running pytest alone without a model gets a skip instead.
"""

from __future__ import annotations

import shutil

import pytest
from e2e_helpers import require, running_stack


@pytest.fixture(scope="session")
def embedded_stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("e2e"), backoffice=True) as client:
        yield client


@pytest.fixture(scope="session")
def tmf_stack(tmp_path_factory):
    """The same stack talking TM Forum to the local operator stub (OPERATOR_BACKEND=tmf)."""
    with running_stack(tmp_path_factory.mktemp("e2e-tmf"), operator="tmf") as client:
        yield client


@pytest.fixture
def stack(embedded_stack):
    return embedded_stack


@pytest.fixture(scope="session")
def chromium_path():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    require(path is not None, "Debian's chromium is not installed (./mobilis test installs it)")
    return path
