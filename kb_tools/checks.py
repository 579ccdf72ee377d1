"""Validation of a whole project: articles, policy facts and video sources together.
Shared by `kb check` and the MkDocs plugin."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kb_tools.content.site import ContentSite
from kb_tools.problems import Problem
from kb_tools.project import Project


@dataclass
class CheckReport:
    problems: list[Problem]
    articles: int
    videos: int
    site: ContentSite


def load_videos(project: Project):
    """The project's VideoLibrary with its sources loaded, or (None, []) without a videos folder."""
    videos_dir = project.project_dir / project.kb.videos_dir
    if not videos_dir.is_dir():
        return None, []
    from kb_tools.video.build import VideoLibrary

    library = VideoLibrary(
        project.project_dir,
        videos_dir,
        project.project_dir / project.kb.cache_dir,
        crf=project.kb.video_crf,
        max_height=project.kb.video_max_height,
        jobs=project.kb.video_jobs,
    )
    return library, library.load()


def check_project(config_file: str | Path = "mkdocs.yml") -> CheckReport:
    project = Project.load(config_file)
    library, problems = load_videos(project)
    video_ids = {r.id for r in library.records()} if library is not None else None
    site = ContentSite.load(project.project_dir, project.docs_dir, project.content_settings(), video_ids)
    problems = sorted(problems + site.problems, key=lambda p: (p.path, p.line, p.message))
    return CheckReport(problems, len(site.articles), len(video_ids or ()), site)
