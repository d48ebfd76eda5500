"""A body manages its own tokens and keys through the services (the console does);
never another body's, and the API keeps these routes an operator's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import TestClient
from piccolo.engine.base import Engine

from registry.bodies import services as bodies
from registry.bodies.services import HostedKeyVault
from registry.errors import ForbiddenError, InvalidInputError, NotFoundError
from registry.principals import Principal
from registry.settings import Settings
from signing.keys import PrivateKey
from tests.conftest import run
from tests.factories import BodyFixture, count_rows, make_body


@pytest.fixture
def two_bodies(clean_db: Engine, settings: Settings) -> tuple[BodyFixture, BodyFixture]:
    return make_body(settings), make_body(settings, "OTHR", "另一认证机构")


def clerk(code: str) -> Principal:
    return Principal(actor="console:clerk@example.cn", body_code=code)


def test_a_body_rotates_its_own_hosted_key_but_not_another_bodys(
    two_bodies: tuple[BodyFixture, BodyFixture], settings: Settings
) -> None:
    mine, other = two_bodies
    vault = HostedKeyVault(settings.keys)
    now = datetime.now(UTC)
    before = count_rows()
    with pytest.raises(ForbiddenError):
        run(bodies.rotate_hosted_key(other.code, vault=vault, now=now, principal=clerk(mine.code)))
    with pytest.raises(ForbiddenError):
        run(bodies.create_token(other.code, principal=clerk(mine.code)))
    with pytest.raises(NotFoundError):
        run(bodies.revoke_token(other.token[:12], now=now, principal=clerk(mine.code)))
    assert count_rows() == before

    kid = run(bodies.rotate_hosted_key(mine.code, vault=vault, now=now, principal=clerk(mine.code)))
    states = {k["kid"]: k["state"] for k in run(bodies.list_keys(mine.code))}
    assert states == {mine.kid: "retired", kid: "active"}


def test_a_pasted_key_is_read_as_a_public_jwk_and_a_private_one_refused() -> None:
    key = PrivateKey.generate()
    jwk = key.public_key.to_jwk()
    assert bodies.parse_public_key_text(str(jwk).replace("'", '"')) == jwk
    for text in ("", "not a key", '{"kty":"OKP","crv":"Ed25519","x":"AA","d":"AA"}'):
        with pytest.raises(InvalidInputError):
            bodies.parse_public_key_text(text)
    pem = key.to_pkcs8_pem(passphrase=b"secret").decode()
    with pytest.raises(InvalidInputError, match="private key"):
        bodies.parse_public_key_text(pem)


def test_the_api_keeps_tokens_and_keys_an_operators(
    client: TestClient[Any], two_bodies: tuple[BodyFixture, BodyFixture]
) -> None:
    mine, _ = two_bodies
    before = count_rows()
    for path, body in (
        (f"/api/v1/bodies/{mine.code}/tokens", {}),
        (f"/api/v1/bodies/{mine.code}/keys", {"custody": "hosted"}),
    ):
        answer = client.post(path, json=body, headers=mine.auth)
        assert answer.status_code == 403
    assert count_rows() == before
