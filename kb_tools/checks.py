"""Validation of a whole project: articles, policy facts and video sources together.
Shared by `kb check` and the MkDocs plugin."""

from __future__ import annotations

from dataclasses import dataclass

from kb_tools.content.site import ContentSite
from kb_tools.problems import Problem
from kb_tools.project import Project


@dataclass
class CheckReport:
    problems: list[Problem]
    articles: int
    videos: int
    site: ContentSite


def check_project(project: Project) -> CheckReport:
    library = project.video_library()
    problems = library.load() if library is not None else []
    video_ids = set(library.sources) if library is not None else None
    site = project.content_site(video_ids, set(library.broken) if library is not None else None)
    problems = sorted(problems + site.problems, key=lambda p: (p.path, p.line))
    return CheckReport(problems, len(site.articles), len(video_ids or ()), site)
