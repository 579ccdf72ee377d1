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


#: The words of the generated pages, per language (English where a language has none).
LABELS: dict[str, dict[str, str]] = {
    "en": {"videos": "Videos", "intro": "Short how-to videos with captions.", "chapters": "Chapters",
           "transcript": "Transcript", "related": "Related articles", "by_product": "By product",
           "more": "More videos", "none": "No videos yet.", "cannot_play": "Your browser cannot play this video.",
           "download": "Download it", "play_from": "Play from {time}", "watch": "Watch"},
    "bn": {"videos": "ভিডিও", "intro": "ক্যাপশনসহ ছোট ছোট নির্দেশনামূলক ভিডিও।", "chapters": "অধ্যায়",
           "transcript": "ট্রান্সক্রিপ্ট", "related": "সম্পর্কিত নিবন্ধ", "by_product": "পণ্য অনুযায়ী",
           "more": "আরও ভিডিও", "none": "এখনও কোনো ভিডিও নেই।",
           "cannot_play": "আপনার ব্রাউজার এই ভিডিওটি চালাতে পারছে না।", "download": "ডাউনলোড করুন",
           "play_from": "{time} থেকে চালান", "watch": "ভিডিও দেখুন"},
    "gu": {"videos": "વિડિયો", "intro": "કૅપ્શન સાથેના ટૂંકા માર્ગદર્શક વિડિયો.", "chapters": "પ્રકરણો",
           "transcript": "ટ્રાન્સક્રિપ્ટ", "related": "સંબંધિત લેખો", "by_product": "પ્રોડક્ટ પ્રમાણે",
           "more": "વધુ વિડિયો", "none": "હજી કોઈ વિડિયો નથી.", "cannot_play": "તમારું બ્રાઉઝર આ વિડિયો ચલાવી શકતું નથી.",
           "download": "ડાઉનલોડ કરો", "play_from": "{time}થી ચલાવો", "watch": "વિડિયો જુઓ"},
    "hi": {"videos": "वीडियो", "intro": "कैप्शन के साथ छोटे गाइड वीडियो।", "chapters": "अध्याय",
           "transcript": "ट्रांसक्रिप्ट", "related": "संबंधित लेख", "by_product": "प्रोडक्ट के अनुसार",
           "more": "और वीडियो", "none": "अभी कोई वीडियो नहीं है।", "cannot_play": "आपका ब्राउज़र यह वीडियो नहीं चला सकता।",
           "download": "डाउनलोड करें", "play_from": "{time} से चलाएँ", "watch": "वीडियो देखें"},
}  # fmt: skip


def label(lang: str, key: str) -> str:
    return LABELS.get(lang, {}).get(key) or LABELS["en"][key]


def caption_langs(source: VideoSource, first: str | None = None) -> list[str]:
    """Caption languages: `first` (the page's language) when it has captions, then the video's
    own language, then the others."""
    return sorted(source.captions, key=lambda lang: (lang != first, lang != source.lang, lang))


def page_path(video_id: str, lang: str, default: str) -> str:
    """The docs-relative path of a video's generated page in `lang`."""
    return f"videos/{video_id}.md" if lang == default else f"{lang}/videos/{video_id}.md"


def index_path(lang: str, default: str) -> str:
    return "videos/index.md" if lang == default else f"{lang}/videos/index.md"


def _chapter_items(chapters: list[Chapter], base: str) -> str:
    items = "".join(
        f'<li><a href="{base}#t={_t(c.start)}" data-kb-seek="{_t(c.start)}">'
        f'<span class="kb-video__time">{clock(c.start)}</span> {escape(c.title)}</a></li>'
        for c in chapters
    )
    return items


def _transcript(cues: list[CaptionCue], lang: str, page_lang: str) -> str:
    items = "".join(
        f'<li data-start="{c.start:.3f}" data-end="{c.end:.3f}">'
        f'<a href="#t={_t(c.start)}" data-kb-seek="{_t(c.start)}" class="kb-video__time" '
        f'aria-label="{escape(label(page_lang, "play_from").format(time=clock(c.start)))}">{clock(c.start)}</a> '
        f'<span class="kb-video__cue-text">{escape(c.plain)}</span></li>'
        for c in cues
    )
    return f'<ol class="kb-video__cues" lang="{escape(lang)}">{items}</ol>'


def video_page(source: VideoSource, chapters: list[Chapter], size: tuple[int, int] | None, *,
               lang: str | None = None, src_path: str | None = None, use_directory_urls: bool = True,
               related: list[tuple[str, str]] | None = None) -> str:  # fmt: skip
    """Markdown of the video's page in `lang` (default: the video's own language) at
    `src_path` (default: videos/<id>.md, served at /videos/<id>/): title, summary and chapter
    titles in that language where the sidecar gives them, its captions shown first. The media
    are the one copy under videos/<id>/. `related`: (title, link relative to the page)."""
    lang = lang or source.lang
    src_path = src_path or f"videos/{source.id}.md"
    title = source.title_in(lang)

    def media(file: str) -> str:
        return escape(video_url_from(src_path, source.id, use_directory_urls, file))

    meta = {
        "title": title, "summary": source.summary_in(lang), "category": source.category,
        "tags": source.tags, "products": source.products, "lang": lang,
        "contact_topic": source.contact_topic,
    }  # fmt: skip
    dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
    langs = caption_langs(source, lang)
    tracks = []
    for n, code in enumerate(langs):
        default = " default" if n == 0 else ""
        tracks.append(
            f'<track kind="captions" srclang="{escape(code)}" label="{escape(language_name(code))}" '
            f'src="{media(f"captions.{code}.vtt")}"{default}>'
        )
    chapters = source.chapters_in(chapters, lang)
    if chapters:
        tracks.append(f'<track kind="chapters" srclang="{escape(lang)}" label="{escape(label(lang, "chapters"))}" '
                      f'src="{media("chapters.vtt")}">')  # fmt: skip
    player = (
        f'<div class="kb-video" data-kb-video="{escape(source.id)}">\n'
        f'<video class="kb-video__player" controls preload="metadata" playsinline '
        f'poster="{media("poster.jpg")}"{dims} aria-label="{escape(title)}">\n'
        f'<source src="{media("video.mp4")}" type="video/mp4">\n'
        + "".join(t + "\n" for t in tracks)
        + f'<p>{escape(label(lang, "cannot_play"))} <a href="{media("video.mp4")}">'
        f'{escape(label(lang, "download"))}</a>.</p>\n'
        "</video>\n</div>\n"
    )
    parts = [front_matter(meta), f"# {title}\n", player]
    if source.summary_in(lang):
        parts.append(f"{source.summary_in(lang)}\n")
    if chapters:
        parts.append(f"## {label(lang, 'chapters')}\n")
        parts.append(
            f'<nav class="kb-video__chapters" aria-label="{escape(label(lang, "chapters"))}">'
            f"<ol>{_chapter_items(chapters, '')}</ol></nav>\n"
        )
    if langs:
        parts.append(f"## {label(lang, 'transcript')}\n")
        first, *others = langs
        parts.append(
            f'<div class="kb-video__transcript" data-kb-transcript="{escape(first)}">'
            f"{_transcript(source.captions[first], first, lang)}</div>\n"
        )
        for code in others:
            name = escape(language_name(code))
            parts.append(
                f'<details class="kb-video__transcript" data-kb-transcript="{escape(code)}">'
                f"<summary>{escape(label(lang, 'transcript'))} ({name})</summary>"
                f"{_transcript(source.captions[code], code, lang)}</details>\n"
            )
    if related is None:  # relative to videos/<id>.md: MkDocs checks the link and makes it a page URL
        related = [(source.related_titles.get(rel) or rel, f"../{rel}") for rel in source.related]
    if related:
        parts.append(f"## {label(lang, 'related')}\n")
        parts.extend(f"- [{_md_text(text)}]({link})" for text, link in related)
        parts.append("")
    return "\n".join(parts)


def _md_text(text: str) -> str:
    return text.replace("[", r"\[").replace("]", r"\]")


def index_page(sources: list[VideoSource], categories: dict[str, str], *, lang: str = "en",
               default: str = "en", pages: set[str] | None = None, use_directory_urls: bool = True) -> str:  # fmt: skip
    """Markdown of the videos index in `lang` (videos/index.md, or <lang>/videos/index.md):
    videos grouped by category, then by product. A video with a page in this language (its id
    in `pages`; None: all of them) links to it; another links to its page in the default
    language, marked with the language it is in."""
    src_path = index_path(lang, default)
    parts = [front_matter({"title": label(lang, "videos"), "summary": label(lang, "intro"), "lang": lang}),
             f"# {label(lang, 'videos')}\n"]  # fmt: skip
    by_category: dict[str, list[VideoSource]] = defaultdict(list)
    for source in sources:
        by_category[source.category].append(source)
    order = [c for c in categories if c in by_category] + sorted(
        c for c in by_category if c not in categories
    )

    def cards(group: list[VideoSource]) -> str:
        return _cards(group, lang=lang, default=default, pages=pages, src_path=src_path,
                      use_directory_urls=use_directory_urls)  # fmt: skip

    for category in order:
        title = categories.get(category)
        if isinstance(title, dict):  # per-language titles: {en: ..., bn: ...}
            title = title.get(lang) or title.get(default) or next(iter(title.values()), None)
        title = title or (category.replace("-", " ").capitalize() if category else label(lang, "more"))
        parts.append(f"## {title}\n")
        parts.append(cards(by_category[category]))
    by_product: dict[str, list[VideoSource]] = defaultdict(list)
    for source in sources:
        for product in source.products:
            by_product[product].append(source)
    if by_product:
        parts.append(f"## {label(lang, 'by_product')}\n")
        for product in sorted(by_product):
            parts.append(f"### {product.replace('-', ' ').title()}\n")
            parts.append(cards(by_product[product]))
    if not sources:
        parts.append(f"{label(lang, 'none')}\n")
    return "\n".join(parts)


def _cards(sources: list[VideoSource], *, lang: str, default: str, pages: set[str] | None, src_path: str,
           use_directory_urls: bool) -> str:  # fmt: skip
    items = []
    for s in sorted(sources, key=lambda s: s.title_in(lang).lower()):
        here = pages is None or s.id in pages
        target = page_path(s.id, lang if here else default, default)
        href = get_relative_url(page_url(target, use_directory_urls), page_url(src_path, use_directory_urls))
        poster = video_url_from(src_path, s.id, use_directory_urls, "poster.jpg")
        shown_in = lang if here else default
        title, summary = s.title_in(shown_in), s.summary_in(shown_in)
        # A video with no page in this language says which language its page is in.
        other = "" if here else f' <span class="kb-video-card__lang">({escape(language_name(default))})</span>'
        lang_attr = "" if here else f' lang="{escape(default)}"'
        items.append(
            f'<li class="kb-video-card"{lang_attr}><a href="{escape(href)}">'
            f'<img src="{escape(poster)}" alt="" loading="lazy" width="320" height="180">'
            f'<span class="kb-video-card__title">{escape(title)}</span>{other}</a>'
            + (f'<span class="kb-video-card__summary">{escape(summary)}</span>' if summary else "")
            + "</li>"
        )
    return f'<ul class="kb-video-grid">{"".join(items)}</ul>\n'


def video_url_from(src_path: str, video_id: str, use_directory_urls: bool = True, file: str = "",
                   lang: str | None = None, default: str = "en") -> str:  # fmt: skip
    """Relative URL of the video's page (in `lang`, default: the default language) or of `file`
    beside its media (e.g. "poster.jpg"), as seen from the page built from src_path."""
    if file:
        target = f"videos/{video_id}/{file}"
    else:
        target = page_url(page_path(video_id, lang or default, default), use_directory_urls)
    return get_relative_url(target, page_url(src_path, use_directory_urls))


def embed(source: VideoSource, chapters: list[Chapter], src_path: str, lang: str, duration: float | None,
          use_directory_urls: bool = True, *, has_page: bool = False, default: str = "en") -> str:  # fmt: skip
    """The poster, title and chapter links of a video, for an article at src_path in `lang`.
    The links lead to the video's page in that language when it has one (`has_page`: the
    video's own language and every language it has captions in), else to its page in the
    default language."""
    base = video_url_from(src_path, source.id, use_directory_urls, lang=lang if has_page else default,
                          default=default)  # fmt: skip
    length = f' <span class="kb-video-embed__duration">({clock(duration)})</span>' if duration else ""
    chapter_list = (
        f'<ol class="kb-video-embed__chapters">{_chapter_items(chapters, base)}</ol>' if chapters else ""
    )
    watch = label(lang, "watch")
    title = source.title_in(lang)
    # The poster repeats the title link: hidden from screen readers and the Tab order.
    return (
        f'<figure class="kb-video-embed" data-kb-video="{escape(source.id)}">'
        f'<a class="kb-video-embed__poster" href="{base}" tabindex="-1" aria-hidden="true">'
        f'<img src="{video_url_from(src_path, source.id, use_directory_urls, "poster.jpg")}" alt="" loading="lazy" width="640" height="360">'
        f'<span class="kb-video-embed__play"></span></a>'
        f'<figcaption><a href="{base}">{escape(watch)}: {escape(title)}</a>{length}'
        f"{chapter_list}</figcaption></figure>"
    )
