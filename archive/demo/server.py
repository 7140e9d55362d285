"""A static HTTP server for a folder of pages, on a loopback port, in a background thread.

Paths map as a static site would: `/a/` -> a/index.html, `/a/b` -> a/b.html or a/b/index.html.
`overlay` is a second folder whose files win over the first: the demo switches it on to show
the publisher editing a few articles between two crawls.
"""

from __future__ import annotations

import mimetypes
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from archive.errors import ArchiveError


class SiteServer:
    """Serve `root` (and optionally `overlay`) at http://127.0.0.1:PORT/ until stopped."""

    def __init__(self, root: Path, port: int = 0, overlay: Path | None = None) -> None:
        self.root, self.overlay = Path(root), overlay
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                server.requests.append(self.path)
                found = server.resolve(self.path)
                if found is None:
                    self.send_error(404)
                    return
                data = found.read_bytes()
                kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
                self.send_response(200)
                self.send_header("Content-Type", f"{kind}; charset=utf-8" if kind.startswith("text/") else kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        try:
            self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise ArchiveError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror}") from exc
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def resolve(self, path: str) -> Path | None:
        relative = unquote(urlsplit(path).path).lstrip("/")
        for base in ([self.overlay] if self.overlay else []) + [self.root]:
            for candidate in _candidates(base, relative):
                resolved = candidate.resolve()
                if resolved.is_file() and resolved.is_relative_to(base.resolve()):
                    return resolved
        return None

    def __enter__(self) -> "SiteServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _candidates(base: Path, relative: str) -> list[Path]:
    if relative == "" or relative.endswith("/"):
        return [base / relative / "index.html"]
    return [base / relative, base / f"{relative}.html", base / relative / "index.html"]
