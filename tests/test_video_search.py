"""The sample videos' captions, indexed by the real search engine: a shopper's words that are
spoken in a video find that video, starting at (or just before) the moment they are said."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_tools.video.build import VideoLibrary

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # loads the embedding model

SPOKEN = [
    ("twist the jar clockwise until the safety lock clicks", "blender-x2-assembly"),
    ("tap Report a delay", "track-your-order"),
    ("download the prepaid return label and print it", "start-a-return"),
    ("tape the label on top", "start-a-return"),
]


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    from kb_tools.search import Searcher, build_index

    lib = VideoLibrary(ROOT, Path("videos"), tmp_path_factory.mktemp("cache"))
    assert [p for p in lib.load() if p.is_error] == []
    index = tmp_path_factory.mktemp("index")
    build_index([], lib.records(), index, model="all-MiniLM-L6-v2",
                cache_dir=tmp_path_factory.mktemp("embeddings"), progress=False)  # fmt: skip
    return lib, Searcher(index)


@pytest.mark.parametrize(("words", "video_id"), SPOKEN)
def test_spoken_words_find_the_video_at_the_moment_they_are_said(searcher, words, video_id):
    lib, search = searcher
    [cue] = [c for c in lib.sources[video_id].captions["en"] if words.lower() in c.plain.lower()]
    # Lexical ranking isolates what this area owns: the cue times and chapters in the index.
    hit = search.search(words, k=3, lang="en", mode="lexical")[0]
    assert (hit.kind, hit.url.split("#")[0]) == ("video", f"videos/{video_id}/")
    assert hit.start is not None and hit.start <= cue.start < hit.start + 15, (hit.start, cue.start)
    assert hit.url.endswith(f"#t={int(hit.start)}")
    # The section is the chapter the words are spoken in.
    chapter = [c for c in lib.sources[video_id].chapters if c.start <= cue.start][-1]
    assert hit.section == chapter.title
    # The default (hybrid) search finds the same video first.
    top = search.search(words, k=3, lang="en")[0]
    assert (top.kind, top.url.split("#")[0]) == ("video", f"videos/{video_id}/")


def test_bengali_captions_are_searchable_in_bengali(searcher):
    lib, search = searcher
    hits = search.search("রিফান্ড", k=3, lang="bn")
    assert hits and hits[0].url.startswith("videos/start-a-return/") and hits[0].lang == "bn"
