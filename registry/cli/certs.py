"""`starmark cert`: issue, import and change the status of certificates."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import click
import httpx
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from registry.bodies import services as bodies
from registry.bodies.services import HostedKeyVault
from registry.certificates import importer, services
from registry.certificates.services import WriteContext
from registry.cli.context import certificate_answer, fail, now, run_with_database
from registry.errors import FieldError, InvalidInputError, RegistryError
from registry.imports.reading import read_table
from registry.metrics import IMPORT_ROWS
from registry.principals import Principal
from registry.settings import KeyFileSettings, Settings
from signing.documents import CertificatePayload, StatusEventPayload
from signing.errors import InvalidKeyError, InvalidPayloadError, MalformedError
from signing.fields import read_json
from signing.jws import CERTIFICATE_TYP, STATUS_TYP, sign_compact
from signing.keys import PrivateKey


def load_key_file(path: Path) -> PrivateKey:
    passphrase = KeyFileSettings.from_env().passphrase
    if not passphrase:
        raise click.UsageError("set STARMARK_KEY_PASSPHRASE to unlock the key file")
    try:
        return PrivateKey.from_pkcs8_pem(path.read_bytes(), passphrase=passphrase)
    except OSError as e:
        fail(f"cannot read key file {path}: {e.strerror}", code=2)
    except InvalidKeyError as e:
        fail(f"cannot use key file {path}: {e}", code=2)


def read_json_file(path: Path) -> dict[str, Any]:
    # The registry's JSON rules (depth, duplicate members, NUL...), as for a request body.
    try:
        data = read_json(path.read_bytes())
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror}", code=2)
    except MalformedError as e:
        fail(f"{path} is not a JSON file the registry accepts: {e}", code=2)
    if not isinstance(data, dict):
        fail(f"{path} must hold a JSON object with the certificate's fields", code=2)
    return data


def report_payload_error(err: InvalidPayloadError) -> None:
    fail(
        "the certificate breaks the rules:\n"
        + "\n".join(f"  {p.field}: {p.message}" for p in err.problems)
    )


class RemoteRegistry:
    """A registry reached over HTTP with a body token (`--registry URL --token T`)."""

    def __init__(self, url: str, token: str | None) -> None:
        if not token:
            raise click.UsageError("--registry needs --token (or STARMARK_TOKEN)")
        self.client = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    def issuer_name(self, body_code: str) -> str:
        cursor = None
        while True:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = self._call("GET", "/api/v1/bodies", params=params)
            for item in page["items"]:
                if item["code"] == body_code.upper():
                    return str(item["name"])
            cursor = page.get("next_cursor")
            if not cursor:
                fail(f"the registry knows no body {body_code}")

    def certificate(self, number: str) -> dict[str, Any]:
        """The certificate document (`GET /api/v1/certificates/{number}`)."""
        return self._call("GET", f"/api/v1/certificates/{quote(number, safe='')}")

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", path, json=body)

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as e:
            fail(f"cannot reach the registry: {e}")
        if response.status_code >= 400:
            try:
                problem = response.json()
                lines = [problem.get("detail", response.text)]
                lines += [f"  {e['field']}: {e['message']}" for e in problem.get("errors", [])]
            except ValueError:
                lines = [response.text[:500]]
            fail(f"the registry answered {response.status_code}: " + "\n".join(lines))
        result: dict[str, Any] = response.json()
        return result


def echo_certificate(document: dict[str, Any]) -> None:
    cert = document["certificate"]
    kid = document["revisions"][-1]["kid"]
    click.echo(
        f"{document['number']} revision {cert['revision']}: {document['status']}, "
        f"{cert['level']}, {cert['holder']['name']} (signed with key {kid})"
    )


@click.group(name="cert")
def cert_group() -> None:
    """Certificates."""


@cert_group.command(name="issue")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--body", "body_code", required=True, help="The issuing body's code.")
@click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Sign locally with this key file instead of the body's hosted key.",
)
@click.option(
    "--registry", "registry_url", help="Upload to this registry instead of the local database."
)
@click.option("--token", envvar="STARMARK_TOKEN", help="The body's API token (with --registry).")
def cert_issue(
    file: Path, body_code: str, key_file: Path | None, registry_url: str | None, token: str | None
) -> None:
    """Issue a certificate from a JSON file shaped like POST /api/v1/certificates."""
    fields = read_json_file(file)
    key = load_key_file(key_file) if key_file else None
    body_code = body_code.upper()

    def signed_request(issuer_name: str) -> dict[str, Any]:
        if key is None:
            return fields
        try:
            payload = CertificatePayload.build(
                fields, issuer_code=body_code, issuer_name=issuer_name, revision=1, signed_at=now()
            )
        except InvalidPayloadError as e:
            report_payload_error(e)
        return {"jws": sign_compact(payload.to_json(), key=key, typ=CERTIFICATE_TYP)}

    if registry_url:
        remote = RemoteRegistry(registry_url, token)
        request = signed_request(remote.issuer_name(body_code) if key else "")
        echo_certificate(remote.post("/api/v1/certificates", request))
        return

    async def work(settings: Settings, vault: HostedKeyVault) -> dict[str, Any]:
        body = await bodies.get_body(body_code)
        ctx = WriteContext(principal=Principal.cli(body_code=body_code), now=now(), vault=vault)
        stored = await services.issue_certificate(signed_request(body["name"]), ctx=ctx)
        return await certificate_answer(stored.number, now=ctx.now)

    echo_certificate(run_with_database(work))


@cert_group.command(name="status")
@click.argument("number")
@click.argument(
    "status",
    type=click.Choice(["suspended", "reinstated", "revoked", "withdrawn", "surveillance_passed"]),
)
@click.option("--reason", default=None, help="Why (shown on the verification page).")
@click.option(
    "--at",
    "effective_at",
    default=None,
    help="When it took effect (RFC 3339 or date); default now.",
)
@click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Sign locally with this key file instead of the hosted key.",
)
@click.option(
    "--registry", "registry_url", help="Send to this registry instead of the local database."
)
@click.option("--token", envvar="STARMARK_TOKEN", help="The body's API token (with --registry).")
def cert_status(
    number: str,
    status: str,
    reason: str | None,
    effective_at: str | None,
    key_file: Path | None,
    registry_url: str | None,
    token: str | None,
) -> None:
    """Suspend, reinstate, revoke or withdraw a certificate (a signed status event)."""
    fields: dict[str, Any] = {"status": status}
    if reason:
        fields["reason"] = reason
    if effective_at:
        fields["effective_at"] = effective_at
    key = load_key_file(key_file) if key_file else None
    number = number.strip().upper()

    def signed_request(body_code: str, revision: int) -> dict[str, Any]:
        if key is None:
            return fields
        try:
            event = StatusEventPayload.build(
                fields,
                number=number,
                revision=revision,
                issuer_code=body_code,
                signed_at=now(),
                now=now(),
            )
        except InvalidPayloadError as e:
            report_payload_error(e)
        return {"jws": sign_compact(event.to_json(), key=key, typ=STATUS_TYP)}

    if registry_url:
        remote = RemoteRegistry(registry_url, token)
        current = remote.certificate(number)
        request = signed_request(current["body"], current["certificate"]["revision"])
        echo_certificate(remote.post(f"/api/v1/certificates/{number}/events", request))
        return

    async def work(settings: Settings, vault: HostedKeyVault) -> dict[str, Any]:
        stored = await services.require_certificate(number)
        body_code = stored.row["body_code"]
        ctx = WriteContext(principal=Principal.cli(body_code=body_code), now=now(), vault=vault)
        stored = await services.add_status_event(
            number, signed_request(body_code, stored.row["current_revision"]), ctx=ctx
        )
        return await certificate_answer(stored.number, now=ctx.now)

    echo_certificate(run_with_database(work))


@cert_group.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--body", "body_code", required=True, help="The issuing body's code.")
@click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Sign with this key file instead of the body's hosted key.",
)
@click.option("--all-or-nothing", is_flag=True, help="One bad row rejects the whole file.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def cert_import(
    file: Path, body_code: str, key_file: Path | None, all_or_nothing: bool, quiet: bool
) -> None:
    """Issue certificates from CSV (UTF-8 or GB18030) or Excel .xlsx with a header row.

    Columns: number, holder_name, holder_name_en?, uscc, address?, scope_zh,
    scope_en?, score, issued_on, valid_from, valid_until?, sites? (sites
    separated by ';'), or their Chinese names (docs/import.md).

    Resumable: run again after a crash, the same file stores what is missing;
    rows already stored with the same content count as done.
    """
    try:
        # A file on the server's disk: no upload limits (bulk issuance, docs/import.md).
        rows = read_table(file.name, file.read_bytes(), upload_limits=False).rows
    except RegistryError as e:
        fail(e.detail + "".join(f"\n  {p.field}: {p.message}" for p in e.errors), code=1)
    key = load_key_file(key_file) if key_file else None
    body_code = body_code.upper()

    async def work(settings: Settings, vault: HostedKeyVault) -> importer.ImportReport:
        moment = now()
        signer = key or await bodies.active_hosted_signer(body_code, vault=vault, now=moment)
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            disable=quiet,
            transient=False,
        ) as progress:
            task = progress.add_task("importing", total=len(rows))
            # /metrics shows it when the server shares PROMETHEUS_MULTIPROC_DIR.
            IMPORT_ROWS.labels(kind="total").set(len(rows))
            done = [0]
            IMPORT_ROWS.labels(kind="done").set(0)

            def advance(n: int) -> None:
                progress.advance(task, n)
                # `set`, not `inc`: a gauge across processes keeps the most recent value.
                done[0] += n
                IMPORT_ROWS.labels(kind="done").set(done[0])

            try:
                return await importer.import_certificates(
                    rows,
                    body_code=body_code,
                    signer=signer,
                    principal=Principal.cli(body_code=body_code),
                    now=moment,
                    all_or_nothing=all_or_nothing,
                    progress=advance,
                )
            except KeyError as e:  # pragma: no cover - defensive
                raise InvalidInputError(str(e), errors=[FieldError("key", str(e))]) from e

    report = run_with_database(work)
    for r in report.rejected:
        click.echo(f"line {r.line}: {r.number or '(no number)'}: {r.message}", err=True)
    if report.refused:
        fail(f"{len(report.rejected)} invalid row(s): nothing stored (--all-or-nothing)")
    already = f", {report.already_stored} already stored" if report.already_stored else ""
    click.echo(
        f"stored {report.stored} certificate(s){already}, rejected {len(report.rejected)} row(s)"
    )
    if report.rejected:
        raise SystemExit(1)
