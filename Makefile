# The lead trading suite: `make demo` starts the demo, `make test` runs
# every test. See README.rst.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
MODULES := $(notdir $(patsubst %/pyproject.toml,%,$(wildcard setup/*/pyproject.toml)))
STAMP := $(VENV)/.installed

.PHONY: demo test venv webclient clean

venv: $(STAMP)

$(STAMP): Makefile setup/constraints.txt $(wildcard setup/*/pyproject.toml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c setup/constraints.txt \
		"trytond[postgresql]" "psycopg[binary]" playwright \
		$(foreach m,$(MODULES),-e setup/$(m)[test])
	touch $@

webclient:
	setup/webclient.sh .build/www

demo: venv webclient
	$(BIN)/python setup/demo.py

test: venv
	setup/browser.sh
	$(BIN)/python setup/run_tests.py

clean:
	rm -rf $(VENV) .build .demo .cache
