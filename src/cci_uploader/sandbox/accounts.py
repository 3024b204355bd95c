"""The stand-in's identity: whether it is the training sandbox, and its accounts' passwords."""

from __future__ import annotations

import hmac
import threading


class Passwords:
    """The seeded accounts' passwords (user name -> password), in memory only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_user: dict[str, str] = {}

    def set(self, user_name: str, password: str) -> None:
        with self._lock:
            self._by_user[user_name] = password

    def check(self, user_name: str, password: str) -> bool:
        with self._lock:
            known = self._by_user.get(user_name)
        return known is not None and hmac.compare_digest(known, password)


class Identity:
    """Whether the stand-in is the training sandbox, and the accounts' passwords.

    Tests that let the stand-in play the facility's server set ``training`` to False.
    """

    def __init__(self) -> None:
        self.training = True
        self.passwords = Passwords()
