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
PUSH_TROUBLE = "sync.push_trouble"  # JSON: the batch the server keeps failing on (see sync.client.Trouble)
TERMINAL_FLAGS = "sync.terminal_flags"  # the server's flags on this terminal, comma-separated; empty = none

# Terminal flags the server may send (`"terminal_flags"` in the push and pull answers).
FLAG_CLONE = "clone"  # the same terminal id and sequence numbers seen from two devices

ALL = (SERVER_URL, CURSOR, LAST_OK_AT, LAST_ATTEMPT_AT, LAST_ERROR, CLOCK_DRIFT_S, DATA_AS_OF, OFFLINE_SINCE,
       PUSH_TROUBLE, TERMINAL_FLAGS)
