# The two commands of README.md. `make run` opens the serving window on the demo school; `make test`
# runs everything CI runs (ruff, mypy, pytest on SQLite and PostgreSQL).
.PHONY: run test demo

run:
	@scripts/setup.sh
	.venv/bin/canteen terminal --demo

demo:
	@scripts/setup.sh
	.venv/bin/canteen demo

test:
	@scripts/setup.sh --postgres
	.venv/bin/ruff check .
	.venv/bin/mypy
	.venv/bin/python -m pytest -q -p no:cacheprovider
