"""The generated Markdown of video pages, the "Videos" index and `{{ video("id") }}` embeds.

Pages are Markdown with front matter; the player, chapter list and transcript are raw HTML
blocks (left alone by Python-Markdown), while headings and related-article links stay
Markdown so MkDocs puts them in the table of contents and checks the links.
Media are referenced relatively ("video.mp4" from /videos/<id>/), so the site works under
any base path and offline.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape

import yaml
from mkdocs.utils import get_relative_url

from kb_tools.content.languages import language_name
from kb_tools.content.urls import page_url
from kb_tools.records import Chapter
from kb_tools.video.captions import CaptionCue
from kb_tools.video.sources import VideoSource


def clock(seconds: float) -> str:
    """12.4 -> "0:12", 3725 -> "1:02:05" (what a player shows)."""
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _t(seconds: float) -> str:
    """A #t= value: whole seconds when exact, else one decimal."""
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:.1f}"


def front_matter(meta: dict) -> str:
    kept = {k: v for k, v in meta.items() if v not in ("", None, (), [])}
    kept = {k: list(v) if isinstance(v, tuple) else v for k, v in kept.items()}
    return "---\n" + yaml.safe_dump(kept, allow_unicode=True, sort_keys=False) + "---\n"


def caption_langs(source: VideoSource) -> list[str]:
    """Caption languages, the video's own language first."""
    return sorted(source.captions, key=lambda lang: (lang != source.lang, lang))


def _chapter_items(chapters: list[Chapter], base: str) -> str:
    items = "".join(
        f'<li><a href="{base}#t={_t(c.start)}" data-kb-seek="{_t(c.start)}">'
        f'<span class="kb-video__time">{clock(c.start)}</span> {escape(c.title)}</a></li>'
        for c in chapters
    )
    return items


def _transcript(cues: list[CaptionCue], lang: str) -> str:
    items = "".join(
        f'<li data-start="{c.start:.3f}" data-end="{c.end:.3f}">'
        f'<a href="#t={_t(c.start)}" data-kb-seek="{_t(c.start)}" class="kb-video__time" '
        f'aria-label="Play from {clock(c.start)}">{clock(c.start)}</a> '
        f'<span class="kb-video__cue-text">{escape(c.plain)}</span></li>'
        for c in cues
    )
    return f'<ol class="kb-video__cues" lang="{escape(lang)}">{items}</ol>'


def video_page(source: VideoSource, chapters: list[Chapter], size: tuple[int, int] | None) -> str:
    """Markdown of videos/<id>.md (served at /videos/<id>/)."""
    meta = {
        "title": source.title, "summary": source.summary, "category": source.category,
        "tags": source.tags, "products": source.products, "lang": source.lang,
        "contact_topic": source.contact_topic,
    }  # fmt: skip
    dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
    tracks = []
    for n, lang in enumerate(caption_langs(source)):
        default = " default" if n == 0 else ""
        label = escape(language_name(lang))
        tracks.append(
            f'<track kind="captions" srclang="{escape(lang)}" label="{label}" '
            f'src="captions.{escape(lang)}.vtt"{default}>'
        )
    if chapters:
        tracks.append(f'<track kind="chapters" srclang="{escape(source.lang)}" label="Chapters" src="chapters.vtt">')
    player = (
        f'<div class="kb-video" data-kb-video="{escape(source.id)}">\n'
        f'<video class="kb-video__player" controls preload="metadata" playsinline '
        f'poster="poster.jpg"{dims} aria-label="{escape(source.title)}">\n'
        '<source src="video.mp4" type="video/mp4">\n'
        + "".join(t + "\n" for t in tracks)
        + '<p>Your browser cannot play this video. <a href="video.mp4">Download it</a>.</p>\n'
        "</video>\n</div>\n"
    )
    parts = [front_matter(meta), f"# {source.title}\n", player]
    if source.summary:
        parts.append(f"{source.summary}\n")
    if chapters:
        parts.append("## Chapters\n")
        parts.append(
            f'<nav class="kb-video__chapters" aria-label="Chapters"><ol>{_chapter_items(chapters, "")}</ol></nav>\n'
        )
    langs = caption_langs(source)
    if langs:
        parts.append("## Transcript\n")
        first, *others = langs
        parts.append(
            f'<div class="kb-video__transcript" data-kb-transcript="{escape(first)}">'
            f"{_transcript(source.captions[first], first)}</div>\n"
        )
        for lang in others:
            name = escape(language_name(lang))
            parts.append(
                f'<details class="kb-video__transcript" data-kb-transcript="{escape(lang)}">'
                f"<summary>Transcript ({name})</summary>"
                f"{_transcript(source.captions[lang], lang)}</details>\n"
            )
    if source.related:
        parts.append("## Related articles\n")
        for rel in source.related:
            title = source.related_titles.get(rel) or rel
            # Relative to videos/<id>.md: MkDocs checks the link and makes it a page URL.
            parts.append(f"- [{_md_text(title)}](../{rel})")
        parts.append("")
    return "\n".join(parts)


def _md_text(text: str) -> str:
    return text.replace("[", r"\[").replace("]", r"\]")


def index_page(sources: list[VideoSource], categories: dict[str, str]) -> str:
    """Markdown of videos/index.md: videos grouped by category, then by product."""
    parts = [front_matter({"title": "Videos", "summary": "Short how-to videos with captions."}),
             "# Videos\n"]  # fmt: skip
    by_category: dict[str, list[VideoSource]] = defaultdict(list)
    for source in sources:
        by_category[source.category].append(source)
    order = [c for c in categories if c in by_category] + sorted(
        c for c in by_category if c not in categories
    )
    for category in order:
        title = categories.get(category)
        if isinstance(title, dict):  # per-language titles: {en: ..., bn: ...}; the index is English
            title = title.get("en") or next(iter(title.values()), None)
        title = title or (category.replace("-", " ").capitalize() if category else "More videos")
        parts.append(f"## {title}\n")
        parts.append(_cards(by_category[category]))
    by_product: dict[str, list[VideoSource]] = defaultdict(list)
    for source in sources:
        for product in source.products:
            by_product[product].append(source)
    if by_product:
        parts.append("## By product\n")
        for product in sorted(by_product):
            parts.append(f"### {product.replace('-', ' ').title()}\n")
            parts.append(_cards(by_product[product]))
    if not sources:
        parts.append("No videos yet.\n")
    return "\n".join(parts)


def _cards(sources: list[VideoSource]) -> str:
    cards = "".join(
        f'<li class="kb-video-card"><a href="{escape(s.id)}/">'
        f'<img src="{escape(s.id)}/poster.jpg" alt="" loading="lazy" width="320" height="180">'
        f'<span class="kb-video-card__title">{escape(s.title)}</span></a>'
        + (f'<span class="kb-video-card__summary">{escape(s.summary)}</span>' if s.summary else "")
        + "</li>"
        for s in sorted(sources, key=lambda s: s.title.lower())
    )
    return f'<ul class="kb-video-grid">{cards}</ul>\n'


def video_url_from(src_path: str, video_id: str, use_directory_urls: bool = True, file: str = "") -> str:
    """Relative URL of the video's page (or of `file` beside its media, e.g. "poster.jpg") as
    seen from the page built from src_path."""
    target = f"videos/{video_id}/{file}" if file else page_url(f"videos/{video_id}.md", use_directory_urls)
    return get_relative_url(target, page_url(src_path, use_directory_urls))


WATCH = {"en": "Watch", "bn": "ভিডিও দেখুন", "gu": "વિડિયો જુઓ", "hi": "वीडियो देखें"}


def embed(source: VideoSource, chapters: list[Chapter], src_path: str, lang: str, duration: float | None,
          use_directory_urls: bool = True) -> str:  # fmt: skip
    """The poster, title and chapter links of a video, for an article at src_path in `lang`. On
    a page in another language the links ask the player for captions in that language when it
    has them."""
    base = video_url_from(src_path, source.id, use_directory_urls)
    if lang != source.lang and lang in source.captions:
        base += f"?captions={lang}"
    length = f' <span class="kb-video-embed__duration">({clock(duration)})</span>' if duration else ""
    chapter_list = (
        f'<ol class="kb-video-embed__chapters">{_chapter_items(chapters, base)}</ol>' if chapters else ""
    )
    watch = WATCH.get(lang, WATCH["en"])
    # The poster repeats the title link: hidden from screen readers and the Tab order.
    return (
        f'<figure class="kb-video-embed" data-kb-video="{escape(source.id)}">'
        f'<a class="kb-video-embed__poster" href="{base}" tabindex="-1" aria-hidden="true">'
        f'<img src="{video_url_from(src_path, source.id, use_directory_urls, "poster.jpg")}" alt="" loading="lazy" width="640" height="360">'
        f'<span class="kb-video-embed__play"></span></a>'
        f'<figcaption><a href="{base}">{escape(watch)}: {escape(source.title)}</a>{length}'
        f"{chapter_list}</figcaption></figure>"
    )
