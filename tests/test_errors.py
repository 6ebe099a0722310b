"""Error wording: every bad input names the file, the dotted key path, the bad value and what is allowed."""

from __future__ import annotations

import copy

import pytest
import yaml

import risk
from risk.errors import DataError, ScenarioError

from conftest import BASE_FILE, SCENARIOS

DELETE = object()


def write(tmp_path, doc, name="bad.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    (tmp_path / "data").symlink_to(SCENARIOS / "data") if not (tmp_path / "data").exists() else None
    return path


def edit(doc, path, value):
    doc = copy.deepcopy(doc)
    node = doc
    *heads, leaf = path.split(".")
    for h in heads:
        node = node[h]
    if value is DELETE:
        del node[leaf]
    else:
        node[leaf] = value
    return doc


def message(tmp_path, doc) -> str:
    path = write(tmp_path, doc)
    with pytest.raises(ScenarioError) as info:
        risk.load_scenario(path)
    text = str(info.value)
    assert text.startswith(str(path)), "the message names the file"
    return text


def dist(**kw):
    return {**kw, "source": "s", "note": "n"}


CASES = [
    # (id, edits, fragments that must all appear)
    ("unknown top-level key", [("horizn", 7)],
     ["horizn: unknown key 'horizn' (did you mean 'horizon'?)", "allowed keys here: name, description, base_year, horizon"]),
    ("unknown parameter", [("capex.growth_frist", dist(dist="fixed", value=0.5))],
     ["capex.growth_frist: unknown key 'growth_frist' (did you mean 'growth_first'?)", "allowed keys here: growth_first, growth_long"]),
    ("unknown distribution field", [("capex.growth_first.mdoe", 0.7)],
     ["capex.growth_first.mdoe: unknown key 'mdoe' (did you mean 'mode'?)", "allowed keys here: source, note, ci90, min, mode, max"]),
    ("missing parameter", [("pricing.elasticity", DELETE)],
     ["pricing.elasticity: missing parameter", "every parameter needs a distribution"]),
    ("unknown distribution", [("capex.growth_first.dist", "gama")],
     ["capex.growth_first.dist: unknown distribution 'gama'", "allowed: fixed, normal, lognormal, uniform, triangular, pert, beta, truncnormal, choice, bernoulli", "(got 'gama')"]),
    ("missing dist", [("capex.growth_first", {"mean": 1, "source": "s", "note": "n"})],
     ["capex.growth_first: missing 'dist'; allowed: fixed, normal"]),
    ("share above one", [("asic_adoption.inference.ceiling", dist(dist="pert", min=0.3, mode=0.6, max=1.2))],
     ["asic_adoption.inference.ceiling: pert(min=0.3, mode=0.6, max=1.2) takes values in [0.3, 1.2], outside the allowed range [0, 1]"]),
    ("unbounded distribution on a share", [("aws.capex_share", dist(dist="normal", mean=0.8, sd=0.05))],
     ["aws.capex_share: normal(mean=0.8, sd=0.05) takes values in [-inf, inf], outside the allowed range [0, 1]",
      "use a bounded distribution (beta, pert, triangular, uniform, truncnormal"]),
    ("reversed ci90", [("pricing.elasticity.ci90", [2.5, 0.8])],
     ["pricing.elasticity.ci90: ci90 must be two finite numbers [lo, hi] with lo < hi, got [2.5, 0.8]"]),
    ("ci90 and natural parameters", [("capex.volatility", dist(dist="uniform", min=0, max=1, ci90=[0.1, 0.2]))],
     ["capex.volatility: give either ci90 or the natural parameters (min, max), not both: min, max given with ci90"]),
    ("not a number", [("capex.max_cut.value", "half")],
     ["capex.max_cut: value must be a number, not text ('half')"]),
    ("whole numbers only", [("aws.server_life", dist(dist="uniform", min=5, max=6))],
     ["aws.server_life: depreciation life of AI servers takes whole numbers only; use dist fixed, choice or bernoulli"]),
    ("unknown sampling method", [("sampling", "halton")],
     ["sampling: input should be 'mc', 'lhs' or 'sobol' (got 'halton')"]),
    ("weights of the wrong length", [("aws.server_life.weights", [1, 2, 3])],
     ["aws.server_life: weights has 3 entries but values has 2"]),
    ("impossible standard deviation", [("capex.volatility", dist(dist="normal", mean=0.1, sd=-1))],
     ["capex.volatility: sd must be > 0, got -1.0"]),
    ("missing source", [("pricing.elasticity.source", DELETE)],
     ["pricing.elasticity.source: missing key 'source'; every distribution needs a source and a note"]),
    ("number instead of a distribution", [("pricing.elasticity", 1.5)],
     ["pricing.elasticity: expected a distribution", "{dist: fixed, value: 1.5, source: ..., note: ...}", "(got 1.5)"]),
    ("pert ci90 without mode", [("pricing.elasticity.mode", DELETE)],
     ["pricing.elasticity: dist 'pert' with ci90 also needs mode"]),
    ("horizon out of range", [("horizon", 0)],
     ["horizon: input should be greater than or equal to 1 (got 0)"]),
    ("bernoulli with ci90", [("aws.external.enabled", dist(dist="bernoulli", ci90=[0, 1]))],
     ["aws.external.enabled: ci90 is not allowed for dist 'bernoulli'; give p"]),
    ("ci90 outside the bounds", [("aws.capex_share", dist(dist="beta", ci90=[0.5, 0.99999], min=0, max=0.9))],
     ["aws.capex_share: ci90 [0.5, 0.99999] must lie inside (min, max) = (0, 0.9)"]),
    ("NaN mean", [("capex.volatility", dist(dist="normal", mean=float("nan"), sd=0.1))],
     ["capex.volatility.mean: input should be a finite number (got nan)"]),
    ("infinite lognormal mu", [("pricing.elasticity", dist(dist="lognormal", mu=float("inf"), sigma=0.1))],
     ["pricing.elasticity.mu: input should be a finite number (got inf)"]),
    ("infinite sigma", [("pricing.elasticity", dist(dist="lognormal", mu=0.1, sigma=float("inf")))],
     ["pricing.elasticity.sigma: input should be a finite number (got inf)"]),
    ("infinite PERT shape", [("pricing.elasticity.shape", float("inf"))],
     ["pricing.elasticity.shape: input should be a finite number (got inf)"]),
    ("infinite beta shape", [("pricing.moat_start", dist(dist="beta", a=float("inf"), b=2))],
     ["pricing.moat_start.a: input should be a finite number (got inf)"]),
    ("huge money", [("aws.external.mature_revenue", dist(dist="fixed", value=1e308))],
     ["aws.external.mature_revenue: fixed(value=1e+308) takes values in [1e+308, 1e+308], outside the allowed range "
      "[0, 1000] of mature yearly revenue of external chip sales [USD bn]"]),
    ("NaN in a ci90", [("pricing.elasticity.ci90", [float("nan"), 0.4])],
     ["pricing.elasticity.ci90.0: input should be a finite number (got nan)"]),
    ("infinite t-copula degrees of freedom", [("correlations", {"parameters": ["pricing.elasticity", "asic_adoption.inference.ceiling"],
                                                                "spearman": [[1, 0.5], [0.5, 1]], "copula": "t", "dof": float("inf")})],
     ["correlations.dof: input should be a finite number (got inf)"]),
]


@pytest.mark.parametrize("edits, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_scenario_wording(tmp_path, base_doc, edits, fragments):
    doc = base_doc
    for path, value in edits:
        doc = edit(doc, path, value)
    text = message(tmp_path, doc)
    for fragment in fragments:
        assert fragment in text


def test_several_problems_are_reported_together(tmp_path, base_doc):
    doc = edit(edit(base_doc, "horizn", 7), "pricing.elasticity.dist", "gama")
    text = message(tmp_path, doc)
    assert "2 problems" in text and "horizn" in text and "pricing.elasticity.dist" in text


def test_duplicate_key_is_an_error_not_silently_kept(tmp_path):
    text = BASE_FILE.read_text().replace("  max_cut:", "  volatility:\n    dist: fixed\n    value: 0.1\n    source: s\n    note: n\n  max_cut:", 1)
    path = tmp_path / "dup.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=r"duplicate key 'volatility' \(first at line \d+\)"):
        risk.load_scenario(path)


def test_yaml_syntax_error_gives_line_and_column(tmp_path):
    path = tmp_path / "syntax.yaml"
    path.write_text("name: x\ncapex: [1, 2\n")
    with pytest.raises(ScenarioError, match=r"syntax.yaml: 1 problem\n  - \(top level\): not valid YAML: line 3, column 1"):
        risk.load_scenario(path)


def test_document_must_be_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ScenarioError, match="a scenario must be a YAML mapping of keys to values, got list"):
        risk.load_scenario(path)


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="nope.yaml: 1 problem\n.*cannot read the file: No such file or directory"):
        risk.load_scenario(tmp_path / "nope.yaml")


def test_parameter_beyond_the_data_is_refused_before_running(tmp_path, base_doc):
    doc = edit(base_doc, "compute.accelerator_life", dist(dist="choice", values=[5, 9]))
    path = write(tmp_path, doc)
    with pytest.raises(ScenarioError, match=r"compute.accelerator_life: reaches 9 years, but accelerator_market history starts in 2019"):
        risk.simulate(path, draws=100)


def test_ai_revenue_above_aws_revenue_is_refused(tmp_path, base_doc):
    doc = edit(base_doc, "aws.ai_revenue_start", dist(dist="uniform", min=100, max=150))
    with pytest.raises(ScenarioError, match=r"aws.ai_revenue_start: reaches 150, but AWS revenue in 2025 is 128.7"):
        risk.simulate(write(tmp_path, doc), draws=100)


def test_bad_run_options(base_scenario):
    with pytest.raises(ScenarioError, match=r"draws: must be a whole number >= 1 \(got 0\)"):
        risk.simulate(base_scenario, draws=0)
    with pytest.raises(ScenarioError, match=r"sampling: must be one of: mc, lhs, sobol \(got 'random'\)"):
        risk.simulate(base_scenario, draws=10, sampling="random")


def test_missing_data_figure_names_file_series_and_year(tmp_path, base_doc):
    data = tmp_path / "data"
    data.mkdir()
    lines = (SCENARIOS / "data" / "actuals.csv").read_text().splitlines()
    (data / "actuals.csv").write_text("\n".join(l for l in lines if not l.startswith("aws_revenue,2025")) + "\n")
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(base_doc))
    with pytest.raises(DataError, match=r"data/actuals.csv: no aws_revenue for the base year 2025; add a row to set it"):
        risk.simulate(path, draws=10)


def test_non_numeric_data_value(tmp_path, base_doc):
    data = tmp_path / "data"
    data.mkdir()
    text = (SCENARIOS / "data" / "actuals.csv").read_text().replace("aws_revenue,2025,CY2025,128.7", "aws_revenue,2025,CY2025,n/a")
    (data / "actuals.csv").write_text(text)
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(base_doc))
    with pytest.raises(DataError, match=r"actuals.csv: row \d+ \(aws_revenue\): value 'n/a' is not a number"):
        risk.simulate(tmp_path / "s.yaml", draws=10)


def test_messages_keep_their_brackets(tmp_path, base_doc):
    """The command line prints messages as written: bracketed text ([lo, hi], [nan, 0.4], units
    such as [yr]) is text, never taken for style markup and dropped."""
    from typer.testing import CliRunner

    from risk.cli import app

    doc = edit(base_doc, "pricing.elasticity", {"dist": "uniform", "ci90": [2.5, 0.8], "source": "t", "note": "t"})
    bad = write(tmp_path, doc)
    with pytest.raises(ScenarioError) as info:
        risk.load_scenario(bad)
    wanted = str(info.value)
    assert "[lo, hi]" in wanted and "[2.5, 0.8]" in wanted
    for command in (["validate", str(bad)], ["run", str(bad), "--draws", "10"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2
        printed = " ".join(result.output.split())
        for line in wanted.splitlines()[1:]:
            assert " ".join(line.split()) in printed, (line, printed)


@pytest.mark.parametrize("name, text, fragment", [
    ("deep", "a: " + "[" * 100 + "]" * 100, "nested more than 32 levels deep"),
    ("very deep", "a: " + "[" * 20000 + "]" * 20000, "nesting depth"),
    ("complex key", "? [1, 2]\n: 3\nname: x\n", "a key must be a name, not a list or a mapping"),
    ("billion laughs", 'a: &a ["lol", "lol"]\nb: [*a, *a]\n', "YAML anchors (&a) are not allowed in scenario files"),
    ("alias only", 'name: *x\n', "YAML aliases (*name) are not allowed"),
    ("huge", "x: 1\n" * 300_000, "the file is 1.5 MB; a scenario file is at most 1 MB"),
])
def test_yaml_that_could_hang_or_crash_is_refused(tmp_path, name, text, fragment):
    import time

    path = tmp_path / f"{name.replace(' ', '_')}.yaml"
    path.write_text(text)
    t = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        risk.load_scenario(path)
    assert fragment in str(info.value) and time.perf_counter() - t < 2


def test_a_set_value_with_an_alias_is_refused():
    from typer.testing import CliRunner

    from risk.cli import app

    result = CliRunner().invoke(app, ["run", str(BASE_FILE), "--draws", "10", "--set", "name=&a [*a]"])
    assert result.exit_code == 2 and "--set: VALUE is not valid YAML" in result.output and "anchors" in result.output


@pytest.mark.parametrize("edits, fragment", [
    ([("capex.max_cut", dist(dist="fixed", value=True))], "capex.max_cut: value must be a number, not true/false (True)"),
    ([("capex.max_cut", dist(dist="fixed", value="0.5"))], "capex.max_cut: value must be a number, not text ('0.5')"),
    ([("capex.max_cut", {"diist": "fixed", "value": 0.5, "source": "s", "note": "n"})],
     "capex.max_cut: missing 'dist' ('diist' is not a key: did you mean 'dist'?)"),
])
def test_yaml_types_and_misspelt_dist(tmp_path, base_doc, edits, fragment):
    doc = base_doc
    for path, value in edits:
        doc = edit(doc, path, value)
    assert fragment in message(tmp_path, doc)


@pytest.mark.parametrize("path, fragment", [
    ("asic_adopshun.x", "(did you mean 'asic_adoption'? its keys are inference, training)"),
    ("asic_adopshun.inferense.celing", "(did you mean 'asic_adoption.inference.ceiling'?)"),
])
def test_override_typos_get_a_suggestion_at_every_level(base_scenario, path, fragment):
    with pytest.raises(ScenarioError) as info:
        base_scenario.with_overrides({path: 0.5})
    assert fragment in str(info.value)


@pytest.mark.parametrize("old, new, fragment", [
    ("aws_revenue,2025,CY2025,128.7,USD bn", "aws_revenue,2025,CY2025,128.7,USD m", "column units: 'USD m' is not one of USD bn, 1"),
    ("aws_revenue,2025,CY2025,128.7,USD bn,V", "aws_revenue,2025,CY2025,128.7,USD bn,X", "column tag: 'X' is not one of V, D, R"),
    ("aws_revenue,2025,CY2025,128.7", "aws_revenue,2025,CY2025,inf", "value 'inf' is not a number"),
])
def test_data_cells_are_checked(tmp_path, base_doc, old, new, fragment):
    data = tmp_path / "data"
    data.mkdir()
    text = (SCENARIOS / "data" / "actuals.csv").read_text()
    assert old in text
    (data / "actuals.csv").write_text(text.replace(old, new))
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(base_doc))
    with pytest.raises((DataError, ScenarioError)) as info:
        risk.load_scenario(tmp_path / "s.yaml")
    assert fragment in str(info.value) and "actuals.csv" in str(info.value)
