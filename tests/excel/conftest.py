"""Fixtures for the Excel adapters: real workbooks, built once per session."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from excel_helpers import AS_OF, small_frames
from payorxl import pipeline


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """Workbooks built once: the small practice (.xlsm) and the demo practice (.xlsm,
    about 4,500 claim lines; building it takes a while)."""
    folder = tmp_path_factory.mktemp("built")
    cache = {}

    def get(name: str) -> Path:
        if name not in cache:
            path = folder / f"{name}.xlsm"
            if name == "small":
                pipeline.new_workbook(path, small_frames(), {"practice_name": "Small Practice", "as_of": AS_OF.date()})
            elif name == "demo":
                from payorxl.demo import generate_demo
                d = generate_demo()
                pipeline.new_workbook(path, d.frames(), d.settings)
            else:
                raise KeyError(name)
            cache[name] = path
        return cache[name]
    return get


@pytest.fixture
def copy_of(built, tmp_path):
    """A fresh copy of a built workbook, to press buttons on."""
    def make(name: str, as_name: str | None = None) -> Path:
        target = tmp_path / (as_name or f"{name}.xlsm")
        shutil.copyfile(built(name), target)
        return target
    return make
