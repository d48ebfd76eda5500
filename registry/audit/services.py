"""The audit log: one row per write, in the write's own transaction."""

from __future__ import annotations

import json
from typing import Any

from piccolo.query.methods.insert import Insert

from registry.audit.tables import AuditEntry
from registry.principals import Principal


def audit_entry(
    principal: Principal, action: str, subject: str, **detail: Any
) -> Insert[AuditEntry]:
    """An insert to run inside the write it records."""
    return AuditEntry.insert(
        AuditEntry(
            actor=principal.actor,
            actor_body=principal.body_code,
            action=action,
            subject=subject,
            request_id=principal.request_id,
            detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
        )
    )
