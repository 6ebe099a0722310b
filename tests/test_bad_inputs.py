"""Bad input, generated from the real scenario files: every mutation is refused cleanly (a
ScenarioError or DataError naming the file), or accepted as a valid scenario whose run is finite.
Never a traceback, a NaN or infinite output, or a hang.

Mutations of base.yaml and of a library scenario that extends it: each parameter deleted, its key misspelt,
its distribution replaced by a wrong type (text, true, a list, null, a number), each of its
numbers made NaN, infinite, huge, negative, text or true, its bounds swapped; each run setting
made impossible. ``python -m pytest tests/test_bad_inputs.py -s`` prints the counts.
"""

from __future__ import annotations

import copy
import math
import signal
import warnings
from collections import Counter

import numpy as np
import pytest
import yaml

import risk
from risk.errors import DataError, ScenarioError

from conftest import SCENARIOS
from test_errors import DELETE
from test_errors import edit as _set

SETTINGS = {
    "draws": [0, -1, 10**20, "many", 2.5, True],
    "horizon": [0, 100, -3, "seven"],
    "seed": [-1, 2**64, "x", 1.5],
    "sampling": ["halton", 3, None],
    "base_year": [1800, "2025x"],
    "name": [None, "", ["a"]],
}
NUMBER_MUTATIONS = [math.nan, math.inf, -math.inf, 1e308, -1e308, -1.0, "0.5x", True, None, [1, 2]]
DISTRIBUTION_MUTATIONS = ["pert", True, [0.1, 0.2], None, 0.5, {"dist": "pert"}, {"dist": "nope", "source": "s", "note": "n"}]


def _params(doc, prefix=""):
    """(dotted path, node) of every distribution mapping in a scenario document."""
    for key, value in doc.items():
        if isinstance(value, dict):
            if "dist" in value:
                yield prefix + key, value
            else:
                yield from _params(value, prefix + key + ".")


def _rename(doc, path, new_leaf):
    doc = copy.deepcopy(doc)
    node = doc
    *heads, leaf = path.split(".")
    for h in heads:
        node = node[h]
    node[new_leaf] = node.pop(leaf)
    return doc




def cases():
    """(name, document) of every mutation of every scenario file that defines parameters."""
    out = []
    files = [SCENARIOS / "base.yaml", SCENARIOS / "asic_insurgency.yaml"]
    for file in files:
        doc = yaml.safe_load(file.read_text())
        tag = file.stem
        for key, values in SETTINGS.items():
            for v in values:
                out.append((f"{tag}: {key}={v!r}", file, _set(doc, key, v)))
        for path, node in _params(doc):
            out.append((f"{tag}: {path} deleted", file, _set(doc, path, DELETE)))
            leaf = path.split(".")[-1]
            if len(leaf) > 3:
                out.append((f"{tag}: {path} misspelt", file, _rename(doc, path, leaf[1] + leaf[0] + leaf[2:])))
            for v in DISTRIBUTION_MUTATIONS:
                out.append((f"{tag}: {path} = {v!r}", file, _set(doc, path, v)))
            for field, value in node.items():
                if field in ("dist", "source", "note"):
                    continue
                for v in NUMBER_MUTATIONS:
                    mutated = copy.deepcopy(value)
                    if isinstance(value, list):
                        mutated[0] = v
                    else:
                        mutated = v
                    out.append((f"{tag}: {path}.{field} = {mutated!r}", file, _set(doc, f"{path}.{field}", mutated)))
                if isinstance(value, list) and len(value) == 2:
                    out.append((f"{tag}: {path}.{field} reversed", file, _set(doc, f"{path}.{field}", value[::-1])))
            if "min" in node and "max" in node:
                swapped = {**node, "min": node["max"], "max": node["min"]}
                out.append((f"{tag}: {path} min/max swapped", file, _set(doc, path, swapped)))
    return out


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang()


def classify(file, doc, tmp_path) -> str:
    path = tmp_path / file.name
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(20)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scenario = risk.load_scenario(path)
            ds = risk.simulate(scenario, draws=64, seed=1, sampling="mc")
    except (ScenarioError, DataError) as e:
        return "refused" if str(path) in str(e) else "refused without naming the file"
    except _Hang:
        return "hang"
    except Exception as e:  # noqa: BLE001
        return f"traceback: {type(e).__name__}: {str(e)[:120]}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    values = np.concatenate([ds[v].values.ravel() for v in ds.data_vars if ds[v].dtype.kind == "f"])
    return "accepted, finite" if np.isfinite(values).all() else "accepted with NaN or inf"


@pytest.mark.slow
def test_every_mutation_is_refused_cleanly_or_runs_finite(tmp_path):
    (tmp_path / "data").symlink_to(SCENARIOS / "data")
    for f in SCENARIOS.glob("*.yaml"):  # the files the library scenarios extend
        (tmp_path / f.name).write_text(f.read_text())
    outcomes, bad = Counter(), []
    for name, file, doc in cases():
        outcome = classify(file, doc, tmp_path)
        (tmp_path / file.name).write_text(file.read_text())  # restore for the next case
        outcomes[outcome.split(":")[0]] += 1
        if outcome not in ("refused", "accepted, finite"):
            bad.append(f"{name}: {outcome}")
    print(f"\n{sum(outcomes.values())} bad-input cases: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    assert not bad, "\n".join(bad[:30])
