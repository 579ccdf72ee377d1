"""bench/bench_reader.py: the reader's inputs are fitted on the training questions only, and its
AUC is bench_relevance's (the one every decision table reports)."""

from __future__ import annotations

import random

import numpy as np

from bench import bench_reader
from bench.bench_reader import Question, bootstrap, pca, reader, roc_auc
from bench.bench_relevance import roc_auc as pairwise_auc


def test_the_rank_auc_is_the_pairwise_one_ties_counting_half() -> None:
    rng = random.Random(3)
    pos = [rng.choice([0.1, 0.5, 0.7, 0.9]) for _ in range(40)]
    neg = [rng.choice([0.1, 0.3, 0.5, 0.7]) for _ in range(25)]
    assert abs(roc_auc(pos, neg) - pairwise_auc(pos, neg)) < 1e-12


def _questions(n: int, seed: int) -> list[Question]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        has = i % 3 != 0
        q = rng.normal(size=8) + (1.0 if has else -1.0)
        s = rng.normal(size=8)
        out.append(Question(f"q{i}", has, True, {}, q, s, [(int(has), s), (0, rng.normal(size=8))]))
    return out


def test_the_components_are_fitted_on_the_training_questions_only() -> None:
    train, test = _questions(60, 1), _questions(30, 2)
    project = pca("q*s", 3)(train)
    values = project(test)
    assert values.shape == (30, 3)
    # a question's values do not depend on which other questions are measured beside it ...
    assert np.allclose(project(test[:10]), values[:10])
    # ... and come from the training questions: other training questions, another projection
    assert not np.allclose(pca("q*s", 3)(_questions(60, 5))(test), values)


def test_a_reader_gives_its_training_questions_out_of_fold_values() -> None:
    train = _questions(60, 4)
    for hits in (False, True):
        values = reader("q", 10.0, hits=hits)(train)
        inner, fresh = values(train), values(list(train))  # the same questions, not the training list itself
        assert inner.shape == fresh.shape == (60, 1)
        assert not np.allclose(inner, fresh)  # in-sample values would be the model's own fit


def test_the_same_model_twice_gains_nothing() -> None:
    rng = np.random.default_rng(0)
    parts = {}
    for name in bench_reader.LEFT_OUT:
        y = rng.random(50) < 0.8
        p = rng.random(50) + y * 0.3
        parts[name] = (0.0, 0.0, 0.0, p, y)
    gains = bootstrap(parts, parts, 20)
    assert all(g == (0.0, 0.0, 0.0) for g in gains.values())
