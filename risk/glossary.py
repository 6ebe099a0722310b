"""The one glossary of names: every scenario parameter and every output variable.

Scenario files, sampled-parameter variables, model arguments and Dataset variables all use
these names. A parameter is named by its dotted path in a scenario file
(``asic_adoption.inference.ceiling``); its ``symbol`` is the one of the model
specification (docs/model.md). Each parameter declares the closed interval its values must
lie in (``domain``); a distribution whose support leaves that interval is rejected when the
scenario is validated.

Units: money in USD billions per year ("USD bn"), shares and rates as fractions ("1"),
compute in compute units ("CU": what USD 1bn bought at base-year GPU prices).
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

import numpy as np

__all__ = ["ParameterInfo", "OutputInfo", "PARAMETERS", "OUTPUTS", "SHOCKS", "UNIFORM_SHOCKS", "LATER_OUTPUTS", "AGGREGATION", "CALIBRATED",
           "OUTPUT_GROUPS", "field_name", "select_outputs",
           "Params", "Shocks", "Outputs", "Calibrated"]


@dataclass(frozen=True)
class ParameterInfo:
    """Description of one scenario parameter.

    Attributes
    ----------
    path : str
        Dotted key path in a scenario file.
    symbol : str
        Symbol in the model specification.
    units : str
        Units of the parameter's values.
    long_name : str
        Human-readable name.
    domain : tuple of float
        Closed interval ``(lo, hi)`` every value must lie in.
    integer : bool
        True if only whole numbers are allowed (lives in years).
    """

    path: str
    symbol: str
    units: str
    long_name: str
    domain: tuple[float, float]
    integer: bool = False


@dataclass(frozen=True)
class OutputInfo:
    """Description of one simulated output variable (dims draw x year)."""

    name: str
    units: str
    long_name: str


INF = np.inf
SHARE = (0.0, 1.0)
GROWTH = (-0.9, 20.0)
YEAR = (1990.0, 2100.0)

_P = ParameterInfo
PARAMETERS: dict[str, ParameterInfo] = {
    p.path: p
    for p in [
        # 1. capex cycle
        _P("capex.growth_first", "g_1", "1/yr", "hyperscaler capex growth in the first projected year", GROWTH),
        _P("capex.growth_long", "g_inf", "1/yr", "long-run hyperscaler capex growth", GROWTH),
        _P("capex.fade_years", "tau_g", "yr", "time constant of the fade from first-year to long-run capex growth", (0.05, 100.0)),
        _P("capex.volatility", "sigma_g", "1/yr", "standard deviation of the yearly capex-growth shock", (0.0, 2.0)),
        _P("capex.power_cap", "g_power", "1/yr", "largest one-year capex growth that power and grid connections allow", (0.0, 20.0)),
        _P("capex.max_cut", "c_max_cut", "1", "deepest one-year capex cut", (0.0, 0.95)),
        _P("capex.intensity_drift", "v_k", "1/yr", "yearly drift of accelerator spend per dollar of hyperscaler capex", (-0.5, 0.5)),
        _P("digestion.cut", "delta", "1/yr", "capex growth lost in a digestion year", (0.0, 2.0)),
        _P("digestion.enter", "p_enter", "1", "probability of entering digestion from a normal year", SHARE),
        _P("digestion.stay", "p_stay", "1", "probability that a digestion year is followed by another", SHARE),
        _P("digestion.overbuild_sensitivity", "zeta", "1", "extra entry probability per unit of utilization below the threshold", (0.0, 20.0)),
        _P("digestion.utilization_threshold", "u_star", "1", "utilization below which overbuilt capacity raises the entry probability", SHARE),
        # 2. ASIC adoption
        _P("asic_adoption.inference.start", "s0_inf", "1", "ASIC share of new inference compute units in the base year", SHARE),
        _P("asic_adoption.inference.ceiling", "S_inf", "1", "long-run ceiling of the ASIC share of new inference compute units", SHARE),
        _P("asic_adoption.inference.midpoint", "y_mid_inf", "year", "calendar year of the inference S-curve's midpoint", YEAR),
        _P("asic_adoption.inference.steepness", "k_inf", "1/yr", "steepness of the inference S-curve", (0.01, 20.0)),
        _P("asic_adoption.training.start", "s0_tr", "1", "ASIC share of new training compute units in the base year", SHARE),
        _P("asic_adoption.training.ceiling", "S_tr", "1", "long-run ceiling of the ASIC share of new training compute units", SHARE),
        _P("asic_adoption.training.midpoint", "y_mid_tr", "year", "calendar year of the training S-curve's midpoint", YEAR),
        _P("asic_adoption.training.steepness", "k_tr", "1/yr", "steepness of the training S-curve", (0.01, 20.0)),
        # 3. pricing power
        _P("pricing.elasticity", "epsilon", "1", "cut in NVIDIA's markup premium per unit of ASIC share gained since the base year", (0.0, 50.0)),
        _P("pricing.moat_start", "mu_0", "1", "software moat (CUDA lock-in) in the base year", SHARE),
        _P("pricing.moat_decay", "v", "1/yr", "yearly decay rate of the software moat", SHARE),
        _P("pricing.cost_drift", "c_bar", "1/yr", "mean yearly change of NVIDIA's unit cost (HBM, packaging)", (-0.5, 0.5)),
        _P("pricing.cost_volatility", "sigma_c", "1/yr", "standard deviation of the yearly unit-cost shock", (0.0, 0.5)),
        _P("pricing.pass_through", "psi", "1", "share of unit-cost changes passed through to price", SHARE),
        _P("pricing.scarcity", "chi", "1", "rise of NVIDIA's markup premium, as a share of the base year's, per unit of last year's utilization above u*", (0.0, 20.0)),
        # 4. compute supply and demand
        _P("compute.asic_cost_advantage", "rho", "1", "ASIC cost advantage per compute unit against base-year GPU prices", (0.0, 0.95)),
        _P("compute.hardware_progress", "h", "1/yr", "yearly growth of compute bought per dollar", (0.0, 5.0)),
        _P("compute.accelerator_life", "L_c", "yr", "years an accelerator stays in the installed base", (1.0, 30.0), integer=True),
        _P("compute.base_utilization", "u_0", "1", "utilization of installed compute in the base year", (0.01, 1.0)),
        _P("demand.inference_share_start", "phi_0", "1", "inference share of compute demand in the base year", SHARE),
        _P("demand.inference_growth_first", "g_first_inf", "1/yr", "growth of inference compute demand in the first projected year", GROWTH),
        _P("demand.inference_growth_long", "g_long_inf", "1/yr", "long-run growth of inference compute demand", GROWTH),
        _P("demand.training_growth_first", "g_first_tr", "1/yr", "growth of training compute demand in the first projected year", GROWTH),
        _P("demand.training_growth_long", "g_long_tr", "1/yr", "long-run growth of training compute demand", GROWTH),
        _P("demand.fade_years", "tau_D", "yr", "time constant of the fade from first-year to long-run demand growth", (0.05, 100.0)),
        _P("demand.volatility", "sigma_D", "1/yr", "standard deviation of the yearly demand-growth shocks", (0.0, 5.0)),
        # 5. NVIDIA
        _P("nvidia.gpu_share_horizon", "n_H", "1", "NVIDIA share of merchant GPU spend in the horizon year", SHARE),
        _P("nvidia.opex_growth", "g_O", "1/yr", "yearly growth of NVIDIA's operating expenses", (-0.5, 5.0)),
        _P("nvidia.other_growth", "g_o", "1/yr", "yearly growth of NVIDIA's revenue outside the data center", (-0.5, 5.0)),
        _P("nvidia.charge_probability", "p_X", "1", "probability of a one-off gross-margin charge (inventory, export controls) in a year", SHARE),
        _P("nvidia.charge_size", "x_X", "1", "size of a one-off charge as a share of the year's revenue", (0.0, 0.5)),
        # 6. AWS
        _P("aws.amazon_capex_share_change", "a_1", "1", "relative change of Amazon's share of hyperscaler capex in the first projected year", (-0.9, 2.0)),
        _P("aws.amazon_capex_share_drift", "a_alpha", "1/yr", "yearly relative drift of Amazon's share of hyperscaler capex after the first projected year", (-0.5, 0.5)),
        _P("aws.capex_share", "beta", "1", "AWS share of Amazon capex", SHARE),
        _P("aws.ai_capex_share", "theta", "1", "AI accelerators and servers as a share of AWS capex", SHARE),
        _P("aws.inhouse_start", "sigma_0", "1", "AWS own-silicon share of its AI compute units in the base year", SHARE),
        _P("aws.inhouse_speed", "lambda", "1", "AWS own-silicon share gained per unit of market ASIC share gained", (0.0, 20.0)),
        _P("aws.inhouse_max", "sigma_max", "1", "cap on AWS's own-silicon share", SHARE),
        _P("aws.server_life", "L_s", "yr", "depreciation life of AI servers", (1.0, 30.0), integer=True),
        _P("aws.other_life", "L_o", "yr", "depreciation life of other AWS capex (buildings, power)", (1.0, 60.0), integer=True),
        _P("aws.ai_revenue_start", "R_ai_0", "USD bn", "AWS AI revenue in the base year (not reported)", (0.0, 1000.0)),
        _P("aws.rental_decline", "d", "1/yr", "yearly decline of the rental price of a compute unit", (-0.5, 0.95)),
        _P("aws.core_growth", "g_core", "1/yr", "yearly growth of AWS's non-AI revenue", (-0.5, 5.0)),
        _P("aws.ai_cash_cost", "omega_ai", "1", "cash costs (power, networking) per dollar of AI revenue", SHARE),
        _P("aws.cost_efficiency", "e_c", "1/yr", "yearly decline of AWS's core cash costs per dollar of core revenue", (-0.5, 0.5)),
        _P("aws.cost_floor", "omega_floor", "1", "floor of AWS's core cash costs per dollar of core revenue, reached by efficiency gains", SHARE),
        _P("aws.external.enabled", "B_E", "1", "1 if Amazon sells its chips to other companies' data centers", SHARE, integer=True),
        _P("aws.external.start_year", "y_E", "year", "calendar year external chip sales start", YEAR),
        _P("aws.external.ramp_years", "r_E", "yr", "years external chip sales take to reach maturity", (0.25, 50.0)),
        _P("aws.external.mature_revenue", "E_max", "USD bn", "mature yearly revenue of external chip sales", (0.0, 1000.0)),
        _P("aws.external.margin", "m_E", "1", "operating margin of external chip sales", (-1.0, 1.0)),
        _P("noise.revenue", "sigma_R", "1", "sd of a quarter's reported revenue around the model's path, relative (mix, timing)", (0.0, 0.5)),
        _P("noise.margin", "sigma_M", "1", "sd of a quarter's reported margins around the model's path, in margin points (mix, one-offs)", (0.0, 0.2)),
        _P("noise.capex", "sigma_K", "1", "sd of a quarter's reported capex around the model's path, relative (lumpy projects)", (0.0, 0.5)),
    ]
}


#: Per-year shock streams, each standard normal except those of :data:`UNIFORM_SHOCKS`.
SHOCKS: tuple[str, ...] = ("capex", "digestion", "demand_inference", "demand_training", "unit_cost", "charge", "noise_nvda",
                           "noise_aws", "noise_capex", "noise_nvda_margin", "noise_aws_margin")
#: Shock streams uniform on [0, 1): the digestion regime's and the one-off charge's draws.
UNIFORM_SHOCKS: frozenset[str] = frozenset({"digestion", "charge"})

_O = OutputInfo
OUTPUTS: dict[str, OutputInfo] = {
    o.name: o
    for o in [
        _O("capex_hyperscaler", "USD bn", "hyperscaler capex"),
        _O("accelerator_market", "USD bn", "AI accelerator spend, all buyers"),
        _O("asic_share_inference", "1", "ASIC share of new inference compute units"),
        _O("asic_share_training", "1", "ASIC share of new training compute units"),
        _O("asic_unit_share", "1", "ASIC share of new compute units"),
        _O("asic_spend_share", "1", "ASIC share of accelerator spend"),
        _O("inference_share", "1", "inference share of compute demand"),
        _O("compute_supply", "CU", "installed compute"),
        _O("compute_demand", "CU", "compute demand"),
        _O("utilization", "1", "utilization of installed compute"),
        _O("digestion", "1", "capex digestion year (1) or not (0)"),
        _O("nvda_price_index", "1", "NVIDIA price per compute unit relative to the base year"),
        _O("nvda_gross_margin", "1", "NVIDIA gross margin"),
        _O("nvda_gross_margin_underlying", "1", "NVIDIA gross margin before one-off charges"),
        _O("nvda_one_off_charges", "USD bn", "NVIDIA one-off charges in cost of revenue"),
        _O("nvda_operating_margin", "1", "NVIDIA operating margin"),
        _O("nvda_revenue", "USD bn", "NVIDIA revenue"),
        _O("nvda_dc_revenue", "USD bn", "NVIDIA data center revenue"),
        _O("nvda_gpu_share", "1", "NVIDIA share of merchant GPU spend"),
        _O("aws_inhouse_share", "1", "AWS own-silicon share of its new AI compute units"),
        _O("aws_capex_ai", "USD bn", "AWS capex on AI accelerators and servers"),
        _O("aws_capex_saved", "USD bn", "AWS capex saved by own silicon against an all-GPU fleet"),
        _O("aws_depreciation", "USD bn", "AWS depreciation"),
        _O("aws_ai_revenue", "USD bn", "AWS AI revenue"),
        _O("aws_revenue", "USD bn", "AWS revenue"),
        _O("aws_operating_margin", "1", "AWS operating margin"),
        _O("aws_operating_margin_all_gpu", "1", "AWS operating margin had it bought only GPUs"),
        _O("aws_margin_uplift", "1", "AWS operating-margin uplift from own silicon"),
        _O("aws_margin_uplift_bp", "bp", "AWS operating-margin uplift from own silicon in basis points"),
        _O("aws_external_revenue", "USD bn", "AWS revenue from selling its chips externally"),
        _O("amazon_capex", "USD bn", "Amazon capex"),
    ]
}

#: How a year is made of its quarters on the quarterly clock: "sum" (flows), "mean"
#: (utilization, indices, unit shares, stocks), the name of a flow (a ratio of sums: the
#: quarters' values weighted by that flow), or "derived" (computed from other years' values).
AGGREGATION: dict[str, str] = {
    "capex_hyperscaler": "sum", "accelerator_market": "sum", "asic_share_inference": "mean",
    "asic_share_training": "mean", "asic_unit_share": "mean", "asic_spend_share": "accelerator_market",
    "inference_share": "mean", "compute_supply": "mean", "compute_demand": "mean", "utilization": "mean",
    "digestion": "mean", "nvda_price_index": "mean", "nvda_gross_margin": "nvda_revenue",
    "nvda_gross_margin_underlying": "nvda_revenue", "nvda_one_off_charges": "sum",
    "nvda_operating_margin": "nvda_revenue", "nvda_revenue": "sum", "nvda_dc_revenue": "sum", "nvda_gpu_share": "mean",
    "aws_inhouse_share": "mean", "aws_capex_ai": "sum", "aws_capex_saved": "sum", "aws_depreciation": "sum",
    "aws_ai_revenue": "sum", "aws_revenue": "sum", "aws_operating_margin": "aws_revenue",
    "aws_operating_margin_all_gpu": "aws_revenue", "aws_margin_uplift": "derived", "aws_margin_uplift_bp": "derived",
    "aws_external_revenue": "sum", "amazon_capex": "sum",
}
assert set(AGGREGATION) == set(OUTPUTS), "every output says how its quarters make a year"

#: Outputs added after runs were first stored: a stored run written before them is read
#: without them (the analyses that need one say so).
LATER_OUTPUTS: frozenset[str] = frozenset({"nvda_gross_margin_underlying", "nvda_one_off_charges"})

#: Named groups of outputs, for storing part of a run (``risk run --keep``). ``margins`` holds
#: what the report needs (its summary, fan and distribution charts, and the joint chart of
#: NVIDIA's gross margin and AWS's uplift); ``nvidia``, ``aws`` and ``drivers`` split the
#: outputs between them; ``all`` is every output.
OUTPUT_GROUPS: dict[str, tuple[str, ...]] = {
    "margins": ("nvda_gross_margin", "nvda_gross_margin_underlying", "nvda_operating_margin", "aws_operating_margin",
                "aws_operating_margin_all_gpu", "aws_margin_uplift", "aws_margin_uplift_bp"),
    "nvidia": tuple(o for o in OUTPUTS if o.startswith("nvda_")),
    "aws": tuple(o for o in OUTPUTS if o.startswith("aws_") or o == "amazon_capex"),
    "drivers": ("capex_hyperscaler", "accelerator_market", "asic_share_inference", "asic_share_training", "asic_unit_share",
                "asic_spend_share", "inference_share", "compute_supply", "compute_demand", "utilization", "digestion"),
    "all": tuple(OUTPUTS),
}


def select_outputs(names) -> tuple[str, ...]:
    """The outputs named by ``names``: output names or groups of :data:`OUTPUT_GROUPS`.

    Parameters
    ----------
    names : str or iterable of str
        Names, each possibly comma-separated (``"margins,aws_revenue"``).

    Returns
    -------
    tuple of str
        The outputs, in the glossary's order, each once.

    Raises
    ------
    ValueError
        For an unknown name, with the closest and every allowed group and output.
    """
    import difflib

    items = [names] if isinstance(names, str) else list(names)
    words = [w.strip() for item in items for w in str(item).split(",") if w.strip()]
    if not words:
        raise ValueError(f"name at least one output or group; groups: {', '.join(OUTPUT_GROUPS)}")
    chosen = set()
    for w in words:
        if w in OUTPUT_GROUPS:
            chosen.update(OUTPUT_GROUPS[w])
        elif w in OUTPUTS:
            chosen.add(w)
        else:
            close = difflib.get_close_matches(w, [*OUTPUT_GROUPS, *OUTPUTS], n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ValueError(f"no output or group named '{w}'{hint}; groups: {', '.join(OUTPUT_GROUPS)}; "
                             f"outputs: {', '.join(OUTPUTS)}")
    return tuple(o for o in OUTPUTS if o in chosen)


#: Per-draw quantities derived when the base year is calibrated (dims: draw).
CALIBRATED: dict[str, OutputInfo] = {
    o.name: o
    for o in [
        _O("nvda_gpu_share_base", "1", "NVIDIA share of merchant GPU spend in the base year, calibrated to data center revenue"),
        _O("aws_history_scale", "1", "scale on the AWS capex history that reproduces base-year depreciation"),
        _O("aws_cash_cost_core", "1", "AWS cash costs per dollar of core revenue, calibrated to the base-year margin"),
    ]
}


def field_name(path: str) -> str:
    """The field of a parameter in :class:`Params`: its dotted path with dots as underscores."""
    return path.replace(".", "_")


# Records the model reads and writes by name (risk.model.assembly). Their fields follow the
# glossary; nothing outside this module depends on the glossary's order.
#: One value (a float, or an array over draws) per parameter, by :func:`field_name`.
Params = namedtuple("Params", [field_name(p) for p in PARAMETERS], module=__name__)
#: One year's shocks, by stream name.
Shocks = namedtuple("Shocks", SHOCKS, module=__name__)
#: One year's outputs, by output name.
Outputs = namedtuple("Outputs", list(OUTPUTS), module=__name__)
#: The per-draw quantities of the base-year calibration.
Calibrated = namedtuple("Calibrated", list(CALIBRATED), module=__name__)
