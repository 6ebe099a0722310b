"""The golden regression data: a few hundred draws of the base scenario, as this version computes them.

``tests/data/golden.npz`` holds, for the base scenario and seed 20251129:

* ``uniforms_<method>``: the uniforms of every uncertain parameter (mc, lhs, sobol; 96 draws),
  the raw numbers of the random streams;
* ``parameters_<method>``: the same draws' parameter values (after the inverse CDFs);
* ``shocks``: the per-step shocks of the first 96 draws (quarterly clock: a step a quarter);
* ``outputs``: every output of 32 Monte Carlo draws, every year.

tests/test_golden.py fails when any of them changes. When a change is meant (a new stream
layout, a model change), regenerate it on purpose and say so in the commit::

    make golden            # or: .venv/bin/python tests/golden.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import risk
from risk.glossary import OUTPUTS
from risk.sampling import parameter_uniforms, sample_parameters, sample_shocks

HERE = Path(__file__).resolve().parent
FILE = HERE / "data" / "golden.npz"
SCENARIO = HERE.parent / "scenarios" / "base.yaml"
SEED, DRAWS, OUTPUT_DRAWS = 20251129, 96, 32
METHODS = ("mc", "lhs", "sobol")


def golden_arrays() -> dict[str, np.ndarray]:
    """Every array of the golden file, computed by the code as it is."""
    sc = risk.load_scenario(SCENARIO)
    uncertain = [p for p, d in sc.parameters.items() if not d.is_fixed]
    arrays: dict[str, np.ndarray] = {"uncertain": np.array(uncertain)}
    for method in METHODS:
        arrays[f"uniforms_{method}"] = parameter_uniforms(method, SEED, DRAWS, uncertain, threads=False)
        params = sample_parameters(sc.parameters, DRAWS, SEED, method, threads=False)
        arrays[f"parameters_{method}"] = np.stack([params[p] for p in uncertain], axis=1)
    arrays["shocks"] = sample_shocks(SEED, sc.steps, 0, DRAWS)
    ds = risk.simulate(sc, draws=OUTPUT_DRAWS, seed=SEED, sampling="mc", dtype="float64")
    arrays["outputs"] = np.stack([ds[name].values for name in OUTPUTS])
    arrays["output_names"] = np.array(list(OUTPUTS))
    return arrays


def main() -> None:
    import warnings

    warnings.simplefilter("ignore")  # sobol at 128 draws is balanced; nothing else warns
    FILE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(FILE, **golden_arrays())
    print(f"wrote {FILE} ({FILE.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
