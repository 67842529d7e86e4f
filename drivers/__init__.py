"""Card readers: bytes, ports and NFC in; `CardRead` out. Knows nothing of students or meals."""
