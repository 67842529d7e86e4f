"""Widgets of the serving screen, one per area: verdict, history, break board, status line."""
