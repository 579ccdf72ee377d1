"""Validation of a whole project: articles, policy facts and video sources together.
Shared by `kb check` and the MkDocs plugin."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kb_tools.content.site import ContentSite
from kb_tools.problems import Problem
from kb_tools.project import Project, video_library


@dataclass
class CheckReport:
    problems: list[Problem]
    articles: int
    videos: int
    site: ContentSite


def check_project(config_file: str | Path = "mkdocs.yml") -> CheckReport:
    project = Project.load(config_file)
    library = video_library(project.project_dir, project.kb, project.docs_dir)
    problems = library.load() if library is not None else []
    video_ids = set(library.sources) if library is not None else None
    site = ContentSite.load(project.project_dir, project.docs_dir, project.content_settings(), video_ids)
    problems = sorted(problems + site.problems, key=lambda p: (p.path, p.line, p.message))
    return CheckReport(problems, len(site.articles), len(video_ids or ()), site)
