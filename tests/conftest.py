"""Shared fixtures: the base scenario, its data, and scenario variants."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

import risk
from risk.data import anchor_data, base_data
from risk.progress import Sink
from risk.scenario import read_yaml, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
BASE_FILE = SCENARIOS / "base.yaml"
ANNUAL_FILE = ROOT / "tests" / "data" / "base_annual.yaml"


@pytest.fixture(scope="session")
def base_scenario():
    """The base scenario on the annual clock (v1's structure: a step a year from the base year),
    with the parameters it was calibrated with (tests/data/base_annual.yaml)."""
    return risk.load_scenario(ANNUAL_FILE)


@pytest.fixture(scope="session")
def base_doc():
    """:func:`base_scenario` as a document, its data folder relative to scenarios/ (:func:`variant`)."""
    return {**read_yaml(ANNUAL_FILE)[0], "data": "data"}


@pytest.fixture(scope="session")
def base():
    return base_data(SCENARIOS / "data", 2025)


@pytest.fixture(scope="session")
def quarterly_scenario():
    """base.yaml as it is: the quarterly clock, anchored at the latest reported quarter."""
    return risk.load_scenario(BASE_FILE)


@pytest.fixture(scope="session")
def anchor():
    """The state at the latest reported quarter (q*), base year 2025."""
    return anchor_data(SCENARIOS / "data", 2025)


def set_path(doc: dict, path: str, value) -> dict:
    """A copy of ``doc`` with the entry at dotted ``path`` replaced by ``value``."""
    doc = copy.deepcopy(doc)
    node = doc
    *heads, leaf = path.split(".")
    for h in heads:
        node = node[h]
    node[leaf] = value
    return doc


def fixed(value, source="test", note="test") -> dict:
    return {"dist": "fixed", "value": value, "source": source, "note": note}


def variant(doc: dict, **changes) -> risk.Scenario:
    """Validated scenario from ``doc`` with parameters (dotted path, '__' for '.') replaced."""
    for key, value in changes.items():
        doc = set_path(doc, key.replace("__", "."), value)
    return scenario_from_dict(doc, source="<variant>", base_dir=SCENARIOS)


class Recorder(Sink):
    """A sink that keeps every call: ("phase", name, unit) and ("count", done, total)."""

    def __init__(self):
        self.events = []

    def phase(self, name, unit="draws"):
        self.events.append(("phase", name, unit))

    def __call__(self, done, total):
        self.events.append(("count", done, total))

    def phases(self):
        return [e[1] for e in self.events if e[0] == "phase"]

    def counts(self):
        return [(e[1], e[2]) for e in self.events if e[0] == "count"]
