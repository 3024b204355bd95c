"""Dialogs and windows opened from the main window, and the questions it asks."""
