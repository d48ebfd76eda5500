"""C2SP signed notes: the spec's example, the sumdb/note test key, and the spec's refusals."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from signing.errors import InvalidKeyError, MalformedError, UnknownKeyError, VerificationError
from signing.keys import PrivateKey
from signing.note import (
    MAX_SIGNATURES,
    NoteSigner,
    NoteVerifier,
    SignedNote,
    open_note,
    sign_note,
    verify_note,
)

NOTE_VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "signed-note" / "vectors.json"


def _cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(NOTE_VECTORS.read_text())["cases"]
    if not cases:
        pytest.fail(f"no signed-note vectors in {NOTE_VECTORS}", pytrace=False)
    return cases


@pytest.mark.parametrize("case", _cases(), ids=lambda case: case["name"])
def test_signed_note_vector(case: dict[str, Any]) -> None:
    verifier = NoteVerifier.from_text(case["vkey"])
    assert verifier.to_text() == case["vkey"]
    if case["valid"]:
        text = open_note(case["note"], verifier=verifier)
        assert case["note"].startswith(text + "\n— ")
    else:
        with pytest.raises(VerificationError):
            open_note(case["note"], verifier=verifier)
    if "skey" in case:
        signer = NoteSigner.from_text(case["skey"])
        assert signer.verifier == verifier
        # Ed25519 is deterministic: the same key and text give the same note.
        assert sign_note(case["text"], signer=signer) == case["note"]


ORIGIN = "registry.example/log"


@pytest.fixture(scope="module")
def signer() -> NoteSigner:
    return NoteSigner(name=ORIGIN, key=PrivateKey.from_seed(bytes(range(7, 39))))


@pytest.fixture(scope="module")
def stranger() -> NoteSigner:
    return NoteSigner(name="witness.example/w1", key=PrivateKey.from_seed(bytes(32)))


TEXT = "registry.example/log\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"


def _signature_line(note: str) -> str:
    return note[note.rindex("— ") :]


def test_a_signed_note_reads_as_the_spec_shows(signer: NoteSigner) -> None:
    note = sign_note(TEXT, signer=signer)
    line = _signature_line(note)
    assert note == TEXT + "\n" + line
    name, encoded = line.removeprefix("— ").removesuffix("\n").split(" ")
    assert name == ORIGIN
    raw = base64.b64decode(encoded)
    assert raw[:4] == signer.verifier.key_id and len(raw) == 4 + 64
    assert open_note(note.encode(), verifier=signer.verifier) == TEXT


def test_the_verifier_key_text_round_trips(signer: NoteSigner) -> None:
    text = signer.verifier.to_text()
    name, key_id, key = text.split("+", 2)
    assert (name, len(key_id)) == (ORIGIN, 8)
    assert base64.b64decode(key) == b"\x01" + signer.key.public_key.raw
    assert NoteVerifier.from_text(text) == signer.verifier


def test_a_text_with_blank_lines_keeps_them(signer: NoteSigner) -> None:
    # The signatures start after the *last* blank line.
    text = "first\n\nsecond\n\n"
    assert open_note(sign_note(text, signer=signer), verifier=signer.verifier) == text


def test_signatures_by_unknown_keys_are_ignored(signer: NoteSigner, stranger: NoteSigner) -> None:
    note = sign_note(TEXT, signer=signer)
    cosigned = note + _signature_line(sign_note(TEXT, signer=stranger))
    assert open_note(cosigned, verifier=signer.verifier) == TEXT
    # Same name, another key ID: an unknown key too, not a failed signature.
    impostor = NoteSigner(name=ORIGIN, key=stranger.key)
    with pytest.raises(UnknownKeyError, match=r"not signed by registry\.example/log"):
        open_note(sign_note(TEXT, signer=impostor), verifier=signer.verifier)
    with pytest.raises(UnknownKeyError):
        open_note(sign_note(TEXT, signer=stranger), verifier=signer.verifier)


def test_a_note_signed_by_the_known_key_over_other_text_fails(signer: NoteSigner) -> None:
    note = sign_note(TEXT, signer=signer).replace("\n3\n", "\n4\n")
    with pytest.raises(VerificationError, match="does not verify"):
        open_note(note, verifier=signer.verifier)


def test_duplicate_and_stray_lines_are_refused(signer: NoteSigner) -> None:
    note = sign_note(TEXT, signer=signer)
    line = _signature_line(note)
    with pytest.raises(MalformedError, match=r"two signatures by registry\.example/log"):
        SignedNote.parse(note + line)
    with pytest.raises(MalformedError, match="not a note signature line"):
        SignedNote.parse(note + "extra line\n")
    with pytest.raises(MalformedError, match="not a note signature line"):
        SignedNote.parse(note.replace("— ", "- "))
    with pytest.raises(MalformedError, match="no blank line"):
        SignedNote.parse(TEXT + line)
    with pytest.raises(MalformedError, match="ends with a newline"):
        SignedNote.parse(note.removesuffix("\n"))
    with pytest.raises(MalformedError, match="more than 100"):
        SignedNote.parse(TEXT + "\n" + line * (MAX_SIGNATURES + 1))


def test_control_characters_and_bad_encodings_are_refused(signer: NoteSigner) -> None:
    note = sign_note(TEXT, signer=signer)
    with pytest.raises(MalformedError, match="control character"):
        SignedNote.parse(note.replace("\n3\n", "\n3\r\n"))
    with pytest.raises(MalformedError, match="UTF-8"):
        SignedNote.parse(b"\xff" + note.encode())
    # 68 bytes end in "xyz=": z carries 2 unused bits, which must be zero.
    encoded = _signature_line(note).removesuffix("\n").split(" ")[-1]
    assert encoded.endswith("=") and not encoded.endswith("==")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    tweaked = encoded[:-2] + alphabet[alphabet.index(encoded[-2]) ^ 1] + "="
    assert base64.b64decode(tweaked) == base64.b64decode(encoded)
    with pytest.raises(MalformedError, match="not canonical base64"):
        SignedNote.parse(note.replace(encoded, tweaked))
    with pytest.raises(MalformedError, match="not standard base64"):
        SignedNote.parse(note.replace(encoded, encoded.removesuffix("=")))
    with pytest.raises(MalformedError, match="control character"):
        sign_note("tab\there\n", signer=signer)
    with pytest.raises(MalformedError, match="ends with a newline"):
        sign_note("no newline", signer=signer)


@pytest.mark.parametrize("name", ["", "has space", "has+plus", "ideographic\u3000space"])
def test_key_names_with_spaces_or_plus_are_refused(name: str) -> None:
    with pytest.raises(MalformedError):
        NoteSigner(name=name, key=PrivateKey.from_seed(bytes(32)))


def test_verifier_keys_that_lie_are_refused(signer: NoteSigner) -> None:
    name, key_id, key = signer.verifier.to_text().split("+", 2)
    wrong_id = f"{int(key_id, 16) ^ 1:08x}"
    with pytest.raises(InvalidKeyError, match="not the hash of its name and key"):
        NoteVerifier.from_text(f"{name}+{wrong_id}+{key}")
    with pytest.raises(InvalidKeyError, match="not the hash"):
        NoteVerifier.from_text(f"other.example+{key_id}+{key}")
    with pytest.raises(InvalidKeyError, match="lowercase hex"):
        NoteVerifier.from_text(f"{name}+{key_id.upper()}+{key}")
    ecdsa_type = base64.b64encode(b"\x02" + base64.b64decode(key)[1:]).decode()
    with pytest.raises(InvalidKeyError, match="not an Ed25519 key"):
        NoteVerifier.from_text(f"{name}+{key_id}+{ecdsa_type}")
    with pytest.raises(InvalidKeyError, match="name\\+keyid\\+key"):
        NoteVerifier.from_text(name)


def test_verify_note_needs_the_known_signature_to_be_an_ed25519_one(signer: NoteSigner) -> None:
    parsed = SignedNote.parse(sign_note(TEXT, signer=signer))
    signature = parsed.signatures[0]
    short = SignedNote(
        text=parsed.text,
        signatures=(type(signature)(signature.name, signature.key_id, signature.signature[:63]),),
    )
    with pytest.raises(VerificationError, match="not 64 bytes"):
        verify_note(short, verifier=signer.verifier)
