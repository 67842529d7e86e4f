"""The `meta` keys the sync client writes into the terminal store (a contract with the terminal UI)."""

from __future__ import annotations

SERVER_URL = "sync.server_url"
CURSOR = "sync.cursor"
LAST_OK_AT = "sync.last_ok_at"  # ISO 8601 UTC of the last sync that reached the server
LAST_ATTEMPT_AT = "sync.last_attempt_at"
LAST_ERROR = "sync.last_error"  # Russian text for staff; empty when the last sync went fine
CLOCK_DRIFT_S = "sync.clock_drift_s"  # terminal clock minus server clock, float seconds
DATA_AS_OF = "sync.data_as_of"  # ISO UTC of the server data last applied
OFFLINE_SINCE = "sync.offline_since"  # ISO UTC of the first failed attempt after a success, or empty
TOKEN_TERMINAL = "sync.token_terminal"  # the terminal id the current token belongs to (re-enrolment check)

ALL = (SERVER_URL, CURSOR, LAST_OK_AT, LAST_ATTEMPT_AT, LAST_ERROR, CLOCK_DRIFT_S, DATA_AS_OF, OFFLINE_SINCE)
