"""The school office's rules as service functions (users and roles, the audit log, today's counts, the
roster, cards, accounts, benefits), shared by the web pages (`server.web`), the JSON API and the CLI: a
view only parses a form and renders what these return; no rule lives in a view."""
