"""The office: what the school's administrators manage (used by the CLI and, later, the office pages)."""
