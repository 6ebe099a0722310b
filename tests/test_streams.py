"""The table of random streams (risk/streams.py): one stream a name, never shared, never reused."""

from __future__ import annotations

import pytest

from risk.glossary import PARAMETERS, SHOCKS
from risk.streams import N_PARAMETER_STREAMS, PARAMETER_STREAMS, SHOCK_STREAMS, lhs_key, parameter_stream, shock_key


def test_every_parameter_and_shock_has_its_own_stream():
    assert set(PARAMETERS) <= set(PARAMETER_STREAMS), f"no stream for {sorted(set(PARAMETERS) - set(PARAMETER_STREAMS))}"
    assert set(SHOCKS) <= set(SHOCK_STREAMS), f"no stream for {sorted(set(SHOCKS) - set(SHOCK_STREAMS))}"
    assert len(set(PARAMETER_STREAMS.values())) == len(PARAMETER_STREAMS)
    assert len(set(SHOCK_STREAMS.values())) == len(SHOCK_STREAMS)
    assert N_PARAMETER_STREAMS == max(PARAMETER_STREAMS.values()) + 1


def test_numbers_of_the_first_streams_never_change():
    """Stream numbers are append-only: these are the numbers every stored run was drawn with."""
    assert PARAMETER_STREAMS["capex.growth_first"] == 0
    assert PARAMETER_STREAMS["pricing.elasticity"] == 20
    assert PARAMETER_STREAMS["aws.external.margin"] == 55
    assert PARAMETER_STREAMS["aws.cost_floor"] == 62
    assert SHOCK_STREAMS == {"capex": 0, "digestion": 1, "demand_inference": 2, "demand_training": 3, "unit_cost": 4,
                             "charge": 5, "noise_nvda": 6, "noise_aws": 7, "noise_capex": 8,
                             "noise_nvda_margin": 9, "noise_aws_margin": 10}


def test_keys_are_built_from_names():
    assert lhs_key("pricing.elasticity") == (0, 20)
    assert shock_key("unit_cost", 3) == (5, 3)


def test_a_parameter_without_a_stream_is_named():
    with pytest.raises(KeyError, match="parameter 'pricing.new_thing' has no random stream: give it the next number"):
        parameter_stream("pricing.new_thing")
