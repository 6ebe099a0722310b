"""The random streams of a run: one table of keys, by name.

Every random number of a run comes from a numpy Generator (PCG64) seeded by
``SeedSequence(seed, spawn_key=key)``, never by seed arithmetic. The key of each stream is
built here from the stream's number in :data:`PARAMETER_STREAMS` or :data:`SHOCK_STREAMS`,
looked up by the parameter's path or the shock's name, never by a position in the glossary:
adding, removing or reordering parameters changes no other parameter's numbers in ``mc`` and
``lhs`` runs. (A ``sobol`` run's sequence has a dimension a stream number, and scrambling
draws for every dimension: a new stream number gives every parameter a new, equally good,
Sobol sequence.)

A new parameter or shock takes the next unused number; a removed one keeps its number out of
use (a number is never given to another name). tests/test_streams.py holds the table to
that, and tests/data/golden.npz to the numbers themselves.

Keys (b: the block of :data:`BLOCK` draws):

* ``mc`` parameters: one generator a block, key ``(0, 10_001, b)``; the uniforms of stream
  number k are its outputs ``k * BLOCK`` to ``(k + 1) * BLOCK``;
* ``lhs`` parameters: one Latin hypercube column a stream, key ``(0, k)``;
* ``sobol`` parameters: dimension k of one scrambled Sobol sequence over :data:`N_PARAMETER_STREAMS`
  dimensions, key ``(0,)``;
* the t copula's chi-square variable: key ``(0, 10_000, b)``;
* shocks: key ``(1 + k, b)``, filled year by year.
"""

from __future__ import annotations

from .glossary import PARAMETERS

__all__ = ["BLOCK", "PARAMETER_STREAMS", "SHOCK_STREAMS", "N_PARAMETER_STREAMS", "PARAMETER_ROWS", "parameter_stream", "mc_key", "lhs_key",
           "sobol_key", "chi2_key", "shock_key"]

#: Draws per block of a blocked stream (Monte Carlo parameter uniforms, shocks, the t
#: copula's chi-square). A run's chunks are whole blocks where they can be, so that each
#: block is drawn once, in place.
BLOCK = 16384

#: Stream number of each parameter, by dotted path. Append only.
PARAMETER_STREAMS: dict[str, int] = {
    "capex.growth_first": 0,
    "capex.growth_long": 1,
    "capex.fade_years": 2,
    "capex.volatility": 3,
    "capex.power_cap": 4,
    "capex.max_cut": 5,
    "capex.intensity_drift": 6,
    "digestion.cut": 7,
    "digestion.enter": 8,
    "digestion.stay": 9,
    "digestion.overbuild_sensitivity": 10,
    "digestion.utilization_threshold": 11,
    "asic_adoption.inference.start": 12,
    "asic_adoption.inference.ceiling": 13,
    "asic_adoption.inference.midpoint": 14,
    "asic_adoption.inference.steepness": 15,
    "asic_adoption.training.start": 16,
    "asic_adoption.training.ceiling": 17,
    "asic_adoption.training.midpoint": 18,
    "asic_adoption.training.steepness": 19,
    "pricing.elasticity": 20,
    "pricing.moat_start": 21,
    "pricing.moat_decay": 22,
    "pricing.cost_drift": 23,
    "pricing.cost_volatility": 24,
    "pricing.pass_through": 25,
    "compute.asic_cost_advantage": 26,
    "compute.hardware_progress": 27,
    "compute.accelerator_life": 28,
    "compute.base_utilization": 29,
    "demand.inference_share_start": 30,
    "demand.inference_growth_first": 31,
    "demand.inference_growth_long": 32,
    "demand.training_growth_first": 33,
    "demand.training_growth_long": 34,
    "demand.fade_years": 35,
    "demand.volatility": 36,
    "nvidia.gpu_share_horizon": 37,
    "nvidia.opex_growth": 38,
    "nvidia.other_growth": 39,
    "aws.capex_share": 40,
    "aws.ai_capex_share": 41,
    "aws.inhouse_start": 42,
    "aws.inhouse_speed": 43,
    "aws.inhouse_max": 44,
    "aws.server_life": 45,
    "aws.other_life": 46,
    "aws.ai_revenue_start": 47,
    "aws.rental_decline": 48,
    "aws.core_growth": 49,
    "aws.ai_cash_cost": 50,
    "aws.external.enabled": 51,
    "aws.external.start_year": 52,
    "aws.external.ramp_years": 53,
    "aws.external.mature_revenue": 54,
    "aws.external.margin": 55,
    "pricing.scarcity": 56,
    "nvidia.charge_probability": 57,
    "nvidia.charge_size": 58,
    "aws.amazon_capex_share_change": 59,
    "aws.amazon_capex_share_drift": 60,
    "aws.cost_efficiency": 61,
    "aws.cost_floor": 62,
    "noise.revenue": 63,
    "noise.margin": 64,
    "noise.capex": 65,
}

#: Stream number of each per-year shock, by name. Append only.
SHOCK_STREAMS: dict[str, int] = {
    "capex": 0,
    "digestion": 1,
    "demand_inference": 2,
    "demand_training": 3,
    "unit_cost": 4,
    "charge": 5,
    "noise_nvda": 6,
    "noise_aws": 7,
    "noise_capex": 8,
    "noise_nvda_margin": 9,
    "noise_aws_margin": 10,
}

#: Rows of a Monte Carlo block and dimensions of the Sobol sequence: one a stream number.
N_PARAMETER_STREAMS = max(PARAMETER_STREAMS.values()) + 1


def parameter_stream(path: str) -> int:
    """The stream number of parameter ``path``; a KeyError names a parameter the table lacks."""
    try:
        return PARAMETER_STREAMS[path]
    except KeyError:
        raise KeyError(f"parameter '{path}' has no random stream: give it the next number in "
                       f"risk.streams.PARAMETER_STREAMS") from None


def mc_key(block: int) -> tuple[int, ...]:
    """Key of block ``block`` of the Monte Carlo parameter uniforms (every stream)."""
    return (0, 10_001, block)


def lhs_key(path: str) -> tuple[int, ...]:
    """Key of the Latin hypercube column of parameter ``path``."""
    return (0, parameter_stream(path))


def sobol_key() -> tuple[int, ...]:
    """Key of the scrambled Sobol sequence (every parameter stream a dimension)."""
    return (0,)


def chi2_key(block: int) -> tuple[int, ...]:
    """Key of block ``block`` of the t copula's chi-square uniforms."""
    return (0, 10_000, block)


def shock_key(name: str, block: int) -> tuple[int, ...]:
    """Key of block ``block`` of shock stream ``name``."""
    return (1 + SHOCK_STREAMS[name], block)


#: The glossary's parameters in stream-number order: the rows of a run's parameter matrix, so
#: that a block of Monte Carlo uniforms (a stream to a row) is drawn straight into it. Records
#: and Datasets name parameters; nothing else depends on this order.
PARAMETER_ROWS: tuple[str, ...] = tuple(sorted(PARAMETERS, key=parameter_stream))
