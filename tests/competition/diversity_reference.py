"""The diversity computation as it was before issue 22 (the whole round's words at once, datasketch's
MinHashLSH for candidates), kept verbatim as the reference the by-attacker computation must equal
(tests/competition/test_scoring_diversity.py). Not used by the platform."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from competition.scoring.diversity import Diversity, multiplier
from competition.scoring.nearduplicates import (
    MINHASH_SEED,
    NEAR_DUPLICATE_JACCARD,
    NUM_PERM,
    SCHEME,
    SHINGLE_WORDS,
    _roots,
    lsh_bands,
    shingle_hashes,
    signatures,
)
from competition.scoring.words import _BREAK, _WORD_OR_BREAK, Words, _word_hash, shingles


def words_read(texts: Sequence[str]) -> Words:
    """Lower-cased words (WORD_PATTERN) of every text. One regex pass over all the texts joined by a
    separator the pattern also matches, so the texts' boundaries come out with the words; each distinct
    word is hashed once."""
    flat = _WORD_OR_BREAK.findall(_BREAK.join(texts).lower())
    vocabulary = {word: index for index, word in enumerate(dict.fromkeys(flat))}
    hashes = np.fromiter(map(_word_hash, vocabulary), dtype=np.uint64, count=len(vocabulary))
    index = np.fromiter(map(vocabulary.__getitem__, flat), dtype=np.int64, count=len(flat))
    break_index = vocabulary.get(_BREAK, -1)
    breaks = index == break_index
    doc = np.cumsum(breaks)
    kept = index[~breaks]
    return Words(hashes=hashes[kept], index=kept, doc=doc[~breaks], count=len(texts), vocabulary=len(vocabulary))


def _bucket_link(parent: np.ndarray, signature: np.ndarray, members: np.ndarray) -> None:
    """Join the members of one bucket (candidates of one attacker) that are near-duplicates.

    Each member in turn is compared with the later members that are not yet in its component, so
    every candidate pair is either checked or already joined through others: the components are those
    of the graph of all checked pairs, and a bucket of near-duplicates costs one pass, not n^2 / 2 pairs.
    """
    for position in range(len(members) - 1):
        roots = _roots(parent, members[position:])
        apart = roots[1:] != roots[0]
        if not apart.any():
            continue
        others = members[position + 1 :][apart]
        equal = np.count_nonzero(signature[others] == signature[members[position]], axis=1)
        close = equal / NUM_PERM >= NEAR_DUPLICATE_JACCARD  # MinHash.jaccard: the share of equal values
        parent[roots[1:][apart][close]] = roots[0]


def near_duplicate_components(groups: np.ndarray, signature: np.ndarray) -> np.ndarray:
    """A component label per row: rows of the same group (attacker) that are near-duplicates,
    directly or through others, share a label; rows of different groups never do."""
    from datasketch import LeanMinHash, MinHashLSH

    if not len(groups):
        return np.empty(0, dtype=np.int64)
    # Rows with the same group and signature are one row for the index (and near-duplicates).
    keyed = np.ascontiguousarray(np.column_stack([groups.astype(np.uint32), signature]))
    rows_as_bytes = keyed.view(np.dtype((np.void, keyed.dtype.itemsize * keyed.shape[1]))).ravel()
    _, representative, inverse = np.unique(rows_as_bytes, return_index=True, return_inverse=True)
    distinct = signature[representative]
    distinct_groups = groups[representative]
    params = lsh_bands(NEAR_DUPLICATE_JACCARD, NUM_PERM)
    index = MinHashLSH(threshold=NEAR_DUPLICATE_JACCARD, num_perm=NUM_PERM, params=params)
    with index.insertion_session() as session:
        for position, values in enumerate(distinct):
            session.insert(position, LeanMinHash(seed=MINHASH_SEED, hashvalues=values, scheme=SCHEME))
    parent = np.arange(len(distinct))
    for table in index.hashtables:
        for key, size in table.itemcounts().items():
            if size < 2:
                continue
            members = np.sort(np.fromiter(table.get(key), dtype=np.int64, count=size))
            for group in np.unique(distinct_groups[members]):
                same = members[distinct_groups[members] == group]
                if len(same) > 1:
                    _bucket_link(parent, distinct, same)
    return _roots(parent, np.arange(len(distinct)))[inverse.ravel()]


def similarities(words: Words, sizes: np.ndarray) -> np.ndarray:
    """The mean pairwise cosine similarity of the TF-IDF vectors (word unigrams and bigrams) of each
    group of consecutive texts (sizes: texts per group, in order); 0 for a group of fewer than 2.

    The vectors are scikit-learn's TfidfTransformer(sublinear_tf=True) rows of the n-gram counts, the
    IDF fitted on all the texts. The mean over pairs uses |sum x|^2 = sum_i |x_i|^2 + sum_{i != j}
    x_i . x_j of L2-normalised rows x, so it costs one pass over the rows.

    One sort does it all: every (n-gram, text) occurrence becomes one integer, n-gram major, so after
    sorting, equal integers are an n-gram's count in a text, an n-gram's texts follow each other (its
    document frequency), and so do its texts of one group (texts are numbered group by group).
    """
    count, vocabulary = words.count, words.vocabulary
    if not len(words.index):
        return np.zeros(len(sizes))
    following = words.doc[:-1] == words.doc[1:]
    # n-gram numbers: a unigram is its word's number, a bigram (i, j) is vocabulary + i x vocabulary + j
    unigrams = words.index.astype(np.uint64)
    bigrams = np.uint64(vocabulary) * (np.uint64(1) + unigrams[:-1][following]) + unigrams[1:][following]
    occurrences = np.concatenate([unigrams, bigrams]) * np.uint64(count)
    occurrences += np.concatenate([words.doc, words.doc[:-1][following]]).astype(np.uint64)
    occurrences.sort()
    first = np.flatnonzero(np.concatenate([[True], occurrences[1:] != occurrences[:-1]]))
    repeats = np.diff(np.append(first, len(occurrences)))
    distinct = occurrences[first]
    ngram, doc = np.divmod(distinct, np.uint64(count))
    ngram_starts = np.flatnonzero(np.concatenate([[True], ngram[1:] != ngram[:-1]]))
    frequency = np.diff(np.append(ngram_starts, len(ngram)))  # texts holding each n-gram
    idf = np.log((1.0 + count) / (1.0 + frequency)) + 1.0
    weight = (1.0 + np.log(repeats)) * np.repeat(idf, frequency)
    doc = doc.astype(np.int64)
    weight /= np.sqrt(np.bincount(doc, weights=weight * weight, minlength=count))[doc]
    group = np.repeat(np.arange(len(sizes)), sizes)[doc]
    group_starts = np.flatnonzero(np.concatenate([[True], (ngram[1:] != ngram[:-1]) | (group[1:] != group[:-1])]))
    sums = np.add.reduceat(weight, group_starts)  # each group's sum vector, one n-gram at a time
    squared_sum = np.bincount(group[group_starts], weights=sums * sums, minlength=len(sizes))
    squares = np.bincount(group, weights=weight * weight, minlength=len(sizes))
    pairs = sizes * (sizes - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(pairs > 0, (squared_sum - squares) / np.maximum(pairs, 1), 0.0)
    return np.clip(mean, 0.0, 1.0)


def round_diversity(
    texts_by_attacker: dict[int, list[tuple[int, str]]], *, weight: float = 1.0
) -> dict[int, Diversity]:
    """Diversity of every attacker of a round: attacker id -> [(conversation id, attacker text)].

    Returns attacker id -> Diversity; `cluster_of` maps each conversation to the smallest
    conversation id of its cluster.
    """
    attackers = list(texts_by_attacker)
    sizes = np.array([len(texts_by_attacker[attacker]) for attacker in attackers], dtype=np.int64)
    if not sizes.sum():
        return {
            attacker: Diversity(0, 0, 0.0, multiplier(uniqueness=1.0, similarity=0.0, weight=weight), {})
            for attacker in attackers
        }
    ids = np.array([cid for attacker in attackers for cid, _ in texts_by_attacker[attacker]], dtype=np.int64)
    texts = [text for attacker in attackers for _, text in texts_by_attacker[attacker]]
    words = words_read(texts)
    groups = np.repeat(np.arange(len(attackers)), sizes)

    docs, keys = shingles(words, SHINGLE_WORDS, texts=texts)
    component = near_duplicate_components(groups, signatures(docs, shingle_hashes(keys), words.count))
    smallest = np.full(component.max() + 1, np.iinfo(np.int64).max)
    np.minimum.at(smallest, component, ids)
    cluster = smallest[component]

    similarity = similarities(words, sizes)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    result = {}
    for position, attacker in enumerate(attackers):
        start, stop = bounds[position], bounds[position + 1]
        count = int(stop - start)
        clusters = len(np.unique(cluster[start:stop]))
        uniqueness = clusters / count if count else 1.0
        result[attacker] = Diversity(
            conversations=count,
            clusters=clusters,
            similarity=float(similarity[position]),
            multiplier=multiplier(uniqueness=uniqueness, similarity=float(similarity[position]), weight=weight),
            cluster_of=dict(zip(ids[start:stop].tolist(), cluster[start:stop].tolist(), strict=True)),
        )
    return result
