# The commands of README.md. `make run` opens the serving window on the demo school; `make office` the
# school office in a browser; `make test` runs everything CI runs (ruff, mypy, pytest on SQLite and PostgreSQL).
.PHONY: run test demo office

run:
	@scripts/setup.sh
	.venv/bin/canteen terminal --demo

demo:
	@scripts/setup.sh
	.venv/bin/canteen demo

# The school office in a browser on a demo school (SQLite in var/), with a demo user of each role.
office:
	@scripts/setup.sh
	.venv/bin/python -m server.office.demo

test:
	@scripts/setup.sh --postgres
	.venv/bin/ruff check .
	.venv/bin/mypy
	.venv/bin/python -m pytest -q -p no:cacheprovider -n auto --dist loadfile
