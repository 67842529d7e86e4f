"""`Debouncer`: one presentation of a card is one read, whatever the reader repeats.

Readers repeat the id while a card stays in the field (RDM6300 every ~0.1 s), and some report a
removal (IronLogic ``No card``, nfcpy's on-release) that is itself unreliable (MIFARE Classic presence
checks fail and give a connect/release every ~0.3 s). So a read is a new presentation when:

- it is a different card than the last one seen, or
- the same card has not been seen for longer than ``window`` seconds, where a removal counts as
  "seen until now" (a card held for a minute and then re-tapped within the window stays one read).

A removal does not end the presentation at once: flaky removals would otherwise turn one tap into
several reads. Readers that never report removals (RDM6300) rely on the window alone.
"""

from __future__ import annotations

import threading

# Seconds a card may go unseen and still be the same presentation. Not the engine's repeat-tap window
# (`pos.serving.REPEAT_TAP_WINDOW`): that one answers a second tap with the first verdict, across readers.
PRESENTATION_WINDOW_S = 1.5


class Debouncer:
    def __init__(self, window: float = PRESENTATION_WINDOW_S) -> None:
        if window < 0:
            raise ValueError("debounce window must be >= 0")
        self.window = window
        self._uid: str | None = None
        self._last_seen = 0.0
        self._lock = threading.Lock()  # the wedge decoder may feed from the UI thread

    def accept(self, uid: str, now: float) -> bool:
        """Record a sighting of ``uid`` at monotonic time ``now``; True if it is a new presentation."""
        with self._lock:
            repeat = uid == self._uid and now - self._last_seen <= self.window
            self._uid, self._last_seen = uid, now
            return not repeat

    def release(self, now: float) -> None:
        """The reader reports the card gone: the window starts now."""
        with self._lock:
            if self._uid is not None:
                self._last_seen = max(self._last_seen, now)

