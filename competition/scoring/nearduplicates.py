"""Near-duplicate attacks: datasketch MinHash signatures of word shingles, MinHashLSH candidates.

The definition (docs/scoring.md, "Attackers"):

- a conversation's shingles: every run of SHINGLE_WORDS consecutive words of its attacker text,
  lower-cased (words.shingles); each shingle's 32-bit hash is its 64-bit key (words.py) folded;
- its signature: datasketch's MinHash with NUM_PERM permutations, scheme "affine32", seed
  MINHASH_SEED, over those hashes. The permutations are fixed by the seed, so a recomputation gives
  the same signatures. They are computed here for all texts at once in numpy with the MinHash's own
  permutations (a x fmix32(h) + b mod 2^32, the minimum per permutation), which is what
  `MinHash.update_batch` computes one text at a time (a test checks they are equal);
- candidates: datasketch's MinHashLSH for NEAR_DUPLICATE_JACCARD and NUM_PERM (14 bands of 9 values):
  two conversations of the same attacker that agree on all values of some band;
- near-duplicates: candidates whose estimated Jaccard similarity (the share of equal signature
  values, `MinHash.jaccard`) is at least NEAR_DUPLICATE_JACCARD;
- clusters: near-duplicates grouped transitively (connected components). A cluster is one attack.

Two conversations with the same shingles have the same signature: they are near-duplicates without
going through the index.
"""

from __future__ import annotations

import functools

import numpy as np

NEAR_DUPLICATE_JACCARD = 0.7
SHINGLE_WORDS = 3
NUM_PERM = 128
MINHASH_SEED = 1
SCHEME = "affine32"

# Shingles per chunk of signature work: 4 MB of uint32, which stays in the processor's cache.
_ROWS_PER_CHUNK = 1 << 13

_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))


def _identity(value: int) -> int:
    return value


@functools.cache
def minhash_template():
    """The empty MinHash every signature starts from (its permutations are fixed by the seed);
    `hashfunc` is the identity because the shingle hashes are computed already (shingle_hashes)."""
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, hashfunc=_identity, scheme=SCHEME)


@functools.lru_cache(maxsize=16)
def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) for `num_perm` MinHash values at this Jaccard threshold, as datasketch's
    MinHashLSH chooses them with its default weights: the pair with bands x rows <= num_perm that
    minimises the mean of the false positive probability (the integral of 1 - (1 - s^r)^b over
    [0, threshold]) and the false negative one (the integral of (1 - s^r)^b over [threshold, 1]).

    Computed with Gauss-Legendre quadrature, exact for these polynomials of degree b x r <= num_perm
    (datasketch integrates each with scipy's quad: about 0.8 s for 64 values, which a dataset export
    paid every time; a test checks that both choose the same pair). The dataset exports' duplicate
    removal (judging/datasets/dedup.py) bands its index with this too.
    """
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)
    best, choice = float("inf"), (0, 0)
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            below = _integral(lambda s, b=b, r=r: 1 - (1 - s**r) ** b, 0.0, threshold, nodes, weights)
            above = _integral(lambda s, b=b, r=r: (1 - s**r) ** b, threshold, 1.0, nodes, weights)
            error = 0.5 * below + 0.5 * above
            if error < best:
                best, choice = error, (b, r)
    return choice


def _integral(function, low: float, high: float, nodes: np.ndarray, weights: np.ndarray) -> float:
    half = (high - low) / 2
    return float(half * np.sum(weights * function(half * nodes + (low + high) / 2)))


def shingle_hashes(keys: np.ndarray) -> np.ndarray:
    """The 32-bit hash of each 64-bit shingle key: its high half xor its low half."""
    return ((keys >> np.uint64(32)) ^ keys).astype(np.uint32)


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, which datasketch applies to every input hash (scheme affine32)."""
    s1, m1, s2, m2, s3 = _FMIX32
    values = values ^ (values >> s1)
    values = values * m1
    values = values ^ (values >> s2)
    values = values * m2
    return values ^ (values >> s3)


def signatures(docs: np.ndarray, hashes: np.ndarray, count: int) -> np.ndarray:
    """The MinHash signature (count x NUM_PERM, uint32) of every text from its shingles' hashes.

    docs: the text index of each hash, ascending, every text from 0 to count - 1 present at least once.
    """
    a, b = (values[:, None] for values in minhash_template().permutations)
    mixed = _fmix32(hashes.astype(np.uint32))[None, :]
    starts = np.searchsorted(docs, np.arange(count))
    # Permutations x shingles, a few thousand shingles at a time into one reused buffer that stays in
    # the processor's cache; the minimum runs along contiguous memory. (Shingles x permutations, or
    # large blocks, are ten times slower.)
    result = np.empty((NUM_PERM, count), dtype=np.uint32)
    buffer = np.empty((NUM_PERM, _ROWS_PER_CHUNK), dtype=np.uint32)
    first = 0
    while first < count:
        begin = starts[first]
        if begin + _ROWS_PER_CHUNK >= len(docs):
            last = count
        else:
            last = max(first + 1, int(np.searchsorted(starts, begin + _ROWS_PER_CHUNK, side="right")) - 1)
        end = starts[last] if last < count else len(docs)
        if end - begin > buffer.shape[1]:  # one text longer than a chunk
            buffer = np.empty((NUM_PERM, end - begin), dtype=np.uint32)
        permuted = buffer[:, : end - begin]
        np.multiply(a, mixed[:, begin:end], out=permuted)  # wraps mod 2^32, as datasketch's uint32 arithmetic
        permuted += b
        result[:, first:last] = np.minimum.reduceat(permuted, starts[first:last] - begin, axis=1)
        first = last
    return np.ascontiguousarray(result.T)


def _roots(parent: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """The root of each node in the union-find forest `parent`."""
    roots = parent[nodes]
    while True:
        up = parent[roots]
        if np.array_equal(up, roots):
            return roots
        roots = up


def _bucket_link(parent: np.ndarray, signature: np.ndarray, members: np.ndarray) -> None:
    """Join the members of one bucket (candidates of one attacker) that are near-duplicates.

    Each member in turn is compared with the later members that are not yet in its component, so
    every candidate pair is either checked or already joined through others: the components are those
    of the graph of all checked pairs, and a bucket of near-duplicates costs one pass, not n^2 / 2 pairs.
    """
    if np.all(_roots(parent, members) == _roots(parent, members[:1])[0]):
        return  # one component already (the same bucket in an earlier band, often)
    for position in range(len(members) - 1):
        roots = _roots(parent, members[position:])
        apart = roots[1:] != roots[0]
        if not apart.any():
            continue
        others = members[position + 1 :][apart]
        equal = np.count_nonzero(signature[others] == signature[members[position]], axis=1)
        close = equal / NUM_PERM >= NEAR_DUPLICATE_JACCARD  # MinHash.jaccard: the share of equal values
        parent[roots[1:][apart][close]] = roots[0]


def _buckets(keys: np.ndarray) -> list[np.ndarray]:
    """The positions of the rows of `keys` (a 2-D array) equal to one another, for every value held by
    at least two rows, each ascending."""
    rows_as_bytes = np.ascontiguousarray(keys).view(np.dtype((np.void, keys.dtype.itemsize * keys.shape[1]))).ravel()
    _, inverse, counts = np.unique(rows_as_bytes, return_inverse=True, return_counts=True)
    shared = counts[inverse.ravel()] > 1
    positions = np.flatnonzero(shared)
    order = np.argsort(inverse.ravel()[positions], kind="stable")
    positions = positions[order]
    sizes = counts[counts > 1]
    return np.split(positions, np.cumsum(sizes)[:-1]) if len(sizes) else []


def near_duplicate_components(groups: np.ndarray, signature: np.ndarray) -> np.ndarray:
    """A component label per row: rows of the same group (attacker) that are near-duplicates,
    directly or through others, share a label; rows of different groups never do.

    The candidates are those of datasketch's MinHashLSH with the bands `lsh_bands` chooses (band i is
    values i x r to (i + 1) x r - 1; a bucket is the rows equal on all of a band's values), found by
    sorting each band's values with the row's group in front instead of inserting every signature
    into the index one at a time in Python: the same buckets, split by group, in a tenth of the time
    and without the index's per-row objects. The components do not depend on the order buckets are
    joined in (_bucket_link).
    """
    if not len(groups):
        return np.empty(0, dtype=np.int64)
    # Rows with the same group and signature are one row for the index (and near-duplicates).
    keyed = np.ascontiguousarray(np.column_stack([groups.astype(np.uint32), signature]))
    rows_as_bytes = keyed.view(np.dtype((np.void, keyed.dtype.itemsize * keyed.shape[1]))).ravel()
    _, representative, inverse = np.unique(rows_as_bytes, return_index=True, return_inverse=True)
    distinct = signature[representative]
    group_column = keyed[representative, :1]
    bands, rows = lsh_bands(NEAR_DUPLICATE_JACCARD, NUM_PERM)
    parent = np.arange(len(distinct))
    for band in range(bands):
        values = distinct[:, band * rows : (band + 1) * rows]
        for members in _buckets(np.column_stack([group_column, values])):
            _bucket_link(parent, distinct, members)
    return _roots(parent, np.arange(len(distinct)))[inverse.ravel()]
