"""Card readers: bytes, ports and NFC in; `CardRead` out. Knows nothing of students or meals.

- `drivers.card`: `CardRead`, canonical card ids and their conversions (EM-Marine, D10, W26, UID).
- `drivers.base`: the `Reader` interface (``start(sink)`` / ``stop()``), `ReaderStatus`, `ReaderStats`,
  and the threaded connect / read / reconnect loop shared by the device readers.
- `drivers.debounce`: one presentation of a card is one read.
- `drivers.lines`, `drivers.frames`: text-line formats (presets and regexes) and RDM6300 framing.
- `drivers.serial_reader`, `drivers.nfc_reader`, `drivers.wedge`, `drivers.evdev_reader`,
  `drivers.sim`: one driver per kind of reader.
- `drivers.config`: `ReaderConfig` (the terminal's ``[reader]`` table) and `build_reader`.
- `drivers.cli`: ``canteen readers`` (list) and ``canteen readers watch DEVICE``.
"""
