"""The console's tokens and keys pages, and the operator's bodies and users pages."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar.testing import TestClient

from registry.bodies.tables import ApiToken
from signing.instants import CST
from tests.conftest import run
from tests.factories import BodyFixture, certificate_fields, count_rows
from tests.registry.console.conftest import console_message, csrf_token, make_user, sign_in
from tests.registry.console.test_certificates import audit_actors, post_form

_SECRET = re.compile(r'id="token-secret"[^>]*value="(smk_[^"]+)"')
_LINK = re.compile(r'id="link-secret"[^>]*value="([^"]+)"')


@pytest.fixture
def operator(console: TestClient[Any], body: BodyFixture) -> TestClient[Any]:
    make_user("ops@registry.example")
    assert sign_in(console, "ops@registry.example").status_code == 303
    return console


def _create_token(client: TestClient[Any], label: str = "ERP") -> tuple[Any, str]:
    answer = post_form(client, "/console/tokens", {"label": label}, "/console/tokens")
    found = _SECRET.search(answer.text)
    return answer, found.group(1) if found else ""


def test_a_token_is_shown_once_works_against_the_api_and_is_refused_once_revoked(
    clerk: TestClient[Any], body: BodyFixture
) -> None:
    answer, token = _create_token(clerk)
    assert answer.status_code == 201
    assert console_message(answer.text)[0] == "ok"  # type: ignore[index]
    assert token.startswith("smk_")
    # Shown once: the list and any later page carry only its prefix.
    again = clerk.get("/console/tokens")
    assert token not in again.text
    prefix = token[:12]
    assert f'data-prefix="{prefix}"' in again.text
    assert audit_actors("token.create")[-1] == "console:clerk@cqct.example"

    issued = clerk.post(
        "/api/v1/certificates",
        json=certificate_fields("SMT-2026-0100"),
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    assert issued.status_code == 201

    unconfirmed = post_form(clerk, f"/console/tokens/{prefix}/revoke", {}, "/console/tokens")
    assert unconfirmed.status_code == 422
    revoked = post_form(
        clerk, f"/console/tokens/{prefix}/revoke", {"confirm": "yes"}, "/console/tokens"
    )
    assert revoked.status_code == 303
    assert console_message(clerk.get("/console/tokens").text) == (
        "ok",
        f"Token {prefix} revoked.",
    )
    refused = clerk.post(
        "/api/v1/certificates",
        json=certificate_fields("SMT-2026-0101"),
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    assert refused.status_code == 401


_LAST_USED = re.compile(r'<tr data-prefix="([^"]+)">.*?<td data-last-used>([^<]*)</td>', re.S)


def test_the_tokens_page_says_when_each_token_was_last_used(
    clerk: TestClient[Any], body: BodyFixture
) -> None:
    _, unused = _create_token(clerk, "spare")
    _, token = _create_token(clerk, "ERP")

    def last_used() -> dict[str, str]:
        page = clerk.get("/console/tokens", headers={"Accept-Language": "zh-CN"})
        return dict(_LAST_USED.findall(page.text))

    assert last_used()[token[:12]] == "从未使用"

    def stored() -> datetime | None:
        row = run(
            ApiToken.select(ApiToken.last_used_at)
            .where(ApiToken.prefix == token[:12])
            .first()
            .run()
        )
        assert row is not None
        return row["last_used_at"]  # type: ignore[no-any-return]

    before = datetime.now(UTC)
    noted = []
    for number in ("SMT-2026-0110", "SMT-2026-0111"):
        issued = clerk.post(
            "/api/v1/certificates",
            json=certificate_fields(number),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        assert issued.status_code == 201, issued.text
        noted.append(stored())
    # Two uses within the hour are one write: the second finds the first's time fresh.
    assert noted[0] is not None and noted[1] == noted[0]
    assert before - timedelta(seconds=1) <= noted[0] <= datetime.now(UTC)

    shown = last_used()
    assert shown[unused[:12]] == "从未使用"
    # In China Standard Time, to the minute, as the console's other times.
    assert shown[token[:12]] == noted[0].astimezone(CST).strftime("%Y-%m-%d %H:%M")


def test_a_viewer_reads_tokens_and_keys_but_cannot_create_or_rotate(
    console: TestClient[Any], body: BodyFixture
) -> None:
    make_user("viewer@cqct.example", body=body.code, role="viewer")
    sign_in(console, "viewer@cqct.example")
    assert console.get("/console/tokens").status_code == 200
    assert console.get("/console/keys").status_code == 200
    before = count_rows()
    token = csrf_token(console, "/console/tokens")
    for path, form in (
        ("/console/tokens", {"label": "x"}),
        ("/console/keys/rotate", {"confirm": "yes"}),
    ):
        answer = console.post(path, data={**form, "_csrf_token": token})
        assert answer.status_code == 403
        assert console_message(answer.text)[0] == "error"  # type: ignore[index]
    assert count_rows() == before


def test_rotating_the_hosted_key_signs_new_certificates_with_the_new_kid(
    clerk: TestClient[Any], body: BodyFixture
) -> None:
    answer = post_form(clerk, "/console/keys/rotate", {"confirm": "yes"}, "/console/keys")
    assert answer.status_code == 303
    page = clerk.get("/console/keys")
    states = dict(re.findall(r'data-kid="([^"]+)" data-state="([^"]+)"', page.text))
    assert states[str(body.kid)] == "retired"
    new_kid = next(kid for kid, state in states.items() if state == "active")
    issued = post_form(
        clerk,
        "/console/certificates/new",
        {
            "number": "SMT-2026-0200",
            "score": "92.5",
            "holder.name": "青岛海川智能家电有限公司",
            "holder.uscc": certificate_fields("SMT-2026-0200")["holder"]["uscc"],
            "scope.zh": "冰箱的安装和维修服务",
            "issued_on": certificate_fields()["issued_on"],
            "valid_from": certificate_fields()["valid_from"],
        },
        "/console/certificates/new",
    )
    assert issued.status_code == 303
    verdict = clerk.get("/api/v1/certificates/SMT-2026-0200/verification").json()
    assert verdict["status"] == "valid"
    assert verdict["signature"]["kid"] == new_kid
    assert audit_actors("key.add")[-1] == "console:clerk@cqct.example"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _keys() -> tuple[str, str, str]:
    """(public PEM, private PEM, private JWK) of one Ed25519 key."""
    private = Ed25519PrivateKey.generate()
    public = private.public_key()
    public_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    x = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64(x), "d": _b64(raw)}
    return public_pem, private_pem, json.dumps(jwk)


def test_an_own_public_key_is_registered_and_a_private_key_refused(
    clerk: TestClient[Any], body: BodyFixture
) -> None:
    public_pem, private_pem, private_jwk = _keys()
    for pasted in (private_pem, private_jwk, public_pem + "\n" + private_pem):
        before = count_rows()
        answer = post_form(clerk, "/console/keys/own", {"public_key": pasted}, "/console/keys")
        assert answer.status_code == 422
        result, text = console_message(answer.text)  # type: ignore[misc]
        assert result == "error"
        assert "private key" in text
        # Nothing stored, and the private key is not sent back into the form.
        assert count_rows() == before
        assert "PRIVATE KEY-----" not in answer.text
        assert '"d"' not in answer.text.replace("&#34;", '"').split("<textarea")[-1][:200]
    backdated = post_form(
        clerk,
        "/console/keys/own",
        {"public_key": public_pem, "not_before": "2020-01-01"},
        "/console/keys",
    )
    assert backdated.status_code == 422
    assert 'id="not_before-problem"' in backdated.text
    answer = post_form(clerk, "/console/keys/own", {"public_key": public_pem}, "/console/keys")
    assert answer.status_code == 303
    page = clerk.get("/console/keys")
    assert 'data-custody="own"' in page.text
    assert console_message(page.text)[0] == "ok"  # type: ignore[index]


def test_an_operator_adds_a_body_and_a_user_and_edits_contact_fields(
    operator: TestClient[Any],
) -> None:
    bad = post_form(
        operator,
        "/console/bodies",
        {"code": "x", "name": "新认证中心", "website": "ftp://nope"},
        "/console/bodies",
    )
    assert bad.status_code == 422
    assert 'value="新认证中心"' in bad.text
    added = post_form(
        operator,
        "/console/bodies",
        {
            "code": "NEWB",
            "name": "新认证中心",
            "name_en": "New Certification Centre",
            "approval_no": "CNCA-R-2020-012",
            "website": "https://newb.example.cn",
            "phone": "+86 10 1234 5678",
        },
        "/console/bodies",
    )
    assert added.status_code == 303
    listing = operator.get("/console/bodies")
    assert 'data-code="NEWB"' in listing.text
    assert console_message(listing.text) == ("ok", "Body NEWB added.")
    assert operator.get("/api/v1/bodies").json()["items"][-1]["approval_no"] == "CNCA-R-2020-012"
    saved = post_form(
        operator,
        "/console/bodies/NEWB",
        {"name_en": "New Centre", "approval_no": "", "website": "", "phone": "010 1234 5678"},
        "/console/bodies/NEWB",
    )
    assert saved.status_code == 303
    newb = next(b for b in operator.get("/api/v1/bodies").json()["items"] if b["code"] == "NEWB")
    assert (newb["name_en"], newb["approval_no"], newb["phone"]) == (
        "New Centre",
        None,
        "010 1234 5678",
    )

    user = post_form(
        operator,
        "/console/users",
        {"email": "clerk@newb.example", "body": "NEWB", "role": "issuer"},
        "/console/users",
    )
    assert user.status_code == 201
    link = _LINK.search(user.text)
    assert link and "/console/set-password?token=" in link.group(1)
    assert audit_actors("console.user.add")[-1] == "console:ops@registry.example"
    # The link works once: the new clerk sets a password and signs in.
    target = link.group(1).split("/console", 1)[1]
    page = operator.get(f"/console{target}")
    assert page.status_code == 200


def test_an_operator_marks_a_key_compromised_with_confirmation(
    operator: TestClient[Any], body: BodyFixture
) -> None:
    path = f"/console/bodies/{body.code}/keys"
    unconfirmed = post_form(operator, f"{path}/{body.kid}/compromise", {}, path)
    assert unconfirmed.status_code == 422
    answer = post_form(operator, f"{path}/{body.kid}/compromise", {"confirm": "yes"}, path)
    assert answer.status_code == 303
    page = operator.get(path)
    assert f'data-kid="{body.kid}" data-state="compromised"' in page.text
    assert audit_actors("key.compromise")[-1] == "console:ops@registry.example"


def test_a_body_account_cannot_reach_the_operator_pages(
    clerk: TestClient[Any], body: BodyFixture
) -> None:
    for path in ("/console/bodies", "/console/users", f"/console/bodies/{body.code}/keys"):
        assert clerk.get(path).status_code == 403
    before = count_rows()
    answer = post_form(
        clerk, "/console/bodies", {"code": "EVIL", "name": "坏机构"}, "/console/tokens"
    )
    assert answer.status_code == 403
    assert count_rows() == before


def test_a_body_clerk_cannot_see_another_bodys_tokens(
    clerk: TestClient[Any], body: BodyFixture, other_body: BodyFixture
) -> None:
    # `?body=` is an operator's choice; a clerk always sees their own body.
    page = clerk.get(f"/console/tokens?body={other_body.code}")
    assert f"· {body.code}" in page.text and other_body.token[:12] not in page.text
    answer = post_form(
        clerk,
        f"/console/tokens/{other_body.token[:12]}/revoke",
        {"confirm": "yes"},
        "/console/tokens",
    )
    assert answer.status_code == 404
    refused = clerk.post(
        "/api/v1/certificates",
        json=certificate_fields("SMT-2026-0300"),
        headers={"Authorization": f"Bearer {other_body.token}", "Accept": "application/json"},
    )
    assert refused.status_code == 201  # still working


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/console/tokens", {"label": "x"}),
        ("/console/tokens/{prefix}/revoke", {"confirm": "yes"}),
        ("/console/keys/rotate", {"confirm": "yes"}),
        ("/console/keys/own", {"public_key": "{}"}),
        ("/console/bodies", {"code": "NEWB", "name": "新认证中心"}),
        ("/console/bodies/{code}", {"phone": "010 1234 5678"}),
        ("/console/bodies/{code}/keys/{kid}/compromise", {"confirm": "yes"}),
        ("/console/users", {"email": "a@b.example", "body": "operator", "role": "issuer"}),
        ("/console/users/{user}/disable", {"confirm": "yes"}),
    ],
)
def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    operator: TestClient[Any], body: BodyFixture, path: str, form: dict[str, str]
) -> None:
    make_user("other@cqct.example", body=body.code)
    user_id = run(_user_id("other@cqct.example"))
    operator.get("/console/users")  # the CSRF cookie is there; the field is not
    before = count_rows()
    target = path.format(prefix=body.token[:12], code=body.code, kid=body.kid, user=user_id)
    answer = operator.post(target, data=form, follow_redirects=False)
    assert answer.status_code == 403
    result, text = console_message(answer.text)  # type: ignore[misc]
    assert result == "error"
    assert "nothing was changed" in text  # in the page's language (English here)
    assert count_rows() == before


async def _user_id(email: str) -> int:
    from registry.console.tables import ConsoleUser

    row = await ConsoleUser.select(ConsoleUser.id).where(ConsoleUser.email == email).first()
    assert row is not None
    return int(row["id"])


def test_an_operator_disables_an_account(operator: TestClient[Any], body: BodyFixture) -> None:
    make_user("leaver@cqct.example", body=body.code)
    user_id = run(_user_id("leaver@cqct.example"))
    answer = post_form(
        operator, f"/console/users/{user_id}/disable", {"confirm": "yes"}, "/console/users"
    )
    assert answer.status_code == 303
    assert 'data-email="leaver@cqct.example"' in operator.get("/console/users").text
    assert audit_actors("console.user.disable") == ["console:ops@registry.example"]


def test_the_pages_speak_chinese(clerk: TestClient[Any]) -> None:
    tokens = clerk.get("/console/tokens", headers={"Accept-Language": "zh-CN"})
    assert "创建令牌" in tokens.text
    keys = clerk.get("/console/keys", headers={"Accept-Language": "zh-CN"})
    assert "更换托管密钥" in keys.text and "登记自有公钥" in keys.text


def test_an_operator_chooses_the_body_whose_tokens_and_keys_to_manage(
    operator: TestClient[Any], body: BodyFixture
) -> None:
    chooser = operator.get("/console/tokens")
    assert f'href="/console/tokens?body={body.code}"' in chooser.text
    page = operator.get(f"/console/tokens?body={body.code}")
    assert f'data-prefix="{body.token[:12]}"' in page.text
    answer = post_form(
        operator, f"/console/tokens?body={body.code}", {"label": "ops"}, "/console/users"
    )
    assert answer.status_code == 201
    assert audit_actors("token.create")[-1] == "console:ops@registry.example"
    assert operator.get("/console/keys?body=NOPE").status_code == 404
