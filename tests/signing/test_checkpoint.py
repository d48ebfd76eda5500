"""Log checkpoints (c2sp.org/tlog-checkpoint): built, signed, opened, and refused."""

from __future__ import annotations

import base64

import pytest

from signing import merkle
from signing.checkpoint import MAX_TREE_SIZE, Checkpoint, open_checkpoint, sign_checkpoint
from signing.errors import MalformedError, UnknownKeyError, VerificationError
from signing.keys import PrivateKey
from signing.note import NoteSigner, sign_note

ORIGIN = "registry.example/log"
ROOT = bytes(range(32))


@pytest.fixture(scope="module")
def signer() -> NoteSigner:
    return NoteSigner(name=ORIGIN, key=PrivateKey.from_seed(bytes(range(7, 39))))


def test_the_text_is_origin_size_and_base64_root(signer: NoteSigner) -> None:
    checkpoint = Checkpoint(origin=ORIGIN, size=20852163, root=ROOT)
    text = f"{ORIGIN}\n20852163\n{base64.b64encode(ROOT).decode()}\n"
    assert checkpoint.to_text() == text
    note = sign_checkpoint(checkpoint, signer=signer)
    assert note.startswith(text + "\n— registry.example/log ")
    assert open_checkpoint(note, verifier=signer.verifier) == checkpoint


def test_the_spec_example_body_reads() -> None:
    # c2sp.org/tlog-checkpoint, its example note text.
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    checkpoint = Checkpoint.from_text(text)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert checkpoint.to_text() == text


def test_extension_lines_are_kept_and_signed(signer: NoteSigner) -> None:
    checkpoint = Checkpoint(origin=ORIGIN, size=0, root=merkle.EMPTY_ROOT, extensions=("x y",))
    note = sign_checkpoint(checkpoint, signer=signer)
    assert open_checkpoint(note, verifier=signer.verifier).extensions == ("x y",)
    with pytest.raises(VerificationError):
        open_checkpoint(note.replace("x y", "x z"), verifier=signer.verifier)


def test_an_inclusion_proof_checks_against_an_opened_checkpoint(signer: NoteSigner) -> None:
    # What the offline verifier does with a bundle: checkpoint, then proof.
    documents = [f"eyJ.document-{i}.sig".encode() for i in range(11)]
    log = merkle.MemoryHashSource.of_leaves(documents)
    note = sign_checkpoint(
        Checkpoint(origin=ORIGIN, size=11, root=merkle.root_hash(log, 11)), signer=signer
    )
    checkpoint = open_checkpoint(note, verifier=signer.verifier)
    merkle.verify_inclusion(
        leaf_hash=merkle.leaf_hash(documents[6]),
        index=6,
        size=checkpoint.size,
        proof=merkle.inclusion_proof(log, 6, checkpoint.size),
        root=checkpoint.root,
    )


def test_a_checkpoint_of_another_origin_is_refused(signer: NoteSigner) -> None:
    other = Checkpoint(origin="elsewhere.example/log", size=1, root=ROOT)
    with pytest.raises(MalformedError, match="signed under that name"):
        sign_checkpoint(other, signer=signer)
    # The right key, but a body naming another log.
    with pytest.raises(VerificationError, match=r"is for .elsewhere\.example/log."):
        open_checkpoint(sign_note(other.to_text(), signer=signer), verifier=signer.verifier)


def test_a_checkpoint_by_another_key_is_refused(signer: NoteSigner) -> None:
    impostor = NoteSigner(name=ORIGIN, key=PrivateKey.from_seed(bytes(32)))
    note = sign_checkpoint(Checkpoint(origin=ORIGIN, size=1, root=ROOT), signer=impostor)
    with pytest.raises(UnknownKeyError):
        open_checkpoint(note, verifier=signer.verifier)


ROOT_B64 = base64.b64encode(ROOT).decode()


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f"{ORIGIN}\n5\n", id="no-root"),
        pytest.param(f"{ORIGIN}\n05\n{ROOT_B64}\n", id="leading-zero"),
        pytest.param(f"{ORIGIN}\n-1\n{ROOT_B64}\n", id="negative"),
        pytest.param(f"{ORIGIN}\n+5\n{ROOT_B64}\n", id="plus-sign"),
        pytest.param(f"{ORIGIN}\n\uff15\n{ROOT_B64}\n", id="fullwidth-digit"),
        pytest.param(f"{ORIGIN}\n{MAX_TREE_SIZE + 1}\n{ROOT_B64}\n", id="beyond-uint64"),
        pytest.param(f"{ORIGIN}\n5\n{ROOT_B64[:-4]}\n", id="short-root"),
        pytest.param(f"{ORIGIN}\n5\n{ROOT_B64.rstrip('=')}\n", id="unpadded-root"),
        pytest.param(f"\n5\n{ROOT_B64}\n", id="empty-origin"),
        pytest.param(f"{ORIGIN}\n5\n{ROOT_B64}\n\n", id="empty-extension"),
        pytest.param(f"{ORIGIN}\n5\n{ROOT_B64}", id="no-final-newline"),
    ],
)
def test_malformed_bodies_are_refused(text: str) -> None:
    with pytest.raises(MalformedError):
        Checkpoint.from_text(text)
