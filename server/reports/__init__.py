"""The registers the law asks for (issue 12), computed from history: each kind is a module with one
`build` (the data) and its formats; `KINDS` maps the CLI's and the API's names to them."""
