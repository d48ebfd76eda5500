"""Fixtures of the `signing` tests: the conformance vectors and signed documents.

The vectors (RFC 8785 and Wycheproof Ed25519) live in ``tests/vectors``, copied
from the standards' sources (see its README). They are the independent check that
we speak the standards: when they are missing, the tests fail instead of quietly
skipping.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from signing.documents import CertificatePayload, StatusEventPayload
from signing.jwks import KeySet
from signing.jws import CERTIFICATE_TYP, STATUS_TYP, sign_compact
from signing.keys import KeyRecord, PrivateKey
from signing.status import EventStatus

#: The one place the conformance vectors are located: tests/vectors.
VECTORS_DIR = Path(__file__).resolve().parents[1] / "vectors"

#: Signing time of the default documents.
SIGNED_AT = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
#: An instant when the default certificate is valid.
DURING = datetime(2026, 3, 1, tzinfo=UTC)
BODY = "CQC"
BODY_NAME = "中国质量认证中心"
NUMBER = "CQC-2026-ASS-0001"
USCC = "91370200264574251E"


def _vectors() -> Path:
    if not VECTORS_DIR.is_dir():
        pytest.fail(
            f"the conformance vectors are missing: expected {VECTORS_DIR}",
            pytrace=False,
        )
    return VECTORS_DIR


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    """``tests/vectors``; fails the test when it is missing."""
    return _vectors()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test id per vector: ``jcs_vector`` (file stem), ``wycheproof_case`` (tcId)."""
    if "jcs_vector" in metafunc.fixturenames:
        names = sorted(p.stem for p in (_vectors() / "jcs" / "input").glob("*.json"))
        if not names:
            pytest.fail("no RFC 8785 vectors in jcs/input", pytrace=False)
        metafunc.parametrize("jcs_vector", names)
    if "wycheproof_case" in metafunc.fixturenames:
        data = json.loads((_vectors() / "wycheproof" / "ed25519_test.json").read_text())
        cases = [
            (group["publicKey"]["pk"], test)
            for group in data["testGroups"]
            for test in group["tests"]
        ]
        if len(cases) != data["numberOfTests"]:
            pytest.fail("the Wycheproof file lists more tests than it holds", pytrace=False)
        metafunc.parametrize(
            "wycheproof_case",
            cases,
            ids=[f"tc{t['tcId']}-{t['result']}" for _, t in cases],
        )


@pytest.fixture(scope="session")
def body_key() -> PrivateKey:
    """The certification body's key (fixed seed: deterministic signatures)."""
    return PrivateKey.from_seed(bytes(range(32)))


@pytest.fixture(scope="session")
def other_key() -> PrivateKey:
    """Another body's key."""
    return PrivateKey.from_seed(bytes(range(100, 132)))


@pytest.fixture(scope="session")
def keyset(body_key: PrivateKey, other_key: PrivateKey) -> KeySet:
    """Both keys, each bound to its body, valid from 2025."""
    since = datetime(2025, 1, 1, tzinfo=UTC)
    return KeySet.of(
        KeyRecord(body_key.public_key, body=BODY, not_before=since),
        KeyRecord(other_key.public_key, body="OTHER", not_before=since),
    )


def certificate_fields(**overrides: Any) -> dict[str, Any]:
    """POST fields (PRODUCT §4) of a realistic certificate, with overrides."""
    fields: dict[str, Any] = {
        "number": NUMBER,
        "score": 92.5,
        "holder": {
            "name": "青岛海尔智家股份有限公司",
            "name_en": "Haier Smart Home Co., Ltd.",
            "uscc": USCC,
            "address": "山东省青岛市崂山区海尔路1号",
        },
        "scope": {
            "zh": "家用电器（冰箱、洗衣机、空调）的售后服务",
            "en": "After-sales service of household appliances",
        },
        "sites": ["青岛市崂山区海尔路1号"],
        "issued_on": "2026-01-05",
        "valid_from": "2026-01-05",
    }
    fields.update(overrides)
    return fields


@dataclass
class Docs:
    """Builds and signs certificate revisions and status events for tests."""

    key: PrivateKey
    body: str = BODY
    number: str = NUMBER
    revisions: list[CertificatePayload] = field(default_factory=list)

    def certificate(
        self,
        *,
        revision: int = 1,
        signed_at: datetime = SIGNED_AT,
        **overrides: Any,
    ) -> CertificatePayload:
        return CertificatePayload.build(
            certificate_fields(**{"number": self.number, **overrides}),
            issuer_code=self.body,
            issuer_name=BODY_NAME,
            revision=revision,
            signed_at=signed_at,
        )

    def event(
        self,
        status: EventStatus | str,
        effective_at: datetime | str,
        *,
        revision: int = 1,
        signed_at: datetime | None = None,
        reason: str | None = None,
    ) -> StatusEventPayload:
        effective = effective_at if isinstance(effective_at, str) else effective_at.isoformat()
        fields: dict[str, Any] = {"status": str(status), "effective_at": effective}
        if reason is not None:
            fields["reason"] = reason
        built = StatusEventPayload.build(
            fields,
            number=self.number,
            revision=revision,
            issuer_code=self.body,
            signed_at=signed_at or SIGNED_AT,
        )
        if signed_at is None:
            # Signed when it takes effect, unless the test says otherwise.
            return StatusEventPayload(
                number=built.number,
                revision=built.revision,
                status=built.status,
                effective_at=built.effective_at,
                issuer=built.issuer,
                signed_at=max(built.effective_at, SIGNED_AT),
                reason=built.reason,
            )
        return built

    def sign(
        self, payload: CertificatePayload | StatusEventPayload, key: PrivateKey | None = None
    ) -> str:
        typ = CERTIFICATE_TYP if isinstance(payload, CertificatePayload) else STATUS_TYP
        return sign_compact(payload.to_json(), key=key or self.key, typ=typ)


@pytest.fixture
def docs(body_key: PrivateKey) -> Docs:
    """A document factory signing with the body's key."""
    return Docs(key=body_key)


@pytest.fixture
def valid_from() -> date:
    return date(2026, 1, 5)


@pytest.fixture
def make_fields() -> Any:
    """`certificate_fields`: POST fields of a realistic certificate, with overrides."""
    return certificate_fields
