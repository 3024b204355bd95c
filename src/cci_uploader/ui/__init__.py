"""The desktop window (PySide6): the only part of the app that imports Qt."""
