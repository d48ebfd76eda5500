"""RFC 6962 trees and proofs: the transparency-dev vectors, and the RFC text itself.

Every probe in tests/vectors/merkle (copied from transparency-dev/merkle
``testdata/``) is one test: the valid ones must verify, the ``wantErr`` ones
must be refused. The happy paths are also rebuilt by our prover from the
RFC 6962 test leaves. Hypothesis then compares roots, proofs and appends with
`rfc6962_reference`, a literal transcription of RFC 6962 §2.1.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signing import merkle
from signing.errors import MalformedError, ProofError, TreeRangeError
from signing.merkle import MemoryHashSource, Node
from tests.signing import rfc6962_reference as ref

MERKLE_VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "merkle"

#: The leaves of transparency-dev/merkle's (and Trillian's, CT's) RFC 6962 test
#: tree: the vectors' trees are prefixes of it.
RFC6962_TEST_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]


def _vector_files(kind: str) -> list[Path]:
    files = sorted((MERKLE_VECTORS / kind).rglob("*.json"))
    if not files:
        pytest.fail(f"no Merkle vectors in {MERKLE_VECTORS / kind}", pytrace=False)
    return files


def _vector_id(path: Path) -> str:
    return str(path.relative_to(MERKLE_VECTORS))


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _proof(probe: dict[str, Any]) -> list[bytes]:
    return [_b64(p) for p in probe["proof"] or []]


INCLUSION = _vector_files("inclusion")
CONSISTENCY = _vector_files("consistency")


@pytest.mark.parametrize("path", INCLUSION, ids=_vector_id)
def test_inclusion_vector(path: Path) -> None:
    probe = _load(path)
    args = {
        "leaf_hash": _b64(probe["leafHash"]),
        "index": probe["leafIdx"],
        "size": probe["treeSize"],
        "proof": _proof(probe),
        "root": _b64(probe["root"]),
    }
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(**args)
    else:
        merkle.verify_inclusion(**args)


@pytest.mark.parametrize("path", CONSISTENCY, ids=_vector_id)
def test_consistency_vector(path: Path) -> None:
    probe = _load(path)
    args = {
        "old_size": probe["size1"],
        "new_size": probe["size2"],
        "old_root": _b64(probe["root1"]),
        "new_root": _b64(probe["root2"]),
        "proof": _proof(probe),
    }
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            merkle.verify_consistency(**args)
    else:
        merkle.verify_consistency(**args)


def _happy_paths(files: list[Path]) -> list[Path]:
    return [p for p in files if p.name == "happy-path.json"]


@pytest.mark.parametrize("path", _happy_paths(INCLUSION), ids=_vector_id)
def test_our_inclusion_proofs_are_the_vectors(path: Path) -> None:
    probe = _load(path)
    size, index = probe["treeSize"], probe["leafIdx"]
    log = MemoryHashSource.of_leaves(RFC6962_TEST_LEAVES)
    assert merkle.leaf_hash(RFC6962_TEST_LEAVES[index]) == _b64(probe["leafHash"])
    assert merkle.root_hash(log, size) == _b64(probe["root"])
    assert merkle.inclusion_proof(log, index, size) == _proof(probe)


@pytest.mark.parametrize("path", _happy_paths(CONSISTENCY), ids=_vector_id)
def test_our_consistency_proofs_are_the_vectors(path: Path) -> None:
    probe = _load(path)
    old, new = probe["size1"], probe["size2"]
    log = MemoryHashSource.of_leaves(RFC6962_TEST_LEAVES)
    assert merkle.root_hash(log, old) == _b64(probe["root1"])
    assert merkle.root_hash(log, new) == _b64(probe["root2"])
    assert merkle.consistency_proof(log, old, new) == _proof(probe)


def test_empty_tree_root_is_the_hash_of_nothing() -> None:
    # RFC 6962 §2.1; a log's first checkpoint (size 0) shows this root.
    assert merkle.root_hash(MemoryHashSource(), 0).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


# --- The prover against RFC 6962 §2.1 itself ----------------------------------


def test_the_reference_agrees_with_the_vectors() -> None:
    # The yardstick below is itself checked against the published tree.
    probe = _load(MERKLE_VECTORS / "inclusion" / "1" / "happy-path.json")
    assert ref.mth(RFC6962_TEST_LEAVES[: probe["treeSize"]]) == _b64(probe["root"])
    assert ref.path(probe["leafIdx"], RFC6962_TEST_LEAVES[: probe["treeSize"]]) == _proof(probe)


SIZES = st.integers(min_value=1, max_value=300)


def _entries(n: int) -> list[bytes]:
    return [f"starmark-leaf-{i}".encode() for i in range(n)]


@settings(max_examples=60, deadline=None)
@given(size=SIZES, data=st.data())
def test_roots_and_inclusion_proofs_equal_the_rfc_and_verify(size: int, data: Any) -> None:
    entries = _entries(size)
    log = MemoryHashSource.of_leaves(entries)
    root = ref.mth(entries)
    assert merkle.root_hash(log, size) == root
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    proof = merkle.inclusion_proof(log, index, size)
    assert proof == ref.path(index, entries)
    merkle.verify_inclusion(
        leaf_hash=merkle.leaf_hash(entries[index]), index=index, size=size, proof=proof, root=root
    )
    # The same proof does not place another leaf there.
    other = (index + 1) % size
    if other != index:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(
                leaf_hash=merkle.leaf_hash(entries[other]),
                index=index,
                size=size,
                proof=proof,
                root=root,
            )


@settings(max_examples=60, deadline=None)
@given(new=SIZES, data=st.data())
def test_consistency_proofs_equal_the_rfc_and_verify(new: int, data: Any) -> None:
    entries = _entries(new)
    log = MemoryHashSource.of_leaves(entries)
    old = data.draw(st.integers(min_value=1, max_value=new), label="old")
    proof = merkle.consistency_proof(log, old, new)
    assert proof == ref.proof(old, entries)
    old_root, new_root = ref.mth(entries[:old]), ref.mth(entries)
    merkle.verify_consistency(
        old_size=old, new_size=new, old_root=old_root, new_root=new_root, proof=proof
    )
    # A rewritten history (one old leaf changed) is caught.
    rewritten = [b"rewritten", *entries[1:]]
    if old < new:
        with pytest.raises(ProofError):
            merkle.verify_consistency(
                old_size=old,
                new_size=new,
                old_root=old_root,
                new_root=ref.mth(rewritten),
                proof=merkle.consistency_proof(MemoryHashSource.of_leaves(rewritten), old, new),
            )


@settings(max_examples=40, deadline=None)
@given(batches=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=12))
def test_appended_subtree_hashes_give_the_recomputed_roots(batches: list[int]) -> None:
    log = MemoryHashSource()
    entries: list[bytes] = []
    for batch in batches:
        new_entries = _entries(len(entries) + batch)[len(entries) :]
        stored = log.append([merkle.leaf_hash(e) for e in new_entries])
        entries += new_entries
        # Every stored hash is MTH of exactly the leaves its node covers.
        for node, value in stored.items():
            assert node.end <= len(entries)
            assert value == ref.mth(entries[node.start : node.end])
        assert merkle.root_hash(log, len(entries)) == ref.mth(entries)
    # Roots of every earlier size are still there: old checkpoints can be proven.
    for size in range(len(entries) + 1):
        assert merkle.root_hash(log, size) == ref.mth(entries[:size])


# --- Reading O(log n) stored hashes -------------------------------------------


class CountingSource:
    """Wraps a `MemoryHashSource` and records every node asked for (one call a proof)."""

    def __init__(self, inner: MemoryHashSource) -> None:
        self.inner = inner
        self.calls: list[Collection[Node]] = []

    def subtree_hashes(self, nodes: Collection[Node]) -> Mapping[Node, bytes]:
        self.calls.append(list(nodes))
        return self.inner.subtree_hashes(nodes)


def test_a_proof_reads_a_logarithmic_number_of_stored_hashes_in_one_batch() -> None:
    size = 1000
    source = CountingSource(MemoryHashSource.of_leaves(_entries(size)))
    bound = 2 * math.ceil(math.log2(size))
    for index in (0, 1, 511, 512, 998, 999):
        source.calls.clear()
        merkle.inclusion_proof(source, index, size)
        assert len(source.calls) == 1
        assert len(source.calls[0]) <= bound
    for old in (1, 3, 512, 513, 999):
        source.calls.clear()
        merkle.consistency_proof(source, old, size)
        assert len(source.calls) == 1
        assert len(source.calls[0]) <= bound


def test_planned_nodes_at_ten_million_leaves_stay_few() -> None:
    size = 10_000_000
    bound = 2 * math.ceil(math.log2(size))
    for index in (0, 4_999_999, 9_999_998, 9_999_999):
        assert len(merkle.inclusion_proof_nodes(index, size)) <= bound
    for old in (1, 7_777_777, 9_999_999):
        assert len(merkle.consistency_proof_nodes(old, size)) <= bound
    assert len(merkle.root_nodes(size)) == bin(size).count("1")
    # Appending reads at most one stored hash a level.
    assert len(merkle.append_nodes(2**23 - 1)) == 23


def test_proofs_assemble_from_a_fetched_mapping_as_a_database_would() -> None:
    entries = _entries(37)
    log = MemoryHashSource.of_leaves(entries)
    nodes = merkle.inclusion_proof_nodes(20, 37)
    fetched = dict(log.subtree_hashes(nodes))
    assert merkle.assemble_inclusion_proof(20, 37, fetched) == ref.path(20, entries)
    nodes = merkle.consistency_proof_nodes(9, 37)
    fetched = dict(log.subtree_hashes(nodes))
    assert merkle.assemble_consistency_proof(9, 37, fetched) == ref.proof(9, entries)


# --- Refusals -----------------------------------------------------------------


def test_proofs_outside_the_tree_are_refused() -> None:
    log = MemoryHashSource.of_leaves(_entries(5))
    with pytest.raises(TreeRangeError, match="outside a tree of size 5"):
        merkle.inclusion_proof(log, 5, 5)
    with pytest.raises(TreeRangeError, match="outside"):
        merkle.inclusion_proof(log, -1, 5)
    with pytest.raises(TreeRangeError, match="no consistency proof"):
        merkle.consistency_proof(log, 4, 3)
    with pytest.raises(TreeRangeError, match="no consistency proof"):
        merkle.consistency_proof(log, 0, 3)
    # A size the store does not hold yet (beyond the latest checkpoint).
    with pytest.raises(TreeRangeError, match="does not hold a tree of size 6"):
        merkle.inclusion_proof(log, 0, 6)
    with pytest.raises(TreeRangeError, match="size 9"):
        merkle.root_hash(log, 9)


def test_appending_needs_the_right_edge_and_real_hashes() -> None:
    with pytest.raises(TreeRangeError, match="right edge"):
        merkle.append_leaves([merkle.leaf_hash(b"x")], size=3, edge={})
    with pytest.raises(MalformedError, match="32 bytes"):
        MemoryHashSource().append([b"not a hash"])


def test_a_proof_with_a_short_element_is_refused() -> None:
    entries = _entries(4)
    proof = merkle.inclusion_proof(MemoryHashSource.of_leaves(entries), 0, 4)
    with pytest.raises(ProofError, match="proof element 1"):
        merkle.verify_inclusion(
            leaf_hash=merkle.leaf_hash(entries[0]),
            index=0,
            size=4,
            proof=[proof[0], proof[1][:31]],
            root=ref.mth(entries),
        )
