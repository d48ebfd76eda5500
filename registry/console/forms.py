"""Console forms to the API's request shapes, and the API's problems back to the fields.

The issue and revision forms name their fields as the API does, with dots
(`holder.name`, `scope.zh`); `sites` is one site a line. What is sent to the
write service is exactly what `POST /api/v1/certificates` would get, so the
same rules answer, and the problems it names (`holder.uscc`) land beside the
field of that name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from registry.errors import FieldError
from signing.documents import CertificatePayload

__all__ = [
    "CERTIFICATE_FIELDS",
    "certificate_request",
    "field_messages",
    "form_from_payload",
]

#: The form's fields, in the order the form shows them.
CERTIFICATE_FIELDS: Final = (
    "number",
    "score",
    "holder.name",
    "holder.name_en",
    "holder.uscc",
    "holder.address",
    "scope.zh",
    "scope.en",
    "sites",
    "issued_on",
    "valid_from",
    "valid_until",
)
_OPTIONAL: Final = {"holder.name_en", "holder.address", "scope.en", "sites", "valid_until"}


def certificate_request(form: Mapping[str, str], *, with_number: bool = True) -> dict[str, Any]:
    """The API request body the form stands for (empty optional fields left out)."""
    request: dict[str, Any] = {}
    for name in CERTIFICATE_FIELDS:
        if name == "number" and not with_number:
            continue
        text = str(form.get(name, "")).strip()
        if not text and name in _OPTIONAL:
            continue
        value: Any = text
        # `score` stays text: the payload takes a numeric string as the API's number.
        if name == "sites":
            value = [line.strip() for line in text.splitlines() if line.strip()]
        head, _, tail = name.partition(".")
        if tail:
            request.setdefault(head, {})[tail] = value
        else:
            request[name] = value
    return request


def field_messages(errors: Sequence[FieldError]) -> dict[str, list[str]]:
    """Problems by form field: `sites[2]` is the `sites` field, `jws.x` is not a field."""
    by_field: dict[str, list[str]] = {}
    for error in errors:
        name = error.field.split("[", 1)[0]
        if name not in CERTIFICATE_FIELDS:
            name = name.split(".", 1)[0] if name.split(".", 1)[0] in CERTIFICATE_FIELDS else ""
        by_field.setdefault(name, []).append(error.message)
    return by_field


def form_from_payload(payload: CertificatePayload) -> dict[str, str]:
    """A revision form prefilled from the revision in force."""
    data: dict[str, Any] = payload.to_json()
    holder = data.get("holder") or {}
    scope = data.get("scope") or {}
    return {
        "number": payload.number,
        "score": str(data.get("score", "")),
        "holder.name": holder.get("name") or "",
        "holder.name_en": holder.get("name_en") or "",
        "holder.uscc": holder.get("uscc") or "",
        "holder.address": holder.get("address") or "",
        "scope.zh": scope.get("zh") or "",
        "scope.en": scope.get("en") or "",
        "sites": "\n".join(data.get("sites") or []),
        "issued_on": str(data.get("issued_on", "")),
        "valid_from": str(data.get("valid_from", "")),
        "valid_until": str(data.get("valid_until", "")),
    }
