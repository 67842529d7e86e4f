"""``python -m server ...`` = ``canteen server ...`` (used by tests to start a real server process)."""

from server.cli import server

server(prog_name="canteen server")
