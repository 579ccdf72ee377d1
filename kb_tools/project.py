"""Finding a help-center project on disk: mkdocs.yml, docs_dir and the `kb` plugin settings,
read the way MkDocs reads them (INHERIT and !ENV work) without running a build."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kb_tools.config import KbConfig
from kb_tools.content.site import ContentSettings
from kb_tools.errors import ContentError


@dataclass
class Project:
    config_file: Path
    project_dir: Path
    docs_dir: Path
    kb: KbConfig

    @classmethod
    def load(cls, config_file: str | Path = "mkdocs.yml") -> Project:
        from mkdocs.utils.yaml import yaml_load

        path = Path(config_file).resolve()
        if not path.exists():
            raise ContentError(
                f"{config_file}: no such file: run kb in the folder of mkdocs.yml or pass --config"
            )
        try:
            with path.open("rb") as f:
                raw = yaml_load(f) or {}
        except Exception as exc:  # yaml errors carry their own line marks
            raise ContentError(f"{config_file}: cannot be read: {exc}") from exc
        kb_raw: dict = {}
        for entry in raw.get("plugins") or []:
            if entry == "kb":
                break
            if isinstance(entry, dict) and "kb" in entry:
                kb_raw = entry["kb"] or {}
                break
        if isinstance(raw.get("plugins"), dict):
            kb_raw = raw["plugins"].get("kb") or {}
        kb = KbConfig(config_file_path=str(path))
        kb.load_dict(kb_raw)
        failed, _ = kb.validate()
        if failed:
            key, err = failed[0]
            raise ContentError(f"{config_file}: plugins > kb > {key}: {err}")
        project_dir = path.parent
        return cls(path, project_dir, project_dir / raw.get("docs_dir", "docs"), kb)

    def content_settings(self) -> ContentSettings:
        return content_settings(self.kb)


def video_library(project_dir: Path, kb: KbConfig, docs_dir: Path):
    """The project's `VideoLibrary` (not loaded yet), or None when there is no videos folder.
    The video package is imported only when there are videos."""
    videos_dir = project_dir / kb.videos_dir
    if not videos_dir.is_dir():
        return None
    from kb_tools.video.build import VideoLibrary

    return VideoLibrary(
        project_dir,
        videos_dir,
        project_dir / kb.cache_dir,
        crf=kb.video_crf,
        max_height=kb.video_max_height,
        jobs=kb.video_jobs,
        docs_dir=docs_dir,
        categories=dict(kb.categories),
    )


def content_settings(kb: KbConfig) -> ContentSettings:
    return ContentSettings(
        languages=list(kb.languages) or ["en"],
        categories=dict(kb.categories),
        facts_file=kb.facts_file,
    )
