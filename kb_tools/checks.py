"""Validation of a whole project: articles, policy facts, video sources and the site's own
search words together. Shared by `kb check` and the MkDocs plugin."""

from __future__ import annotations

from dataclasses import dataclass

from kb_tools.content.site import ContentSite
from kb_tools.problems import Problem, error
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
    problems = sorted(problems + site.problems + site_words_problems(project), key=lambda p: (p.path, p.line))
    return CheckReport(problems, len(site.articles), len(video_ids or ()), site)


def site_words_problems(project: Project) -> list[Problem]:
    """The site's own glossary, synonyms and frames files (`glossary_file`, `synonyms_file`,
    `frames_file`), read as
    the search index will read them: a bad entry is a problem on its line of that file, a file
    that is missing names the option and the path."""
    files = [(option, path) for option, path in (("glossary_file", project.glossary_file),
                                                 ("synonyms_file", project.synonyms_file),
                                                 ("frames_file", project.frames_file)) if path is not None]
    if not files:
        return []  # nothing to read: the search code (whoosh) stays unimported, as an unchanged rebuild wants
    from kb_tools.search.lexical import GlossaryError, load_frames, load_glossary, load_synonyms

    loaders = {"glossary_file": load_glossary, "synonyms_file": load_synonyms, "frames_file": load_frames}
    problems = []
    for option, path in files:
        load = loaders[option]
        if not path.is_file():
            config = project.shown(project.config_file) if project.config_file else "mkdocs.yml"
            problems.append(error(config, 0, f"plugins > kb > {option}: there is no file {project.shown(path)}: "
                                             "create it or fix the path (relative to mkdocs.yml)"))  # fmt: skip
            continue
        try:
            load(path)
        except GlossaryError as e:
            problems.append(error(project.shown(e.path), e.line, e.what))
        except OSError as e:
            problems.append(error(project.shown(path), 0, f"cannot be read ({e.strerror}): check its permissions"))
    return problems
