"""Fixtures for the assistance-content tests (FAQ, agencies, contact)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from assistance_helpers import FAQ_DIR


@pytest.fixture
def faq_copy(tmp_path) -> Path:
    """A private copy of the real faq/ folder (YAML files only)."""
    target = tmp_path / "faq"
    target.mkdir()
    for path in FAQ_DIR.glob("*.yml"):
        shutil.copyfile(path, target / path.name)
    return target


@pytest.fixture
def write_faq(tmp_path):
    """write_faq("name.yml", yaml_text) → path, in a fresh tmp faq folder."""
    folder = tmp_path / "faqtmp"
    folder.mkdir()

    def _write(name: str, text: str) -> Path:
        path = folder / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    _write.folder = folder
    return _write
