"""Errors a user of the lab can get back.

`InvalidObject` is a `ValueError` so callers that only know "bad input" can catch it; its
message is what kubectl / the API server would print for the same mistake. Validation errors
carry `causes` (field, reason, message) exactly as the API server's 422 Status lists them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One cause of a 422: `field` is the JSON path (`spec.egress`), reason e.g. FieldValueInvalid."""

    field: str
    message: str  # "Required value", 'Invalid value: "two": must be a valid DNS label'
    reason: str = "FieldValueInvalid"

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidObject(ValueError):
    """A manifest or object the API server (or the lab) rejects; nothing was changed by it."""

    def __init__(self, message: str, *, kind: str = "", name: str = "", causes: tuple[FieldError, ...] = (),
                 code: int = 422, reason: str = "Invalid") -> None:
        super().__init__(message)
        self.kind = kind
        self.name = name
        self.causes = tuple(causes)
        self.code = code
        self.reason = reason

    @classmethod
    def from_causes(cls, kind: str, name: str, causes: list[FieldError], where: str = "") -> InvalidObject:
        """kubectl's wording: `The Pod "x" is invalid: spec.containers: Required value` (bulleted if several)."""
        if len(causes) == 1:
            detail = str(causes[0])
        else:
            detail = "\n" + "\n".join(f"* {c}" for c in causes)
        prefix = f"{where}: " if where else ""
        return cls(f'{prefix}The {kind} "{name}" is invalid: {detail}', kind=kind, name=name, causes=tuple(causes))


class NotFound(LookupError):
    """An object that does not exist (kubectl: `Error from server (NotFound)`)."""

    def __init__(self, message: str, *, kind: str = "", name: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.name = name


class AlreadyExists(InvalidObject):
    """409 AlreadyExists: `pods "x" already exists`."""

    def __init__(self, message: str, *, kind: str = "", name: str = "") -> None:
        super().__init__(message, kind=kind, name=name, code=409, reason="AlreadyExists")


class Conflict(InvalidObject):
    """409 Conflict: an update against a stale resourceVersion."""

    def __init__(self, message: str, *, kind: str = "", name: str = "") -> None:
        super().__init__(message, kind=kind, name=name, code=409, reason="Conflict")
