# One command installs and runs the main job (`make run`); one installs and runs the tests
# (`make test`). Both create a virtual environment in .venv with only Python 3.11 and pip.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DRAWS ?=
OUT ?= out

.PHONY: install run test notebook bench bench-scale hindcast backtest golden clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/risk run scenarios/outlook.yaml $(if $(DRAWS),--draws $(DRAWS)) --out $(OUT)/outlook.nc
	$(VENV)/bin/risk report $(OUT)/outlook.nc --out $(OUT)/report.pdf

test: install
	$(PY) -m pytest -n 2

notebook: install
	$(PY) -m pip install --quiet -e ".[notebook]"
	$(VENV)/bin/jupyter lab notebooks/

hindcast: install
	$(VENV)/bin/risk hindcast --out docs/hindcast.md

backtest: install
	$(VENV)/bin/risk backtest --out docs/backtest.md

golden: install
	$(PY) tests/golden.py

bench: install
	$(PY) benchmarks/bench_simulate.py

bench-scale: install
	$(PY) benchmarks/bench_scale.py $(BENCH_ARGS)
	$(PY) benchmarks/bench_sobol.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
