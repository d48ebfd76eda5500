"""RFC 6962 Merkle trees: hashes, inclusion and consistency proofs, from stored subtrees.

Why by hand: no maintained Python library builds RFC 6962 proofs over a
store we control (sigstore-python verifies inclusion proofs only, in a
private module). The algorithms are short and the RFCs pin them down to the
byte, so this module follows them line by line:

- hashing: RFC 6962 §2.1 (leaf ``SHA-256(0x00 || d)``, node
  ``SHA-256(0x01 || left || right)``, the empty tree ``SHA-256()``);
- proofs: RFC 6962 §2.1.1 (``PATH``) and §2.1.2 (``PROOF``/``SUBPROOF``);
- verification: RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency).

The transparency-dev/merkle vectors and an independent, recursive
transcription of RFC 6962 §2.1 (``tests/signing/rfc6962_reference.py``) check
it.

Storage (designed for 10,000,000 leaves and more): a log stores the hash of
every *complete* subtree, a `Node` (``2**level`` leaves starting at leaf
``index * 2**level``), as soon as an append completes it (`append_leaves`:
amortized two hashes a leaf, at most ``log2(n) + 1``). Every subtree RFC 6962's
recursion touches is either complete or the right edge ``D[a:n]``, which is a
few complete subtrees side by side. So a root or a proof reads ``O(log n)``
stored hashes and never the whole tree. Each computation comes in two halves,
so that a database caller can fetch every hash it needs in one query:

    nodes = inclusion_proof_nodes(index, size)     # pure: which subtrees
    hashes = <SELECT ... WHERE (level, index) IN nodes>
    proof = assemble_inclusion_proof(index, size, hashes)

`inclusion_proof(source, ...)` and friends do both halves with a `HashSource`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from signing.errors import MalformedError, ProofError, TreeRangeError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "HashSource",
    "MemoryHashSource",
    "Node",
    "append_leaves",
    "append_nodes",
    "assemble_consistency_proof",
    "assemble_inclusion_proof",
    "assemble_root_hash",
    "consistency_proof",
    "consistency_proof_nodes",
    "inclusion_proof",
    "inclusion_proof_nodes",
    "leaf_hash",
    "node_hash",
    "root_hash",
    "root_nodes",
    "verify_consistency",
    "verify_inclusion",
]

#: SHA-256 output length: every leaf, node and root hash.
HASH_SIZE: Final = 32
#: RFC 6962 §2.1: the hash of an empty list is the hash of an empty string.
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """The RFC 6962 §2.1 leaf hash ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 6962 §2.1 interior node hash ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


@dataclass(frozen=True, slots=True, order=True)
class Node:
    """A complete subtree: ``2**level`` leaves from leaf ``index * 2**level``.

    Level 0 nodes are the leaves themselves (their hash is the leaf hash).
    """

    level: int
    index: int

    @property
    def start(self) -> int:
        """Index of its first leaf."""
        return self.index << self.level

    @property
    def end(self) -> int:
        """Index one past its last leaf."""
        return (self.index + 1) << self.level


class HashSource(Protocol):
    """Where the stored complete-subtree hashes of a log are read from.

    A database implementation answers with one query; nodes it does not hold
    (the tree is not that large yet) are left out of the mapping.
    """

    def subtree_hashes(self, nodes: Collection[Node]) -> Mapping[Node, bytes]:
        """The stored hashes of those of ``nodes`` that exist."""
        ...


def _split(n: int) -> int:
    """RFC 6962 §2.1: k, the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree_nodes(start: int, end: int) -> tuple[Node, ...]:
    """The complete subtrees, left to right, that make up ``D[start:end]``.

    Only for the ranges RFC 6962's recursion produces: ``start`` is then a
    multiple of a power of two at least ``end - start``, so the binary
    decomposition of the length gives aligned subtrees, largest first.
    """
    nodes = []
    while start < end:
        level = (end - start).bit_length() - 1
        nodes.append(Node(level, start >> level))
        start += 1 << level
    return tuple(nodes)


def _range_hash(start: int, end: int, hashes: Mapping[Node, bytes], size: int) -> bytes:
    """MTH(D[start:end]) from the hashes of its complete subtrees.

    RFC 6962 §2.1 splits a range at the largest power of two below its length:
    the left part is the first (largest) complete subtree and the right part is
    the rest, so folding the subtrees from the right gives MTH.

    Raises:
        TreeRangeError: a subtree hash is missing (the store is smaller than ``size``).
    """
    result: bytes | None = None
    for node in reversed(_subtree_nodes(start, end)):
        try:
            stored = hashes[node]
        except KeyError:
            raise TreeRangeError(
                f"no stored hash for subtree (level {node.level}, index {node.index}): "
                f"the log does not hold a tree of size {size}"
            ) from None
        result = stored if result is None else node_hash(stored, result)
    assert result is not None, "empty range"
    return result


def _nodes_of(ranges: Iterable[tuple[int, int]]) -> tuple[Node, ...]:
    return tuple(node for start, end in ranges for node in _subtree_nodes(start, end))


def _check_size(size: int) -> None:
    if size < 0:
        raise TreeRangeError(f"a tree size is at least 0, got {size}")


# --- Root ---------------------------------------------------------------------


def root_nodes(size: int) -> tuple[Node, ...]:
    """The stored subtrees whose hashes give the root of a tree of ``size`` leaves.

    They are also the tree's *right edge*: one complete subtree per bit set in
    ``size``, largest first.

    Raises:
        TreeRangeError: ``size`` is negative.
    """
    _check_size(size)
    return _subtree_nodes(0, size)


def assemble_root_hash(size: int, hashes: Mapping[Node, bytes]) -> bytes:
    """MTH(D[0:size]) (RFC 6962 §2.1) from the hashes of `root_nodes` ``(size)``.

    Raises:
        TreeRangeError: ``size`` is negative or a needed hash is missing.
    """
    _check_size(size)
    if size == 0:
        return EMPTY_ROOT
    return _range_hash(0, size, hashes, size)


def root_hash(source: HashSource, size: int) -> bytes:
    """The root hash of the first ``size`` leaves of the log in ``source``.

    Raises:
        TreeRangeError: ``size`` is negative or beyond what ``source`` stores.
    """
    return assemble_root_hash(size, source.subtree_hashes(root_nodes(size)))


# --- Inclusion proofs ---------------------------------------------------------


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges ``D[a:b]`` whose MTH make up PATH(index, D[0:size]), leaf first.

    RFC 6962 §2.1.1, unrolled: with k the split of D[a:b],
    PATH(m, D[a:b]) = PATH(m, D[a:a+k]) : MTH(D[a+k:b]) when m < a+k, and
    PATH(m, D[a+k:b]) : MTH(D[a:a+k]) otherwise.
    """
    if not 0 <= index < size:
        raise TreeRangeError(f"leaf index {index} is outside a tree of size {size}")
    ranges = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()  # built from the root down; the proof lists the leaf's sibling first
    return ranges


def inclusion_proof_nodes(index: int, size: int) -> tuple[Node, ...]:
    """The stored subtrees an inclusion proof of leaf ``index`` in ``size`` leaves needs.

    At most about ``2 * log2(size)`` nodes: each proof element is one complete
    subtree, except one on the right edge that may be a few.

    Raises:
        TreeRangeError: ``index`` is not in ``[0, size)``.
    """
    return _nodes_of(_inclusion_ranges(index, size))


def assemble_inclusion_proof(index: int, size: int, hashes: Mapping[Node, bytes]) -> list[bytes]:
    """PATH(index, D[0:size]) (RFC 6962 §2.1.1) from `inclusion_proof_nodes`' hashes.

    Raises:
        TreeRangeError: ``index`` is not in ``[0, size)`` or a needed hash is missing.
    """
    return [_range_hash(a, b, hashes, size) for a, b in _inclusion_ranges(index, size)]


def inclusion_proof(source: HashSource, index: int, size: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of the first ``size`` leaves.

    Raises:
        TreeRangeError: ``index`` is not in ``[0, size)``, or ``size`` is beyond
            what ``source`` stores.
    """
    nodes = inclusion_proof_nodes(index, size)
    return assemble_inclusion_proof(index, size, source.subtree_hashes(nodes))


# --- Consistency proofs -------------------------------------------------------


def _consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """The ranges whose MTH make up PROOF(old, D[0:new]), deepest first.

    RFC 6962 §2.1.2, unrolled: SUBPROOF(m, D[a:b], flag) is empty when m = b
    and flag holds, {MTH(D[a:b])} when m = b otherwise; else with k the split,
    SUBPROOF(m, D[a:a+k], flag) : MTH(D[a+k:b]) when m <= a+k, and
    SUBPROOF(m, D[a+k:b], false) : MTH(D[a:a+k]) otherwise.
    """
    # RFC 9162 §2.1.4.1 defines the proof for 0 < first < second; equal sizes
    # have the empty proof. A proof from the empty tree proves nothing.
    if old < 1 or new < old:
        raise TreeRangeError(f"no consistency proof from size {old} to size {new}")
    ranges = []
    start, end = 0, new
    whole_old_tree = True
    while end != old:
        k = _split(end - start)
        if old <= start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            whole_old_tree = False
    if not whole_old_tree:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def consistency_proof_nodes(old: int, new: int) -> tuple[Node, ...]:
    """The stored subtrees a consistency proof from ``old`` to ``new`` leaves needs.

    Raises:
        TreeRangeError: not ``0 < old <= new``.
    """
    return _nodes_of(_consistency_ranges(old, new))


def assemble_consistency_proof(old: int, new: int, hashes: Mapping[Node, bytes]) -> list[bytes]:
    """PROOF(old, D[0:new]) (RFC 6962 §2.1.2) from `consistency_proof_nodes`' hashes.

    Raises:
        TreeRangeError: not ``0 < old <= new``, or a needed hash is missing.
    """
    return [_range_hash(a, b, hashes, new) for a, b in _consistency_ranges(old, new)]


def consistency_proof(source: HashSource, old: int, new: int) -> list[bytes]:
    """The proof that the tree of ``new`` leaves extends the tree of ``old`` leaves.

    Raises:
        TreeRangeError: not ``0 < old <= new``, or ``new`` is beyond what
            ``source`` stores.
    """
    nodes = consistency_proof_nodes(old, new)
    return assemble_consistency_proof(old, new, source.subtree_hashes(nodes))


# --- Appending ----------------------------------------------------------------


def append_nodes(size: int) -> tuple[Node, ...]:
    """The stored subtrees needed to append leaf number ``size`` (0-based).

    The new leaf completes one subtree per trailing one bit of ``size``; their
    left halves are the lowest subtrees of the current right edge
    (`root_nodes` ``(size)``), smallest first.

    Raises:
        TreeRangeError: ``size`` is negative.
    """
    _check_size(size)
    nodes = []
    level = 0
    while (size >> level) & 1:
        nodes.append(Node(level, (size >> level) - 1))
        level += 1
    return tuple(nodes)


def append_leaves(
    leaf_hashes: Iterable[bytes], *, size: int, edge: Mapping[Node, bytes]
) -> dict[Node, bytes]:
    """The complete-subtree hashes to store when ``leaf_hashes`` follow ``size`` leaves.

    ``edge`` holds the hashes of the current right edge (`root_nodes` ``(size)``;
    `append_nodes` ``(size)`` is enough for one leaf). The work is ``O(log n)``
    a leaf at worst, two hashes on average, whatever the size of the tree. The
    answer includes the leaves themselves (level 0), and the new right edge is
    ``root_nodes(size + len(leaf_hashes))`` taken from ``edge`` and the answer.

    Raises:
        TreeRangeError: ``size`` is negative or ``edge`` lacks a needed hash.
        MalformedError: a leaf hash is not 32 bytes.
    """
    _check_size(size)
    new: dict[Node, bytes] = {}
    for leaf in leaf_hashes:
        if len(leaf) != HASH_SIZE:
            raise MalformedError(f"a leaf hash is {HASH_SIZE} bytes, got {len(leaf)}")
        current, index = leaf, size
        new[Node(0, index)] = leaf
        for sibling in append_nodes(size):
            left = new.get(sibling) or edge.get(sibling)
            if left is None:
                raise TreeRangeError(
                    f"the right edge of a tree of size {size} lacks subtree "
                    f"(level {sibling.level}, index {sibling.index})"
                )
            current = node_hash(left, current)
            index >>= 1
            new[Node(sibling.level + 1, index)] = current
        size += 1
    return new


class MemoryHashSource:
    """A log's stored subtree hashes held in a dict (tests, tools, small logs).

    Stores what a database would: every complete subtree, about ``2n`` hashes.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._hashes: dict[Node, bytes] = {}
        self._size = 0

    @classmethod
    def of_leaves(cls, entries: Iterable[bytes]) -> MemoryHashSource:
        """A log holding ``entries`` (leaf data, hashed with `leaf_hash`) in order."""
        source = cls()
        source.append([leaf_hash(data) for data in entries])
        return source

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    def append(self, leaf_hashes: Sequence[bytes]) -> dict[Node, bytes]:
        """Append leaves by their hashes; answers the subtree hashes it stored.

        Raises:
            MalformedError: a leaf hash is not 32 bytes.
        """
        stored = append_leaves(leaf_hashes, size=self._size, edge=self._hashes)
        self._hashes.update(stored)
        self._size += len(leaf_hashes)
        return stored

    def subtree_hashes(self, nodes: Collection[Node]) -> Mapping[Node, bytes]:
        """The stored hashes of those of ``nodes`` that exist."""
        return {node: self._hashes[node] for node in nodes if node in self._hashes}


# --- Verification -------------------------------------------------------------


def _check_hashes(proof: Sequence[bytes]) -> None:
    for position, element in enumerate(proof):
        if not isinstance(element, bytes) or len(element) != HASH_SIZE:
            raise ProofError(f"proof element {position} is not a {HASH_SIZE}-byte hash")


def verify_inclusion(
    *, leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``.

    RFC 9162 §2.1.3.2, step by step.

    Raises:
        ProofError: the proof does not hold: the index is outside the tree, the
            leaf hash or a proof element is not 32 bytes, the proof has the
            wrong length, or the computed root differs.
    """
    if len(leaf_hash) != HASH_SIZE:
        raise ProofError(f"a leaf hash is {HASH_SIZE} bytes, got {len(leaf_hash)}")
    # Step 1: leaf_index must be smaller than tree_size.
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hashes(proof)
    # Steps 2-3.
    fn, sn = index, size - 1
    r = leaf_hash
    # Step 4.
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the leaf's path")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    # Step 5.
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the leaf's path")
    if r != root:
        raise ProofError(f"leaf {index} is not in the tree of size {size} with that root")


def verify_consistency(
    *,
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
) -> None:
    """Check that the tree of ``new_size`` leaves extends the tree of ``old_size`` leaves.

    RFC 9162 §2.1.4.2, step by step, for ``0 < old_size < new_size``; equal
    sizes need an empty proof and equal roots. A consistency check from the
    empty tree is refused: it proves nothing (RFC 9162 §2.1.4.1 defines proofs
    for ``0 < first``), and a monitor that has seen no tree yet has nothing to
    check.

    Raises:
        ProofError: the proof does not hold.
    """
    if new_size < old_size:
        raise ProofError(f"the new size {new_size} is smaller than the old size {old_size}")
    if old_size <= 0:
        raise ProofError("a consistency proof from an empty tree proves nothing")
    if old_size == new_size:
        if proof:
            raise ProofError("equal sizes need an empty consistency proof")
        if old_root != new_root:
            raise ProofError(f"two different roots for the same size {old_size}")
        return
    _check_hashes(proof)
    # Step 1.
    if not proof:
        raise ProofError("an empty consistency proof between different sizes")
    # Step 2: when first is an exact power of 2, its root is the first element.
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    # Steps 3-4.
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5.
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the trees allow")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # Step 7.
    if sn != 0:
        raise ProofError("the consistency proof is shorter than the trees need")
    if fr != old_root:
        raise ProofError(f"the proof does not lead to the old root (size {old_size})")
    if sr != new_root:
        raise ProofError(f"the proof does not lead to the new root (size {new_size})")
