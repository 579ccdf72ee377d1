"""One exception tree for the whole project.

Every message says what failed, where (a path, and a line where there is one) and how to fix
it. `KbError` is a `click.ClickException` (as MkDocs' `MkDocsException` is), so every `kb`
command prints it once as ``Error: <message>`` and exits 1 without a try/except of its own;
the MkDocs plugin turns it into a ``PluginError``; the service turns it into its JSON error
shape.
"""

from __future__ import annotations

import click


class KbError(click.ClickException):
    """Base of every error this project raises on purpose."""

    exit_code = 1


class ConfigError(KbError):
    """Raised by ``kb_tools.project`` when mkdocs.yml is missing, unreadable or has invalid
    settings. The message lists every invalid setting at once, not just the first."""


class ContentError(KbError):
    """Raised by ``kb_tools.content`` when articles, front matter or policy facts are invalid."""


class VideoError(KbError):
    """Raised by ``kb_tools.video`` when a video, its sidecar YAML or its captions are invalid,
    or ffmpeg fails. The message keeps ffmpeg's own stderr where it explains the failure."""


class SearchIndexError(KbError):
    """Raised by ``kb_tools.search`` when the index is missing, from an older schema or broken.
    The message is one line and says how to rebuild."""


class ServiceError(KbError):
    """Raised by ``kb_tools.service`` for bad settings at start-up."""


class AnalyticsError(KbError):
    """Raised by ``kb_tools.analytics`` for bad events, bad call logs or store problems."""


class PublishError(KbError):
    """Raised by ``kb_tools.publish`` when a finished build cannot be moved into place; the
    previous site and search index stay published."""
