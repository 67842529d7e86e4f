"""The office's rules as service functions (users and roles, the audit log, today's counts), shared by
the web pages (`server.web`), the API and the CLI: a view only parses a form and renders what these return."""
