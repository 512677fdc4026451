# The two commands of the README:
#   make demo   install what is missing, start the local PostGIS, load the Thessaloniki samples, serve
#   make test   install what is missing (incl. GDAL and QGIS for the client tests), lint, run the tests
.PHONY: demo test lint bench setup

demo:
	bash scripts/setup.sh
	.venv/bin/geoservice demo

test:
	bash scripts/setup.sh test
	$(MAKE) lint
	.venv/bin/pytest -q

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports --no-cache

bench:  # every benchmark, side by side with its peers (~1 h 30 on 2 cores; bench/README.md)
	bash scripts/setup.sh bench
	.venv/bin/python -m bench.load
	.venv/bin/python -m bench.api
	.venv/bin/python -m bench.catalogue
