"""Signing and verification throughput: ours against raw Ed25519 (target: verify >= 70%).

    .venv/bin/python bench/bench_signing.py [--seconds 0.25] [--rounds 7]

Measured side by side in one run, interleaved round by round so that a busy
neighbour or a frequency change hits every contender alike; each contender's
best round counts:

- raw Ed25519 (pyca) sign and verify of the certificate's JCS payload bytes;
- `signing.jws.sign_compact` (JCS + header + base64url + Ed25519) of the same
  certificate, and `signing.jws.open_signed` (parse, key lookup, Ed25519
  verify, canonical check of the payload);
- for reference, what docs say a JOSE library would cost on the same token:
  joserfc's and PyJWT's EdDSA verify plus the RFC 8785 check with `rfc8785`.

The payload is a realistic certificate: Chinese holder name, address, scope and
site, about 1 KB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version

import jwt
import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc import jws as joserfc_jws
from joserfc.jwk import OKPKey

from signing.documents import CertificatePayload
from signing.jcs import canonical_bytes
from signing.jwks import KeySet
from signing.jws import CERTIFICATE_TYP, open_signed, sign_compact
from signing.keys import KeyRecord, PrivateKey

TARGET_VERIFY_RATIO = 0.70
SIGNERS = ("raw Ed25519 sign (pyca)", "sign_compact (ours)")


def certificate() -> CertificatePayload:
    return CertificatePayload.build(
        {
            "number": "CQC-2026-ASS-000123",
            "score": 95.5,
            "holder": {
                "name": "青岛海尔智家股份有限公司",
                "name_en": "Haier Smart Home Co., Ltd.",
                "uscc": "91370200264574251E",
                "address": "山东省青岛市崂山区海尔路1号海尔工业园",
            },
            "scope": {
                "zh": "家用电器（电冰箱、洗衣机、空调器、热水器）的安装、维修、配送和客户服务",
                "en": "Installation, repair, delivery and customer service of household appliances",
            },
            "sites": ["山东省青岛市崂山区海尔路1号", "安徽省合肥市经济技术开发区"],
            "issued_on": "2026-01-05",
            "valid_from": "2026-01-05",
        },
        issuer_code="CQC",
        issuer_name="中国质量认证中心",
        revision=1,
        signed_at=datetime(2026, 1, 5, 2, 0, tzinfo=UTC),
    )


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ops_per_second(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``fn`` over about ``seconds`` (batches of 200)."""
    calls = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(200):
            fn()
        calls += 200
        now = time.perf_counter()
        if now >= deadline:
            return calls / (now - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.25, help="per contender per round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    # joserfc warns on every EdDSA use (RFC 9864 names a successor); it is only a reference here.
    warnings.filterwarnings("ignore", module="joserfc")

    key = PrivateKey.generate()
    keys = KeySet.of(KeyRecord(key.public_key, body="CQC"))
    payload = certificate().to_json()
    payload_bytes = canonical_bytes(payload)
    token = sign_compact(payload, key=key, typ=CERTIFICATE_TYP)
    signature = key.sign(payload_bytes)

    # Raw pyca objects, outside our wrappers: the baseline.
    pyca_public = Ed25519PublicKey.from_public_bytes(key.public_key.raw)
    pem = key.to_pkcs8_pem(passphrase=b"bench")
    pyca_private = serialization.load_pem_private_key(pem, password=b"bench")
    assert isinstance(pyca_private, Ed25519PrivateKey)
    jwk = key.public_key.to_jwk()

    joserfc_key = OKPKey.import_key(jwk)
    pyjwt_key = jwt.PyJWK({**jwk, "alg": "EdDSA"}).key
    pyjwt = jwt.api_jws.PyJWS()

    def joserfc_verify() -> object:
        obj = joserfc_jws.deserialize_compact(token, joserfc_key, algorithms=["EdDSA"])
        parsed = json.loads(obj.payload)
        assert rfc8785.dumps(parsed) == obj.payload
        return parsed

    def pyjwt_verify() -> object:
        obj = pyjwt.decode_complete(token, key=pyjwt_key, algorithms=["EdDSA"])
        parsed = json.loads(obj["payload"])
        assert rfc8785.dumps(parsed) == obj["payload"]
        return parsed

    contenders: dict[str, Callable[[], object]] = {
        "raw Ed25519 verify (pyca)": lambda: pyca_public.verify(signature, payload_bytes),
        "open_signed (ours)": lambda: open_signed(token, keys=keys, typ=CERTIFICATE_TYP),
        "joserfc verify + rfc8785 check": joserfc_verify,
        "PyJWT verify + rfc8785 check": pyjwt_verify,
        "raw Ed25519 sign (pyca)": lambda: pyca_private.sign(payload_bytes),
        "sign_compact (ours)": lambda: sign_compact(payload, key=key, typ=CERTIFICATE_TYP),
    }
    for fn in contenders.values():  # warm up; check they all work
        fn()

    best = dict.fromkeys(contenders, 0.0)
    for _ in range(args.rounds):
        for name, fn in contenders.items():
            best[name] = max(best[name], ops_per_second(fn, args.seconds))

    print("bench_signing: JWS sign and verify against raw Ed25519")
    print(
        f"machine: {cpu_model()}, nproc {os.cpu_count()}, {platform.system()} "
        f"{platform.release()}, {platform.python_implementation()} {platform.python_version()}"
    )
    print(
        f"libraries: cryptography {version('cryptography')}, rfc8785 {version('rfc8785')}, "
        f"joserfc {version('joserfc')}, PyJWT {version('pyjwt')}"
    )
    print(
        f"payload: certificate, {len(payload_bytes)} bytes of JCS; token {len(token)} characters; "
        f"best of {args.rounds} interleaved rounds of {args.seconds:g} s each\n"
    )
    raw_verify = best["raw Ed25519 verify (pyca)"]
    raw_sign = best["raw Ed25519 sign (pyca)"]
    print(f"{'what':34} {'ops/s':>10} {'µs/op':>8} {'vs raw':>8}")
    for name, rate in best.items():
        raw = raw_sign if name in SIGNERS else raw_verify
        print(f"{name:34} {rate:10,.0f} {1e6 / rate:8.1f} {rate / raw:8.1%}")
    verify_ratio = best["open_signed (ours)"] / raw_verify
    sign_ratio = best["sign_compact (ours)"] / raw_sign
    verdict = "met" if verify_ratio >= TARGET_VERIFY_RATIO else "NOT met"
    print(
        f"\nverify: ours/raw = {verify_ratio:.1%} (target >= {TARGET_VERIFY_RATIO:.0%}: {verdict})"
    )
    print(f"sign:   ours/raw = {sign_ratio:.1%} (no target)")


if __name__ == "__main__":
    main()
