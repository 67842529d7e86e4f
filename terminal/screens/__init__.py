"""Screens of the terminal, one per job: serving, finding a student, the day's summary, dialogs."""
