"""`VideoLibrary`: the video FAQ from sidecars to site files, the seam the plugin and CLI use.

A thin coordinator over the parts that do the work: the sources (`sources.py`), the cache of
processed files (`cache.py`), the processing (`pipeline.py`), the generated pages
(`pages.py`) and the embeds in articles (`embeds.py`). The plugin builds it in `on_config`
(`Project.video_library()`) and its hooks hand each step to it.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from kb_tools.content.urls import page_url
from kb_tools.errors import VideoError
from kb_tools.problems import Problem, error, shown_path
from kb_tools.records import Chapter, VideoRecord
from kb_tools.video import ffmpeg
from kb_tools.video.cache import EncodeSettings, ProcessedVideo, VideoCache
from kb_tools.video.captions import to_records
from kb_tools.video.embeds import EmbedRenderer
from kb_tools.video.pages import index_page, index_path, page_path, video_page
from kb_tools.video.pipeline import ProcessStats, VideoProcessor, check_times, publish
from kb_tools.video.sources import VideoSource, article_title, load_sources


class VideoLibrary:
    """Every video of a project. Call `.load()` first; the other methods use what it read."""

    def __init__(self, project_dir: Path, videos_dir: Path, cache_dir: Path, *, crf: int = 23,
                 max_height: int = 720, jobs: int = 0, docs_dir: Path = Path("docs"),
                 categories: dict[str, str] | None = None, languages: tuple[str, ...] = ("en",),
                 use_directory_urls: bool = True, preset: str = ffmpeg.PRESET) -> None:  # fmt: skip
        """Paths are relative to project_dir (or absolute). The project's own library, with the
        settings of its mkdocs.yml, is `kb_tools.project.Project.video_library()`."""
        self.project_dir = Path(project_dir).resolve()
        self.videos_dir = self.project_dir / videos_dir
        self.docs_dir = self.project_dir / docs_dir
        self.categories = dict(categories or {})  # the plugin's categories give the index its section titles
        self.use_directory_urls = use_directory_urls
        self.languages = tuple(languages) or ("en",)  # the site's, the default first
        self.cache = VideoCache(self.project_dir / cache_dir, EncodeSettings(crf, max_height, preset))
        self.processor = VideoProcessor(self.cache, jobs)
        # Filled by load() and prepare(), in place: the embed renderer reads these very mappings.
        self.sources: dict[str, VideoSource] = {}
        self.broken: set[str] = set()  # ids whose sidecar has errors
        self.chapters: dict[str, list[Chapter]] = {}  # id -> chapters inside the real duration
        self.processed: dict[str, ProcessedVideo] = {}
        self._probed: dict[tuple[str, int, int], ffmpeg.MediaInfo | None] = {}  # sources not processed yet
        self.embeds = EmbedRenderer(
            sources=self.sources, broken=self.broken, chapters=self.chapters, duration=self._duration,
            docs_shown=shown_path(self.docs_dir, self.project_dir),
            videos_shown=shown_path(self.videos_dir, self.project_dir),
            languages=languages, use_directory_urls=use_directory_urls,
        )  # fmt: skip

    @property
    def crf(self) -> int:
        return self.cache.settings.crf

    @property
    def max_height(self) -> int:
        return self.cache.settings.max_height

    @property
    def stats(self) -> ProcessStats:
        return self.processor.stats

    def load(self) -> list[Problem]:
        """Parse and validate every sidecar of the videos folder and its captions (no ffmpeg)."""
        sources, problems = load_sources(self.project_dir, self.videos_dir, self.docs_dir, self.categories)
        sidecars = [*self.videos_dir.glob("*.yml"), *self.videos_dir.glob("*.yaml")] if self.videos_dir.is_dir() else []
        _replace(self.sources, {s.id: s for s in sources})
        _replace(self.chapters, {s.id: list(s.chapters) for s in sources})
        self.broken.clear()
        self.broken.update({p.stem for p in sidecars} - set(self.sources))
        return sorted(problems)

    def pages(self) -> dict[str, str]:
        """Generated Markdown pages keyed by docs-relative path: in the default language the
        videos index and every video's page; in each other language of the site a videos index
        and the page of every video a shopper can follow in it (spoken or captioned)."""
        default = self.languages[0]
        pages: dict[str, str] = {}
        for lang in self.languages:
            here = self.page_ids(lang)
            if lang != default and not self.sources:
                continue
            pages[index_path(lang, default)] = index_page(
                list(self.sources.values()), self.categories, lang=lang, default=default, pages=here,
                use_directory_urls=self.use_directory_urls,
            )  # fmt: skip
            for video_id in sorted(here):
                source = self.sources[video_id]
                src_path = page_path(video_id, lang, default)
                pages[src_path] = video_page(
                    source, self.chapters[video_id], self._size(source), lang=lang, src_path=src_path,
                    use_directory_urls=self.use_directory_urls, related=self._related(source, lang, src_path),
                )  # fmt: skip
        return pages

    def page_ids(self, lang: str) -> set[str]:
        """The videos that have a page in `lang`: all of them in the default language, else
        those spoken or captioned in it."""
        if lang == self.languages[0]:
            return set(self.sources)
        return {vid for vid, s in self.sources.items() if lang in s.languages()}

    def _related(self, source: VideoSource, lang: str, src_path: str) -> list[tuple[str, str]]:
        """(title, link) of each related article for the page in `lang` at src_path: its
        translation into `lang` where there is one."""
        links = []
        for rel in source.related:
            target = rel if lang == self.languages[0] else f"{lang}/{rel}"
            if target != rel and not (self.docs_dir / target).is_file():
                target = rel
            title = source.related_titles.get(rel, rel) if target == rel else article_title(self.docs_dir / target)
            links.append((title or rel, posixpath.relpath(target, posixpath.dirname(src_path))))
        return links

    def render_embeds(self, markdown: str, src_path: str) -> tuple[str, list[Problem]]:
        """Expand each `{{ video("id") }}` line (outside code fences) of the page at src_path."""
        return self.embeds.render(markdown, src_path)

    def prepare(self, progress: bool = True) -> list[Problem]:
        """Probe and transcode/remux every video into the cache (parallel, bounded by jobs)."""
        processed, problems = self.processor.run(list(self.sources.values()), progress)
        self.processed.update(processed)
        for video_id, done in processed.items():
            timing, self.chapters[video_id] = check_times(self.sources[video_id], done.output.duration)
            problems.extend(timing)
        return sorted(problems)

    def process(self, site_dir: Path, progress: bool = True) -> list[Problem]:
        """Prepare (cached) and place every video's files under site_dir/videos/<id>/."""
        problems = self.prepare(progress)
        for video_id, done in self.processed.items():
            source = self.sources[video_id]
            try:
                publish(source, done, self.chapters.get(video_id, []), Path(site_dir) / "videos" / video_id)
            except OSError as exc:
                problems.append(error(source.yml, 0, f"cannot write the video's files into {site_dir}: {exc}"))
        return sorted(problems)

    def records(self) -> list[VideoRecord]:
        """One record per video and caption language (one without cues if it has no captions),
        each pointing at the video's page in that language where it has one."""
        records: list[VideoRecord] = []
        default = self.languages[0]
        for video_id, source in self.sources.items():
            known = self._duration(source)
            for lang in list(source.captions) or [source.lang]:
                cues = to_records(source.captions.get(lang, []))
                chapters = tuple(source.chapters_in(self.chapters[video_id], lang))
                duration = known if known is not None else max(
                    [c.end for c in cues] + [c.start for c in chapters] + [0.0])  # fmt: skip
                page_lang = lang if lang in self.languages and video_id in self.page_ids(lang) else default
                records.append(
                    VideoRecord(
                        id=video_id, url=page_url(page_path(video_id, page_lang, default), self.use_directory_urls),
                        title=source.title_in(lang), lang=lang, summary=source.summary_in(lang),
                        category=source.category, products=source.products, tags=source.tags,
                        contact_topic=source.contact_topic, duration=duration,
                        chapters=chapters, cues=cues,
                    )  # fmt: skip
                )
        return records

    def prune(self) -> tuple[int, int]:
        """Delete cache entries no current video (at the current settings) uses, and leftovers
        of interrupted runs. Returns (entries removed, bytes freed)."""
        keep = set()
        for source in self.sources.values():
            try:
                keep.add(self.cache.key(source.media))
            except OSError:
                continue
        return self.cache.prune(keep)

    def _done(self, source: VideoSource) -> ProcessedVideo | None:
        return self.processed.get(source.id) or self.cache.lookup(source.media)

    def _duration(self, source: VideoSource) -> float | None:
        """The source's length: what the embeds and the search records show. The source's own
        (from the cache, else one ffprobe), not the web copy's, so that a first build, which
        renders the pages before the videos are processed, shows what every later build shows."""
        done = self._done(source)
        info = done.info if done is not None else self._probe(source)
        return info.duration if info is not None else None

    def _size(self, source: VideoSource) -> tuple[int, int] | None:
        """The player's size (so the page does not jump when the video loads): from the cache,
        else what the pipeline will make of the source (one ffprobe; None if it cannot tell)."""
        done = self._done(source)
        if done is not None:
            return done.output.width, done.output.height
        info = self._probe(source)
        return ffmpeg.target_size(info, self.max_height) if info is not None and info.has_video and info.height else None

    def _probe(self, source: VideoSource) -> ffmpeg.MediaInfo | None:
        """ffprobe's view of a source not processed yet, once per file version (None if it
        cannot tell: process() reports why)."""
        try:
            stat = source.media.stat()
        except OSError:
            return None
        key = (str(source.media), stat.st_mtime_ns, stat.st_size)
        if key not in self._probed:
            try:
                self._probed[key] = ffmpeg.probe(source.media)
            except (VideoError, OSError):
                self._probed[key] = None
        return self._probed[key]


def _replace(mapping: dict, new: dict) -> None:
    mapping.clear()
    mapping.update(new)
