"""Services of the school office: the functions its pages, the JSON API and the CLI share."""
