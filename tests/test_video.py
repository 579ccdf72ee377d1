"""The video FAQ pipeline: real one-second clips made with ffmpeg in tmp_path, processed by
VideoLibrary, and checked the way a browser or a shopper would see them."""

from __future__ import annotations

import json
import re
import struct
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kb_tools.errors import VideoError
from kb_tools.records import Chapter, Cue
from kb_tools.video import ffmpeg
from kb_tools.video.build import VideoLibrary
from kb_tools.video.cache import EncodeSettings, EntryFacts, VideoCache
from kb_tools.video.captions import read_cues, to_webvtt
from kb_tools.video.cli import videos as videos_command
from kb_tools.video.embeds import EmbedRenderer
from kb_tools.video.pages import video_url_from
from kb_tools.video.pipeline import quiet_frame
from kb_tools.video.sources import VideoSource
from tests.video_project import H264_AAC, library, line_of, make_clip, write_video

ROOT = Path(__file__).resolve().parent.parent
CUE_TIMING = re.compile(r"^\d{2}:\d{2}:\d{2}\.\d{3} --> \d{2}:\d{2}:\d{2}\.\d{3}$")
ALLOWED_FRONT_MATTER = {"title", "summary", "category", "tags", "products", "lang", "contact_topic"}

MPEG4_MP3 = ["-c:v", "mpeg4", "-c:a", "libmp3lame"]


def top_level_boxes(path: Path) -> list[str]:
    """The MP4 top-level box types in file order (ftyp, moov, mdat, ...)."""
    boxes = []
    data = path.read_bytes()
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        boxes.append(kind.decode("latin-1"))
        offset += size
    return boxes


def probe_streams(path: Path) -> dict:
    out = subprocess.run(
        [ffmpeg.binaries().ffprobe, "-v", "error", "-print_format", "json", "-show_streams", str(path)],
        check=True, capture_output=True,
    )  # fmt: skip
    streams = json.loads(out.stdout)["streams"]
    return {s["codec_type"]: s for s in streams}


def jpeg_size(path: Path) -> tuple[int, int]:
    """(width, height) from a JPEG's SOF marker; fails the test if the file is not a JPEG."""
    data = path.read_bytes()
    assert data[:2] == b"\xff\xd8", f"{path} is not a JPEG"
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    raise AssertionError(f"{path}: no frame header")


SRT_BN = """1
00:00:00,000 --> 00:00:00,400
মাই অর্ডারস খুলুন

2
00:00:00,400 --> 00:00:00,900
জার ঘড়ির কাঁটার দিকে ঘোরান
"""


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {
        "h264": make_clip(folder / "fits.mp4"),
        "mpeg4": make_clip(folder / "old.mkv", codecs=MPEG4_MP3),
        "big": make_clip(folder / "big.mp4", size="330x250"),
    }


def test_transcoded_video_is_h264_yuv420p_aac_with_moov_first_poster_and_webvtt(tmp_path, clips):
    write_video(tmp_path, "old-camera", clips["mpeg4"])
    (tmp_path / "videos" / "old-camera.bn.srt").write_text(SRT_BN, encoding="utf-8")
    yml = tmp_path / "videos" / "old-camera.yml"
    data = yaml.safe_load(yml.read_text())
    data["captions"]["bn"] = "old-camera.bn.srt"
    yml.write_text(yaml.safe_dump(data, allow_unicode=True))
    lib = library(tmp_path)
    assert lib.load() == []
    site = tmp_path / "site"
    assert lib.process(site, progress=False) == []

    out = site / "videos" / "old-camera"
    streams = probe_streams(out / "video.mp4")
    assert streams["video"]["codec_name"] == "h264"
    assert streams["video"]["pix_fmt"] == "yuv420p"
    assert streams["audio"]["codec_name"] == "aac"
    boxes = top_level_boxes(out / "video.mp4")
    assert boxes.index("moov") < boxes.index("mdat"), boxes
    assert jpeg_size(out / "poster.jpg") == (320, 240)

    for name in ("captions.en.vtt", "captions.bn.vtt", "chapters.vtt"):
        text = (out / name).read_text(encoding="utf-8")
        assert text.startswith("WEBVTT\n\n"), name
        timings = [line for line in text.splitlines() if "-->" in line]
        assert timings and all(CUE_TIMING.match(t) for t in timings), timings
    bn = (out / "captions.bn.vtt").read_text(encoding="utf-8")
    assert "00:00:00.400 --> 00:00:00.900\nজার ঘড়ির কাঁটার দিকে ঘোরান" in bn
    chapters = (out / "chapters.vtt").read_text(encoding="utf-8")
    assert "00:00:00.500 --> " in chapters and "Second step" in chapters


def test_source_that_fits_is_remuxed_not_reencoded_and_gets_faststart(tmp_path, clips):
    source = clips["h264"]
    assert top_level_boxes(source).index("mdat") < top_level_boxes(source).index("moov")
    write_video(tmp_path, "fits", source)
    lib = library(tmp_path)
    lib.load()
    assert lib.process(tmp_path / "site", progress=False) == []
    out = tmp_path / "site" / "videos" / "fits" / "video.mp4"
    boxes = top_level_boxes(out)
    assert boxes.index("moov") < boxes.index("mdat")
    # Stream copy: the coded pictures are byte-identical to the source's.
    def packets(path: Path) -> bytes:
        return subprocess.run(
            [ffmpeg.binaries().ffmpeg, "-v", "error", "-i", str(path), "-map", "0:v", "-c", "copy",
             "-f", "framemd5", "-"], check=True, capture_output=True,
        ).stdout  # fmt: skip
    assert packets(out) == packets(source)
    assert lib.processed["fits"].mode == "remux"


def test_too_big_video_is_scaled_down_keeping_aspect_ratio_with_even_sizes(tmp_path, clips):
    write_video(tmp_path, "big", clips["big"])  # 330x250 H.264, would fit at 720p
    lib = library(tmp_path, max_height=120)  # box 213x120
    lib.load()
    assert lib.process(tmp_path / "site", progress=False) == []
    stream = probe_streams(tmp_path / "site" / "videos" / "big" / "video.mp4")["video"]
    width, height = stream["width"], stream["height"]
    assert height == 120 and width % 2 == 0 and height % 2 == 0
    assert abs(width / height - 330 / 250) < 0.02
    assert lib.processed["big"].mode == "transcode"


def test_phone_video_recorded_sideways_is_turned_upright_and_scaled(tmp_path, clips):
    rotated = tmp_path / "portrait.mp4"
    subprocess.run(
        [ffmpeg.binaries().ffmpeg, "-v", "error", "-display_rotation", "90", "-i", str(clips["h264"]),
         "-c", "copy", str(rotated)], check=True,
    )  # fmt: skip
    write_video(tmp_path, "portrait", rotated)
    lib = library(tmp_path, max_height=120)
    lib.load()
    assert lib.process(tmp_path / "site", progress=False) == []
    out = tmp_path / "site" / "videos" / "portrait"
    stream = probe_streams(out / "video.mp4")["video"]
    assert (stream["width"], stream["height"]) == (90, 120)  # 240x320 upright, fit to 120 high
    assert not any("rotation" in side for side in stream.get("side_data_list", []))
    assert jpeg_size(out / "poster.jpg") == (90, 120)


def test_unchanged_videos_are_never_processed_twice(tmp_path, clips):
    write_video(tmp_path, "one", clips["h264"])
    write_video(tmp_path, "two", clips["mpeg4"])
    first = library(tmp_path)
    first.load()
    assert first.process(tmp_path / "site1", progress=False) == []
    assert (first.stats.processed, first.stats.cached) == (2, 0)

    warm = library(tmp_path)
    warm.load()
    assert warm.process(tmp_path / "site2", progress=False) == []
    assert (warm.stats.processed, warm.stats.cached) == (0, 2)
    for video_id in ("one", "two"):
        assert (tmp_path / "site2" / "videos" / video_id / "video.mp4").stat().st_size > 0
        assert (tmp_path / "site2" / "videos" / video_id / "poster.jpg").stat().st_size > 0

    other_quality = library(tmp_path, crf=35)
    other_quality.load()
    other_quality.process(tmp_path / "site3", progress=False)
    assert other_quality.stats.processed == 2


def test_video_page_has_accessible_player_tracks_chapters_transcript_and_related(tmp_path, clips):
    (tmp_path / "docs" / "returns").mkdir(parents=True)
    (tmp_path / "docs" / "returns" / "start-a-return.md").write_text("---\ntitle: Start a return\n---\n# x\n")
    write_video(tmp_path, "howto", clips["h264"], related=["returns/start-a-return.md"])
    lib = library(tmp_path)
    assert lib.load() == []
    page = lib.pages()["videos/howto.md"]
    front, body = page.split("---\n")[1], page.split("---\n", 2)[2]
    keys = {line.split(":")[0] for line in front.splitlines() if line and not line.startswith("- ")}
    assert keys <= ALLOWED_FRONT_MATTER and "title" in keys
    video_tag = re.search(r"<video[^>]*>", body).group(0)
    for attr in ("controls", 'preload="metadata"', "playsinline", 'poster="poster.jpg"'):
        assert attr in video_tag
    assert "autoplay" not in body
    assert '<source src="video.mp4" type="video/mp4">' in body
    assert '<track kind="captions" srclang="en" label="English" src="captions.en.vtt" default>' in body
    assert '<track kind="chapters"' in body and 'src="chapters.vtt"' in body
    assert '<a href="#t=0.5" data-kb-seek="0.5"><span class="kb-video__time">0:00</span> Second step</a>' in body
    # Transcript: the words without markup, each with a clickable timestamp.
    assert 'href="#t=0.4"' in body and "Twist the jar clockwise until the safety lock clicks" in body
    assert "Open My Orders &amp; tap Track package" in body
    assert "- [Start a return](../returns/start-a-return.md)" in body

    index = lib.pages()["videos/index.md"]
    assert "## Returns & exchanges" in index and "### Blender X2" in index
    assert '<a href="howto/"><img src="howto/poster.jpg"' in index


@pytest.mark.parametrize(
    ("src_path", "expected"),
    [
        ("returns/start-a-return.md", "../../videos/howto/"),
        ("index.md", "videos/howto/"),
        ("returns/index.md", "../videos/howto/"),
        ("bn/returns/start-a-return.md", "../../../videos/howto/"),
    ],
)
def test_embed_links_are_relative_to_the_article(src_path, expected):
    assert video_url_from(src_path, "howto") == expected


def test_render_embeds_expands_the_line_and_reports_unknown_ids(tmp_path, clips):
    write_video(tmp_path, "howto", clips["h264"])
    lib = library(tmp_path)
    lib.load()
    markdown = (
        "# Start a return\n\nWatch:\n\n{{ video(\"howto\") }}\n\n```md\n{{ video(\"howto\") }}\n```\n"
        "\n{{ video('nope') }}\n"
    )
    html, problems = lib.render_embeds(markdown, "returns/start-a-return.md")
    assert '<a class="kb-video-embed__poster" href="../../videos/howto/" tabindex="-1" aria-hidden="true">' in html
    assert '<a href="../../videos/howto/">Watch: Video howto</a>' in html
    assert '<img src="../../videos/howto/poster.jpg"' in html
    assert 'href="../../videos/howto/#t=0.5"' in html  # chapter links seek on the video page
    assert "```md\n{{ video(\"howto\") }}\n```" in html  # code stays code
    assert [str(p) for p in problems] == [
        "docs/returns/start-a-return.md:11: error: unknown video 'nope'; videos are the "
        "videos/*.yml files (known: howto)"
    ]


def test_embed_on_a_bengali_page_leads_to_the_bengali_video_page(tmp_path, clips):
    write_video(tmp_path, "howto", clips["h264"], captions={"en": "howto.en.vtt", "bn": "howto.bn.srt"})
    (tmp_path / "videos" / "howto.bn.srt").write_text(SRT_BN, encoding="utf-8")
    write_video(tmp_path, "english-only", clips["h264"])
    lib = library(tmp_path)
    assert lib.load() == []
    html, problems = lib.render_embeds('{{ video("howto") }}\n{{ video("english-only") }}', "bn/returns/a.md")
    assert problems == []
    # With Bengali captions the video has a Bengali page (bn/videos/howto/); its media stay
    # the one copy under videos/howto/.
    assert '<a href="../../videos/howto/">ভিডিও দেখুন: Video howto</a>' in html
    assert 'href="../../videos/howto/#t=0.5"' in html
    assert '<img src="../../../videos/howto/poster.jpg"' in html
    # Without Bengali captions the link is the English video page.
    assert '<a href="../../../videos/english-only/">ভিডিও দেখুন: Video english-only</a>' in html


def test_chapter_titles_in_other_languages_reach_embeds_and_records(tmp_path, clips):
    write_video(tmp_path, "howto", clips["h264"], captions={"en": "howto.en.vtt", "bn": "howto.bn.srt"},
                chapters=[{"start": 0, "title": {"en": "Open My Orders", "bn": "মাই অর্ডারস খুলুন"}},
                          {"start": 0.5, "title": "Lock the jar"}])  # fmt: skip
    (tmp_path / "videos" / "howto.bn.srt").write_text(SRT_BN, encoding="utf-8")
    lib = library(tmp_path)
    assert lib.load() == []
    bn_html, _ = lib.render_embeds('{{ video("howto") }}', "bn/returns/a.md")
    en_html, _ = lib.render_embeds('{{ video("howto") }}', "returns/a.md")
    assert "0:00</span> মাই অর্ডারস খুলুন</a>" in bn_html and "Open My Orders" not in bn_html
    assert "0:00</span> Open My Orders</a>" in en_html
    by_lang = {r.lang: r for r in lib.records()}
    assert [c.title for c in by_lang["bn"].chapters] == ["মাই অর্ডারস খুলুন", "Lock the jar"]
    assert [c.title for c in by_lang["en"].chapters] == ["Open My Orders", "Lock the jar"]
    assert "Open My Orders" in lib.pages()["videos/howto.md"]  # the page speaks the video's language


def test_records_have_one_entry_per_caption_language_with_plain_cue_text(tmp_path, clips):
    write_video(tmp_path, "howto", clips["h264"])
    (tmp_path / "videos" / "howto.bn.srt").write_text(SRT_BN, encoding="utf-8")
    yml = tmp_path / "videos" / "howto.yml"
    data = yaml.safe_load(yml.read_text())
    data["captions"]["bn"] = "howto.bn.srt"
    yml.write_text(yaml.safe_dump(data, allow_unicode=True))
    lib = library(tmp_path)
    assert lib.load() == []
    by_lang = {r.lang: r for r in lib.records()}
    assert set(by_lang) == {"en", "bn"}
    en = by_lang["en"]
    assert en.url == "videos/howto/" and en.title == "Video howto"
    assert en.cues == (
        Cue(0.0, 0.4, "Open My Orders & tap Track package"),
        Cue(0.4, 0.9, "Twist the jar clockwise until the safety lock clicks"),
    )
    assert [c.title for c in en.chapters] == ["First step", "Second step"]
    assert by_lang["bn"].cues[1].text == "জার ঘড়ির কাঁটার দিকে ঘোরান"
    lib.process(tmp_path / "site", progress=False)
    assert lib.records()[0].duration == pytest.approx(1.0, abs=0.1)


def test_srt_is_normalised_to_webvtt(tmp_path):
    srt = tmp_path / "x.srt"
    srt.write_text("\ufeff1\r\n00:00:01,5 --> 00:00:02,000\r\n{\\an8}Hello\r\nworld\r\n\r\n", encoding="utf-8")
    cues, problems = read_cues(srt, "videos/x.srt")
    assert problems == []
    assert to_webvtt(cues) == "WEBVTT\n\n00:00:01.500 --> 00:00:02.000\nHello\nworld\n"


def test_kb_videos_command_processes_then_uses_the_cache(tmp_path, clips, monkeypatch):
    write_video(tmp_path, "howto", clips["h264"])
    monkeypatch.chdir(tmp_path)  # no mkdocs.yml: the default folders, relative to here
    runner = CliRunner()
    first = runner.invoke(videos_command, ["--no-progress"])
    assert first.exit_code == 0, first.output
    assert "1 video(s): 1 processed, 0 from the cache, 0 failed" in first.output
    assert re.search(r"^  howto: remux in \d+\.\d\ds$", first.output, re.M), first.output
    again = runner.invoke(videos_command, ["--no-progress", "--site-dir", str(tmp_path / "site")])
    assert again.exit_code == 0, again.output
    assert "1 video(s): 0 processed, 1 from the cache, 0 failed" in again.output
    assert "  howto: cached in " in again.output
    assert (tmp_path / "site" / "videos" / "howto" / "video.mp4").is_file()


def test_prune_deletes_only_entries_no_video_uses(tmp_path, clips):
    write_video(tmp_path, "howto", clips["h264"])
    (tmp_path / "docs").mkdir()
    (tmp_path / "mkdocs.yml").write_text("site_name: Videos\nplugins:\n  - kb:\n      video_jobs: 1\n")
    runner = CliRunner()
    args = ["-f", str(tmp_path / "mkdocs.yml"), "--no-progress"]
    assert runner.invoke(videos_command, [*args, "--crf", "35"]).exit_code == 0
    assert runner.invoke(videos_command, args).exit_code == 0
    entries = lambda: sorted(p for p in (tmp_path / ".kb_cache" / "video").iterdir() if p.is_dir())  # noqa: E731
    assert len(entries()) == 2  # one per quality setting
    result = runner.invoke(videos_command, [*args, "--prune"])
    assert result.exit_code == 0 and "pruned 1 cache entry" in result.output
    assert len(entries()) == 1
    again = runner.invoke(videos_command, args)
    assert "0 processed, 1 from the cache" in again.output  # the one in use was kept


def test_sample_videos_are_valid_short_and_captioned():
    lib = VideoLibrary(ROOT, Path("videos"), Path(".kb_cache"))
    problems = lib.load()
    assert [str(p) for p in problems if p.is_error] == []
    assert {"start-a-return", "track-your-order", "blender-x2-assembly"} <= set(lib.sources)
    total = 0
    modes = set()
    for source in lib.sources.values():
        info = ffmpeg.probe(source.media)
        assert 20 <= info.duration <= 45, source.id
        assert source.captions["en"][-1].end <= info.duration
        modes.add(ffmpeg.fits(info, 720))
        total += source.media.stat().st_size
    assert modes == {True, False}  # the demo runs both the remux and the transcode path
    assert total < 5 * 1024 * 1024
    assert any("bn" in s.captions for s in lib.sources.values())


def test_player_size_is_known_before_the_first_processing(tmp_path, clips):
    write_video(tmp_path, "big", clips["big"])  # 330x250
    lib = library(tmp_path, max_height=120)
    lib.load()
    page = lib.pages()["videos/big.md"]  # nothing processed yet
    assert 'width="158" height="120"' in page
    lib.process(tmp_path / "site", progress=False)
    stream = probe_streams(tmp_path / "site" / "videos" / "big" / "video.mp4")["video"]
    assert f'width="{stream["width"]}" height="{stream["height"]}"' in lib.pages()["videos/big.md"]


def test_an_embeds_length_is_known_before_the_first_processing(tmp_path, clips):
    # A first build renders the pages before it processes the videos: its embeds (and the
    # search records made from them) must show the length every later build shows.
    write_video(tmp_path, "big", clips["big"])
    lib = library(tmp_path, max_height=120)
    lib.load()
    cold, _ = lib.render_embeds('{{ video("big") }}', "returns/a.md")  # nothing processed yet
    assert 'class="kb-video-embed__duration">(0:' in cold
    lib.process(tmp_path / "site", progress=False)
    warm, _ = lib.render_embeds('{{ video("big") }}', "returns/a.md")
    assert warm == cold
    assert [r.duration for r in lib.records()] == [pytest.approx(lib.processed["big"].info.duration)]


# -- the parts VideoLibrary coordinates: the embed renderer and the cache -----------------------

def embed_renderer(**settings: object) -> EmbedRenderer:
    """A renderer over one known video (no ffmpeg, no files) and one whose sidecar is broken."""
    source = VideoSource(id="howto", yml="clips/howto.yml", title="How to", media=Path("clips/howto.mp4"),
                         media_shown="clips/howto.mp4", chapters=[Chapter(0.0, "Start"), Chapter(5.0, "Lock")])
    options = {"sources": {"howto": source}, "broken": {"draft"}, "chapters": {"howto": source.chapters},
               "duration": lambda s: 12.0, "docs_shown": "articles", "videos_shown": "clips",
               "languages": ("en", "gu"), "use_directory_urls": True}  # fmt: skip
    return EmbedRenderer(**{**options, **settings})  # type: ignore[arg-type]


def test_embed_renderer_names_the_projects_folders_in_its_problems() -> None:
    html, problems = embed_renderer().render('{{ video("draft") }}\n{{ video("nope") }}\n', "returns/a.md")
    assert html == '{{ video("draft") }}\n{{ video("nope") }}\n'  # left as written, and reported
    assert [str(p) for p in problems] == [
        "articles/returns/a.md:1: error: video 'draft' is left out: clips/draft.yml or its captions have "
        "errors (listed with their lines); fix them",
        "articles/returns/a.md:2: error: unknown video 'nope'; videos are the clips/*.yml files (known: howto)",
    ]


def test_embed_renderer_follows_the_sites_languages_and_url_style() -> None:
    gu, _ = embed_renderer().render('{{ video("howto") }}', "gu/returns/a.md")
    assert '<a href="../../../videos/howto/">વિડિયો જુઓ: How to</a> <span class="kb-video-embed__duration">(0:12)' in gu
    # "bn" is not a language of this site: a folder of that name is just a folder.
    bn, _ = embed_renderer().render('{{ video("howto") }}', "bn/returns/a.md")
    assert ">Watch: How to</a>" in bn
    flat, _ = embed_renderer(use_directory_urls=False).render('{{ video("howto") }}', "returns/a.md")
    assert '<a href="../videos/howto.html">Watch: How to</a>' in flat
    assert 'href="../videos/howto.html#t=5"' in flat and '<img src="../videos/howto/poster.jpg"' in flat


def test_cache_entry_appears_only_when_it_is_complete(tmp_path: Path) -> None:
    media = tmp_path / "clip.mp4"
    media.write_bytes(b"not really a video")
    cache = VideoCache(tmp_path / "cache", EncodeSettings(crf=30))
    key = cache.key(media)
    assert key == cache.key(media) and key != VideoCache(tmp_path / "cache", EncodeSettings(crf=31)).key(media)
    assert json.loads((tmp_path / "cache" / "video" / "hashes.json").read_text())[str(media)][:1] == [18]

    def fail(folder: Path) -> EntryFacts:
        (folder / "video.mp4").write_bytes(b"half")
        raise VideoError("ffmpeg failed")

    with pytest.raises(VideoError):
        cache.create(key, fail)
    assert cache.lookup(media) is None
    assert [p.name for p in (tmp_path / "cache" / "video").iterdir()] == ["hashes.json"]  # no leftovers
    def succeed(folder: Path) -> EntryFacts:
        (folder / "video.mp4").write_bytes(b"ok")
        info = ffmpeg.MediaInfo(1.0, 320, 240, 0, "h264", "yuv420p", "aac", "mov,mp4")
        return info, info, "remux", "clip.mp4"

    done = cache.create(key, succeed)
    assert cache.lookup(media) == done and done.video.read_bytes() == b"ok"
    assert cache.prune(keep={key}) == (0, 0) and cache.prune(keep=set())[0] == 1


# -- issue 13.4: posters and pages per language ---------------------------------------------------


def scene_clip(path: Path, scenes: list[str]) -> Path:
    """A clip of one-second scenes: "plain" is a card with a box on it (smooth, few edges),
    "busy" is ffmpeg's test pattern (edges everywhere, like text laid over a picture)."""
    sources = {"plain": "color=c=0x0f766e:s=320x180:r=15:d=1,drawbox=x=120:y=50:w=80:h=80:color=0xd9a55b:t=fill",
               "busy": "testsrc2=size=320x180:rate=15:duration=1"}  # fmt: skip
    graph = ";".join(f"{sources[s]}[v{n}]" for n, s in enumerate(scenes))
    graph += ";" + "".join(f"[v{n}]" for n in range(len(scenes))) + f"concat=n={len(scenes)}:v=1:a=0[v]"
    subprocess.run([ffmpeg.binaries().ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
                    "-filter_complex", graph, "-f", "lavfi", "-i", f"sine=frequency=440:duration={len(scenes)}",
                    "-map", "[v]", "-map", "0:a", *H264_AAC, "-shortest", str(path)], check=True)  # fmt: skip
    return path


@pytest.mark.parametrize(("scenes", "window"), [(["plain", "busy", "busy"], (0.0, 1.0)),
                                                 (["busy", "plain", "plain"], (1.0, 3.0))])
def test_the_default_poster_is_the_quietest_frame_near_the_start(tmp_path, scenes, window):
    clip = scene_clip(tmp_path / "clip.mp4", scenes)
    low, high = window
    assert low <= quiet_frame(clip, float(len(scenes))) < high


def test_poster_at_chooses_the_frame_and_without_it_the_build_picks_one(tmp_path):
    clip = scene_clip(tmp_path / "clip.mp4", ["busy", "plain", "plain"])
    write_video(tmp_path, "chosen", clip, poster_at=0.5)
    write_video(tmp_path, "picked", clip, poster_at=None)
    lib = library(tmp_path)
    assert lib.load() == []
    assert lib.process(tmp_path / "site", progress=False) == []
    chosen = (tmp_path / "site/videos/chosen/poster.jpg").read_bytes()
    picked = (tmp_path / "site/videos/picked/poster.jpg").read_bytes()
    assert chosen and picked and chosen != picked  # the test pattern at 0.5 s, the quiet card after 1 s


def test_title_and_summary_by_language_make_a_page_per_language(tmp_path, clips):
    (tmp_path / "videos").mkdir()
    (tmp_path / "videos" / "howto.bn.srt").write_text(SRT_BN, encoding="utf-8")
    write_video(tmp_path, "howto", clips["h264"], captions={"en": "howto.en.vtt", "bn": "howto.bn.srt"},
                title={"en": "Start a return", "bn": "রিটার্ন শুরু করুন"},
                summary={"en": "Three steps.", "bn": "তিনটি ধাপ।"},
                chapters=[{"start": 0, "title": {"en": "Open My Orders", "bn": "মাই অর্ডারস খুলুন"}}])  # fmt: skip
    write_video(tmp_path, "english-only", clips["h264"])
    lib = library(tmp_path)
    assert lib.load() == []
    pages = lib.pages()
    assert sorted(pages) == ["bn/videos/howto.md", "bn/videos/index.md", "videos/english-only.md",
                             "videos/howto.md", "videos/index.md"]
    bn = pages["bn/videos/howto.md"]
    assert "\n# রিটার্ন শুরু করুন\n" in bn and "তিনটি ধাপ।" in bn and "মাই অর্ডারস খুলুন" in bn
    assert "## অধ্যায়" in bn and "## ট্রান্সক্রিপ্ট" in bn
    # Bengali captions first and shown by default; the media are the English page's copy.
    assert '<track kind="captions" srclang="bn" label="বাংলা" src="../../../videos/howto/captions.bn.vtt" default>' in bn
    assert '<source src="../../../videos/howto/video.mp4" type="video/mp4">' in bn
    index = pages["bn/videos/index.md"]
    assert "\n# ভিডিও\n" in index
    assert '<a href="howto/">' in index and "রিটার্ন শুরু করুন" in index
    # A video without Bengali captions links to its English page and says so.
    assert '<a href="../../videos/english-only/">' in index and "(English)" in index
    assert "\n# Start a return\n" in pages["videos/howto.md"]
    records = {(r.id, r.lang): r for r in lib.records()}
    assert records[("howto", "bn")].url == "bn/videos/howto/"
    assert records[("howto", "bn")].title == "রিটার্ন শুরু করুন"
    assert records[("howto", "en")].url == "videos/howto/"
    # A Bengali article's embed leads to the Bengali page.
    html, _ = lib.render_embeds('{{ video("howto") }}', "bn/returns/a.md")
    assert '<a href="../../videos/howto/">ভিডিও দেখুন: রিটার্ন শুরু করুন</a>' in html


def test_a_title_by_language_must_include_the_videos_own(tmp_path, clips):
    yml = write_video(tmp_path, "howto", clips["h264"], title={"bn": "রিটার্ন শুরু করুন"})
    lib = library(tmp_path)
    messages = [str(p) for p in lib.load()]
    assert (f"videos/howto.yml:{line_of(yml, 'title:')}: error: 'title:' by language must include the "
            "video's language 'en', e.g. title: {en: ..., bn: ...}") in messages


def test_the_players_styles_are_inline_so_no_stylesheet_holds_back_the_first_paint() -> None:
    from kb_tools.browser_assets import BrowserAssets, minified_css

    # Comments and layout whitespace go; the spaces that mean something stay.
    assert minified_css("/* x */\n[dir] .a > b ,\n .c:hover {\n  margin: 0 1em;\n}\n") == "[dir] .a>b,.c:hover{margin:0 1em}"
    assets = BrowserAssets(compact_tabs=True)
    video_page = '<html><head></head><body><nav class="md-tabs"></nav><div class="kb-video"></div></body></html>'
    head = assets.add_to(video_page, "videos/howto/").split("</head>")[0]
    styles = re.findall(r"<style>(.*?)</style>", head, re.S)
    assert len(styles) == 1 and ".kb-video video{" in styles[0] and ".md-tabs__item{" in styles[0]
    assert 'rel="stylesheet"' not in head
    assert re.search(r'<script defer src="\.\./\.\./assets/kb/kb-video\.[0-9a-f]{10}\.js"></script>', head)
    assert not any(uri.endswith(".css") and "kb-video" in uri for uri in assets.files)
    # A page without a video or tabs gets no <style> at all.
    assert "<style>" not in assets.add_to("<html><head></head><body><p>x</p></body></html>", "a/")
