"""Agreement statistics between human annotators, and between each judge and the human majority.

Pure functions on plain data, no database: a label's ratings are a mapping
``item -> {rater: value}``, the values hashable (True/False for flags, integers for severity and
quality), a missing or None value meaning "not rated". Every figure comes with the number of items
it was computed on (``Figure.items``); a figure that is undefined on the data (fewer than two
ratings per item, or every rating the same category where the formula divides by zero) is None,
never a made-up number.

Formulas:
- percent agreement: the mean over items with >= 2 ratings of the share of agreeing rater pairs;
- Cohen's kappa (Cohen 1960) for each pair of raters on the items both rated, and their mean;
- Fleiss' kappa (Fleiss 1971), statsmodels' formula in numpy, on the items with the most common
  number (>= 2) of ratings, since the formula needs the same number of raters per item;
- Krippendorff's alpha (Krippendorff 2011) by the `krippendorff` package, nominal for flags, ordinal
  for severity and quality; it takes any number of ratings per item;
- Gwet's AC1 (Gwet 2008, "Computing inter-rater reliability and its variance in the presence of high
  agreement", Br. J. Math. Stat. Psychol. 61:29-48), written here: stable when almost every reply is
  safe, where the kappas collapse (the "kappa paradox").
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

Ratings = Mapping[Hashable, Mapping[Hashable, Hashable | None]]

NOMINAL = "nominal"
ORDINAL = "ordinal"


@dataclass(frozen=True)
class Figure:
    """One agreement figure: its value (None when undefined on the data) and the items it used."""

    value: float | None
    items: int
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _number(value: float) -> float | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else float(value)


def _rated(ratings: Ratings, *, minimum: int = 2) -> dict[Hashable, dict[Hashable, Hashable]]:
    """The items with at least `minimum` non-missing ratings, missing ones dropped."""
    kept = {}
    for item, by_rater in ratings.items():
        values = {rater: value for rater, value in by_rater.items() if value is not None}
        if len(values) >= minimum:
            kept[item] = values
    return kept


def percent_agreement(ratings: Ratings) -> Figure:
    """Mean share of agreeing rater pairs per item, over items with at least two ratings."""
    items = _rated(ratings)
    if not items:
        return Figure(None, 0)
    shares = []
    for values in items.values():
        pairs = list(combinations(values.values(), 2))
        shares.append(sum(a == b for a, b in pairs) / len(pairs))
    return Figure(sum(shares) / len(shares), len(items))


def cohen_kappa(first: Sequence[Hashable], second: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two raters' paired ratings: (po - pe) / (1 - pe); None when pe is 1."""
    if len(first) != len(second):
        raise ValueError("Cohen's kappa needs paired ratings of equal length")
    n = len(first)
    if n == 0:
        return None
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    first_counts, second_counts = Counter(first), Counter(second)
    expected = sum(first_counts[c] * second_counts[c] for c in set(first_counts) | set(second_counts)) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


KAPPA_UNDEFINED = "every pair gave one same value throughout: chance agreement is 1, so kappa is undefined"


def cohen_kappa_pairs(ratings: Ratings) -> Figure:
    """Cohen's kappa of every pair of raters on the items both rated; the value is their mean over
    the pairs where it is defined, `detail["pairs"]` lists each pair with its kappa and items.

    `items` counts the items some pair rated, as the pairs' detail does, also when no pair's kappa
    is defined; then `detail["undefined"]` says why (KAPPA_UNDEFINED)."""
    raters = sorted({rater for by_rater in ratings.values() for rater in by_rater}, key=str)
    pairs = []
    items_used: set[Hashable] = set()
    for a, b in combinations(raters, 2):
        shared = [
            item for item, by_rater in ratings.items() if by_rater.get(a) is not None and by_rater.get(b) is not None
        ]
        if not shared:
            continue
        kappa = cohen_kappa([ratings[item][a] for item in shared], [ratings[item][b] for item in shared])
        pairs.append({"raters": [str(a), str(b)], "kappa": kappa, "items": len(shared)})
        items_used.update(shared)
    defined = [pair["kappa"] for pair in pairs if pair["kappa"] is not None]
    value = sum(defined) / len(defined) if defined else None
    detail: dict[str, Any] = {"pairs": pairs}
    if pairs and value is None:
        detail["undefined"] = KAPPA_UNDEFINED
    return Figure(value, len(items_used), detail)


def _category_table(items: Iterable[Mapping[Hashable, Hashable]], categories: Sequence[Hashable]) -> np.ndarray:
    index = {category: position for position, category in enumerate(categories)}
    rows = []
    for values in items:
        row = [0] * len(categories)
        for value in values.values():
            row[index[value]] += 1
        rows.append(row)
    return np.array(rows, dtype=float)


def _categories(ratings: Ratings, categories: Sequence[Hashable] | None) -> list[Hashable]:
    seen = {value for by_rater in ratings.values() for value in by_rater.values() if value is not None}
    if categories is None:
        return sorted(seen, key=lambda value: (str(type(value)), value))
    unknown = seen - set(categories)
    if unknown:
        raise ValueError(f"ratings outside the categories {list(categories)}: {sorted(map(str, unknown))}")
    return list(categories)


def fleiss_kappa(ratings: Ratings, categories: Sequence[Hashable] | None = None) -> Figure:
    """Fleiss' kappa (Fleiss 1971, as statsmodels computes it) over the items that have the most common
    number (>= 2) of ratings; `detail["raters_per_item"]` says which number that is."""
    items = _rated(ratings)
    if not items:
        return Figure(None, 0)
    counts = Counter(len(values) for values in items.values())
    raters_per_item = max(counts, key=lambda n: (counts[n], n))
    kept = [values for values in items.values() if len(values) == raters_per_item]
    table = _category_table(kept, _categories(ratings, categories))
    with np.errstate(divide="ignore", invalid="ignore"):
        value = _fleiss(table)
    return Figure(_number(value), len(kept), {"raters_per_item": raters_per_item})


def _fleiss(table: np.ndarray) -> float:
    """Fleiss' kappa of an items x categories count table with the same number n of ratings per item
    (Fleiss 1971): P_i = (sum_j n_ij^2 - n) / (n (n - 1)), p_j = sum_i n_ij / (N n),
    kappa = (mean P_i - sum_j p_j^2) / (1 - sum_j p_j^2); nan when every rating is one category.

    The formula of statsmodels' ``fleiss_kappa(method="fleiss")``, which the tests compare it with:
    importing statsmodels (pandas, scipy) took 8 s on a loaded machine, paid by the first campaign
    page of every web process (issue 21: "the campaign page took 4.0 s on its first load")."""
    items = table.shape[0]
    raters = table[0].sum()
    agreement_per_item = ((table * table).sum(axis=1) - raters) / (raters * (raters - 1))
    shares = table.sum(axis=0) / (items * raters)
    chance = (shares * shares).sum()
    return float((agreement_per_item.mean() - chance) / (1 - chance))


def krippendorff_alpha(
    ratings: Ratings, *, level: str = NOMINAL, categories: Sequence[Hashable] | None = None
) -> Figure:
    """Krippendorff's alpha (the `krippendorff` package) at `level` ("nominal" or "ordinal"), over
    the items with at least two ratings. Ordinal categories must be numbers in their order."""
    if level not in (NOMINAL, ORDINAL):
        raise ValueError(f"unknown level of measurement {level!r}")
    items = _rated(ratings)
    domain = _categories(ratings, categories)
    if not items or len(domain) < 2:
        return Figure(None, len(items))
    raters = sorted({rater for values in items.values() for rater in values}, key=str)
    codes = {category: position for position, category in enumerate(domain)}
    data = np.full((len(raters), len(items)), np.nan)
    for column, values in enumerate(items.values()):
        for row, rater in enumerate(raters):
            if rater in values:
                # Nominal categories are coded by position; ordinal ones keep their order by position too.
                data[row, column] = codes[values[rater]]
    import krippendorff  # imported here: only the pages that compute agreement pay its import

    with np.errstate(divide="ignore", invalid="ignore"):
        value = krippendorff.alpha(
            reliability_data=data, level_of_measurement=level, value_domain=list(range(len(domain)))
        )
    return Figure(_number(value), len(items))


def gwet_ac1(ratings: Ratings, categories: Sequence[Hashable] | None = None) -> Figure:
    """Gwet's AC1 for any number of raters per item (Gwet 2008, eq. for multiple raters), over items
    with at least two ratings:

    pa = mean over items i of sum_k r_ik (r_ik - 1) / (r_i (r_i - 1)),
    pi_k = mean over items of r_ik / r_i,  pe = sum_k pi_k (1 - pi_k) / (q - 1),
    AC1 = (pa - pe) / (1 - pe),

    with r_i the ratings of item i, r_ik those in category k and q the number of categories (given,
    or those seen). Undefined (None) with fewer than two categories.
    """
    items = _rated(ratings)
    domain = _categories(ratings, categories)
    if not items or len(domain) < 2:
        return Figure(None, len(items))
    table = _category_table(items.values(), domain)
    per_item = table.sum(axis=1)
    pa = float(np.mean((table * (table - 1)).sum(axis=1) / (per_item * (per_item - 1))))
    pi = (table / per_item[:, None]).mean(axis=0)
    pe = float((pi * (1 - pi)).sum() / (len(domain) - 1))
    if pe == 1:
        return Figure(None, len(items))
    return Figure((pa - pe) / (1 - pe), len(items))


def agreement_figures(ratings: Ratings, *, level: str, categories: Sequence[Hashable]) -> dict[str, dict]:
    """Every figure for one label: percent agreement, Cohen's kappa (pairs), Fleiss' kappa,
    Krippendorff's alpha at `level`, Gwet's AC1; each as {"value", "items", "detail"}."""
    return {
        "percent_agreement": percent_agreement(ratings).as_dict(),
        "cohen_kappa": cohen_kappa_pairs(ratings).as_dict(),
        "fleiss_kappa": fleiss_kappa(ratings, categories).as_dict(),
        "krippendorff_alpha": krippendorff_alpha(ratings, level=level, categories=categories).as_dict(),
        "gwet_ac1": gwet_ac1(ratings, categories).as_dict(),
    }


def majority(values: Iterable[Hashable | None]) -> Hashable | None:
    """The strict majority of the non-missing values, or None on a tie or with no value."""
    counts = Counter(value for value in values if value is not None).most_common()
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return None
    return counts[0][0]


def judge_against_majority(
    judge: Mapping[Hashable, bool | None], human_majority: Mapping[Hashable, bool | None]
) -> dict[str, Any]:
    """A judge's flags against the human majority on the items where both say something:
    precision and recall of the judge's True (the humans' True being the truth), Cohen's kappa,
    and the number of items. Precision is None when the judge said True nowhere; recall when the
    humans did."""
    items = [item for item, truth in human_majority.items() if truth is not None and judge.get(item) is not None]
    predicted = [bool(judge[item]) for item in items]
    truth = [bool(human_majority[item]) for item in items]
    true_positive = sum(p and t for p, t in zip(predicted, truth, strict=True))
    said_true, are_true = sum(predicted), sum(truth)
    return {
        "precision": true_positive / said_true if said_true else None,
        "recall": true_positive / are_true if are_true else None,
        "kappa": cohen_kappa(predicted, truth),
        "items": len(items),
    }
