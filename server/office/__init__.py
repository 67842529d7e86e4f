"""The school office's rules: roster, cards, accounts, benefits — service functions that the pages, the
JSON API and the CLI all call; no rule lives in a view."""
