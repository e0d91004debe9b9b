"""Small domain exceptions, raised where the problem is known and handled at each edge."""

from __future__ import annotations

from pathlib import Path


class PomocnikError(Exception):
    """Base class of the project's own errors; its message is fit for an operator."""


class InvalidDocument(PomocnikError):
    """A knowledge file that cannot be indexed; ``str()`` reads ``path: reason``.

    ``reason`` is a Polish sentence fragment (lower case, no full stop) saying
    what is wrong and, where it helps, what to do: maintainers read it after
    "Pominięte pliki" in the /reindex reply and in ``python -m index build``.
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class IndexNotBuilt(PomocnikError):
    """No usable index version exists yet."""


class ModelNotAvailable(PomocnikError):
    """The embedding model cannot be loaded from the configured name or path."""


def describe_error(error: Exception) -> str:
    """The one sentence a command line prints for an expected error.

    Handles the project's own errors and invalid settings (pydantic's
    ``ValidationError``, raised when the environment holds a bad value).
    """
    errors = getattr(error, "errors", None)
    if not isinstance(error, PomocnikError) and callable(errors):
        first = errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"niepoprawne ustawienie {where}: {first['msg']}."
    return str(error)
