"""Widgets of the main window, one per file; they show state and emit what the user asks."""
