"""Test helpers for the OMERO stand-in shared across test folders."""

from __future__ import annotations

import datetime as dt


class Clock:
    """The stand-in's "now": real time, moved by tests instead of sleeping."""

    def __init__(self) -> None:
        self.real = dt.datetime.now(dt.UTC)
        self.now = self.real

    def __call__(self) -> dt.datetime:
        return self.now

    def days_ago(self, days: float) -> None:
        self.now = self.real - dt.timedelta(days=days)
