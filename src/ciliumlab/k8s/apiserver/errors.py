"""`metav1.Status` failures, shaped exactly as the apiserver sends them.

kubectl builds its messages from these fields (for 422 it ignores `message` and prints
`details.kind`, `details.name` and `causes[].field: message`), so the shape matters more than
the prose. Handlers raise `ApiError`; the middleware turns it into the JSON response.
"""

from __future__ import annotations

from typing import Any

from ..kinds import KindInfo


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                "message": self.message, "reason": self.reason}
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def qualified(info: KindInfo) -> str:
    """How the apiserver names a resource in messages: `pods`, `deployments.apps`."""
    return f"{info.plural}.{info.group}" if info.group else info.plural


def _details(info: KindInfo, name: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name}
    if info.group:
        details["group"] = info.group
    details["kind"] = info.plural
    return details


def not_found(info: KindInfo, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{qualified(info)} "{name}" not found', _details(info, name))


def not_found_path() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(info: KindInfo, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{qualified(info)} "{name}" already exists', _details(info, name))


def conflict(info: KindInfo, name: str) -> ApiError:
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {qualified(info)} "{name}": the object has '
                    "been modified; please apply your changes to the latest version and try again",
                    _details(info, name))


def invalid(info: KindInfo, name: str, causes: list[dict[str, str]], fallback: str = "") -> ApiError:
    """422: `Pod "x" is invalid: ...`; CRs are named `Kind.group` like the apiextensions server does."""
    subject = f"{info.kind}.{info.group}" if info.group and not _builtin_group(info.group) else info.kind
    texts = [f"{c['field']}: {c['message']}" if c.get("field") else c["message"] for c in causes]
    if not texts:
        summary = fallback or "invalid object"
    elif len(texts) == 1:
        summary = texts[0]
    else:
        summary = "[" + ", ".join(texts) + "]"
    details: dict[str, Any] = {"name": name}
    if info.group:
        details["group"] = info.group
    details["kind"] = info.kind
    if causes:
        details["causes"] = causes
    return ApiError(422, "Invalid", f'{subject} "{name}" is invalid: {summary}', details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def method_not_allowed() -> ApiError:
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})


def unsupported_media_type() -> ApiError:
    return ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media "
                    "types include: application/json-patch+json, application/merge-patch+json, "
                    "application/apply-patch+yaml")


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {message}",
                    {"causes": [{"message": message}]})


def _builtin_group(group: str) -> bool:
    return group.endswith(".k8s.io") or "." not in group
