"""Serving the built site: directory-style URLs, strong ETags with 304s, gzip for text, and
cache headers that let browsers keep fingerprinted assets for a year while HTML is revalidated.

Small text files are read once and kept (with their gzip body) until their mtime changes;
big or binary files (videos, posters) are streamed by FileResponse, which handles Range.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from kb_tools.publish import SiteGenerations
from kb_tools.service.security import page_policy

HASHED = re.compile(r"\.[0-9a-f]{8,}(\.min)?\.(js|css|mjs|woff2?|svg|png|jpg|webp)$")
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml",
                "application/xml", "application/manifest+json")
MEMORY_LIMIT = 2 * 1024 * 1024  # files bigger than this are streamed, not kept
LONG = "public, max-age=31536000, immutable"
HTML = "no-cache"
OTHER = "public, max-age=300"

mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("text/vtt", ".vtt")
mimetypes.add_type("image/svg+xml", ".svg")
mimetypes.add_type("font/woff2", ".woff2")
mimetypes.add_type("application/manifest+json", ".webmanifest")


def cache_control(path: str) -> str:
    if path.endswith((".html", "/")) or path == "":
        return HTML
    if HASHED.search(path):
        return LONG
    return OTHER


def media_type(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/json", "image/svg+xml"):
        kind += "; charset=utf-8"
    return kind


def accepts_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "").lower()


def etag_matches(request: Request, *etags: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = {t.strip().removeprefix("W/") for t in header.split(",")}
    return any(e in wanted for e in etags)


@dataclass(frozen=True)
class Cached:
    mtime_ns: int
    size: int
    body: bytes
    gz: bytes | None
    etag: str
    media_type: str
    csp: str | None  # an HTML page's own Content-Security-Policy (security.page_policy)


def cached_body(body: bytes, kind: str) -> tuple[str, bytes | None]:
    """(etag, gzip body or None) for an in-memory representation."""
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    gz = None
    if kind.startswith(COMPRESSIBLE) and len(body) > 512:
        gz = gzip.compress(body, compresslevel=6, mtime=0)
        if len(gz) >= len(body):
            gz = None
    return etag, gz


def representation(request: Request, *, body: bytes, gz: bytes | None, etag: str,
                   kind: str, cache: str, status: int = 200, extra: dict[str, str] | None = None) -> Response:
    """The response for an in-memory file: 304, gzip or identity. The gzip variant has its own
    ETag (the same bytes must not share a validator with a different encoding)."""
    gz_etag = etag[:-1] + '-gz"'
    headers = {"cache-control": cache, "vary": "Accept-Encoding", **(extra or {})}
    use_gz = gz is not None and accepts_gzip(request)
    tag = gz_etag if use_gz else etag
    if status == 200 and etag_matches(request, etag, gz_etag):
        return Response(status_code=304, headers={**headers, "etag": tag})
    headers["etag"] = tag
    if use_gz:
        headers["content-encoding"] = "gzip"
        return Response(gz, status_code=status, media_type=kind, headers=headers)
    return Response(body if request.method != "HEAD" else b"", status_code=status,
                    media_type=kind, headers={**headers, "content-length": str(len(body))})


def local_redirect(request: Request, path: str) -> RedirectResponse:
    """A 301 to `path` on this server, keeping the query string. The Location is a path, never
    built from the Host header (a proxy or a client may send any host: a cache would then
    send shoppers elsewhere), and it starts with one slash (`//evil.example/` would be read as
    another host)."""
    location = "/" + path.lstrip("/")
    query = request.url.query
    return RedirectResponse(location + ("?" + query if query else ""), status_code=301)


class StaticFolder:
    """One folder of static files (the site, or the demo shop)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._cache: dict[Path, Cached] = {}
        self._lock = threading.Lock()

    def exists(self) -> bool:
        return self.root.is_dir()

    def resolve(self, rel: str) -> Path | None:
        """The file for a URL path inside the folder, or None. Never leaves the folder."""
        rel = rel.lstrip("/")
        if "\x00" in rel or any(part in ("..",) for part in rel.split("/")):
            return None
        path = (self.root / rel).resolve()
        if path != self.root and self.root not in path.parents:
            return None
        return path

    def response(self, request: Request, rel: str) -> Response | None:
        path = self.resolve(rel)
        if path is None:
            return None
        if path.is_dir():
            if rel and not rel.endswith("/"):
                return local_redirect(request, request.url.path + "/")
            path = path / "index.html"
        if not path.is_file():
            return None
        return self.file_response(request, path, cache_control(rel if not path.name == "index.html" else "/"))

    def not_found(self, request: Request) -> Response | None:
        page = self.root / "404.html"
        if page.is_file():
            return self.file_response(request, page, HTML, status=404)
        return None

    def file_response(self, request: Request, path: Path, cache: str, status: int = 200) -> Response:
        st = path.stat()
        kind = media_type(path)
        # A page is always read (its CSP is computed from it); other big or binary files stream.
        if (st.st_size > MEMORY_LIMIT and not kind.startswith("text/html")) or not kind.startswith(COMPRESSIBLE):
            etag = '"' + hashlib.blake2b(f"{st.st_mtime_ns}-{st.st_size}".encode(), digest_size=12).hexdigest() + '"'
            if status == 200 and etag_matches(request, etag):
                return Response(status_code=304, headers={"etag": etag, "cache-control": cache})
            return FileResponse(path, status_code=status, media_type=kind, stat_result=st,
                                headers={"etag": etag, "cache-control": cache})
        entry = self._cache.get(path)
        if entry is None or entry.mtime_ns != st.st_mtime_ns or entry.size != st.st_size:
            body = path.read_bytes()
            etag, gz = cached_body(body, kind)
            csp = page_policy(body) if kind.startswith("text/html") else None
            entry = Cached(st.st_mtime_ns, st.st_size, body, gz, etag, kind, csp)
            with self._lock:
                if len(self._cache) > 4096:
                    self._cache.clear()
                self._cache[path] = entry
        return representation(request, body=entry.body, gz=entry.gz, etag=entry.etag, kind=kind, cache=cache,
                              status=status, extra={"content-security-policy": entry.csp} if entry.csp else None)



class PublishedSite:
    """The site `mkdocs build` publishes, served in step with the search index.

    A build swaps a new site generation in and keeps the previous one beside it
    (`kb_tools.publish`); the index it was built with is loaded a moment later. Until then the
    pages come from the generation that matches the loaded index, so a search hit never leads
    to a page the server does not have. For a few minutes after the switch, a page the new
    generation no longer has is still answered from the previous one: a shopper may click a
    result list loaded just before it. A request that meets a folder being renamed is answered
    again from the folder that holds that generation now."""

    GRACE = 300.0  # seconds after a switch during which the previous generation answers too

    def __init__(self, root: Path, index_fingerprint: Callable[[], str | None]) -> None:
        self.root = root
        self.generations = SiteGenerations(root)
        self.index_fingerprint = index_fingerprint
        self._folders: OrderedDict[Path, StaticFolder] = OrderedDict()
        self._lock = threading.Lock()
        self._current: Path | None = None
        self._switched_at = float("-inf")

    def folder(self) -> StaticFolder:
        path = self.generations.folder_for(self.index_fingerprint())
        return self._static(path, switch=True)

    def _static(self, path: Path, *, switch: bool = False) -> StaticFolder:
        with self._lock:
            if switch and path != self._current:
                if self._current is not None:
                    self._switched_at = time.monotonic()
                self._current = path
            folder = self._folders.get(path)
            if folder is None:
                folder = self._folders[path] = StaticFolder(path)
                while len(self._folders) > 4:  # the published, previous and building generations
                    self._folders.popitem(last=False)
            return folder

    def exists(self) -> bool:
        return self.folder().exists()

    def response(self, request: Request, rel: str) -> Response | None:
        folder = self.folder()
        for _ in range(2):
            try:
                answer = folder.response(request, rel)
            except FileNotFoundError:  # renamed between finding and reading it
                answer = None
            if answer is not None or folder.exists():
                break
            folder = self.folder()  # the folder itself moved: find the generation again
        if answer is None and time.monotonic() - self._switched_at < self.GRACE:
            previous = self.generations.previous
            if previous.is_dir() and previous.resolve() != folder.root:
                try:
                    answer = self._static(previous).response(request, rel)
                except FileNotFoundError:
                    answer = None
        return answer

    def not_found(self, request: Request) -> Response | None:
        try:
            return self.folder().not_found(request)
        except FileNotFoundError:
            return self.folder().not_found(request)
