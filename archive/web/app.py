"""The web app: routes, the pages' JSON twins, safety headers, optional token auth, one-line errors.

Read-only: every route is GET (but /login, which only sets a cookie). Every HTML response
carries a strict Content-Security-Policy (no scripts at all, styles from this origin); a stored
capture is served only from /raw/<sha256> under `Content-Security-Policy: sandbox` and shown in
an `<iframe sandbox>`, so that its scripts never run and it never shares the app's origin.
"""

from __future__ import annotations

import hmac
import logging
import time
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

from jinja2 import Environment, FileSystemLoader
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from archive.errors import ArchiveError, BadInput, NotFound
from archive.query import raw_page
from archive.web import downloads, routes
from archive.web.params import Query, filters_of

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
#: Every page of the app: nothing but its own stylesheet and its own frames; no script of any kind.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")
#: A stored capture: a sandbox (no scripts, an opaque origin), and no requests to anywhere (the
#: publisher's scripts, trackers and images stay out; inline styles are kept so the text reads).
RAW_CSP = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
           "frame-ancestors 'self'")
COOKIE = "archive_token"
#: Paths that answer without a token even when one is required.
OPEN_PATHS = ("/login", "/static/")


def templates() -> Environment:
    """Jinja2 with autoescaping on for every template (HTML and the Atom feed's XML alike)."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True)
    return env


def wants_json(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


class SecurityHeaders:
    """The safety headers on every response, errors included (outermost, around Starlette's own
    error handling); a header a route set itself (a raw capture's policy) is kept. It also says
    how long the app took to start answering (`Server-Timing: app;dur=MS`, the W3C header a
    browser's developer tools show, and what bench/web_pages.py reads as server time)."""

    HEADERS = ((b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
               (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"))

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        began = time.perf_counter()

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                took = f"app;dur={(time.perf_counter() - began) * 1000:.1f}".encode()
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in self.HEADERS if name not in present] + [
                    (b"server-timing", took)]
            await send(message)

        await self.app(scope, receive, sending)


class TokenAuth(BaseHTTPMiddleware):
    """With a token set: a request needs `Authorization: Bearer TOKEN` or the login cookie."""

    def __init__(self, app: Any, token: str) -> None:
        super().__init__(app)
        self.token = token.encode()

    def allowed(self, request: Request) -> bool:
        given = request.headers.get("authorization", "")
        bearer = given[7:].strip() if given.lower().startswith("bearer ") else ""
        for candidate in (bearer, request.cookies.get(COOKIE, "")):
            if candidate and hmac.compare_digest(candidate.encode(), self.token):
                return True
        return False

    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.url.path.startswith(OPEN_PATHS) or self.allowed(request):
            return await call_next(request)
        if wants_json(request) or request.url.path.endswith(".atom") or request.url.path.startswith(
                ("/export.", "/raw/")):
            return JSONResponse({"error": "this archive needs a token: send Authorization: Bearer TOKEN"},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(Query((("next", target),)).href("/login"), status_code=303)


def create_app(engine: Engine, *, token: str | None = None) -> SecurityHeaders:
    """The app over an open archive engine; with `token`, every page but /login needs it."""
    env = templates()

    def html(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
        page = env.get_template(template).render(request=request, path=request.url.path, auth=token is not None,
                                                 **context)
        return HTMLResponse(page, status_code=status)

    def error(request: Request, status: int, message: str) -> Response:
        if wants_json(request):
            return JSONResponse({"error": message}, status_code=status)
        return html(request, "error.html", {"status": status, "message": message, "title": "Error"}, status)

    async def page(request: Request, build: Callable[[Query], routes.Page]) -> Response:
        query = Query.of(request.query_params)
        result = await run_in_threadpool(build, query)
        if wants_json(request):
            return JSONResponse(result.data)
        return html(request, result.template, result.context)

    async def search(request: Request) -> Response:
        return await page(request, lambda q: routes.search_page(engine, q))

    async def article(request: Request) -> Response:
        key = request.path_params["key"]
        return await page(request, lambda q: routes.article_page(engine, key, q))

    async def diff(request: Request) -> Response:
        key = request.path_params["key"]
        return await page(request, lambda q: routes.diff_page(engine, key, q))

    async def ticker(request: Request) -> Response:
        symbol = request.path_params["symbol"]
        return await page(request, lambda q: routes.ticker_page(engine, symbol, q))

    async def edits(request: Request) -> Response:
        return await page(request, lambda q: routes.edits_page(engine, q))

    async def crawls(request: Request) -> Response:
        return await page(request, lambda q: routes.crawls_page(engine, q))

    async def crawl(request: Request) -> Response:
        crawl_id = request.path_params["crawl_id"]
        return await page(request, lambda q: routes.crawl_page(engine, crawl_id))

    async def attention_only(request: Request) -> Response:
        query = Query.of(request.query_params)
        return JSONResponse(await run_in_threadpool(routes.attention_data, engine, query))

    async def atom(request: Request) -> Response:
        query = Query.of(request.query_params)
        base = str(request.base_url).rstrip("/")
        context = await run_in_threadpool(routes.atom_feed, engine, query, base)
        body = env.get_template("edits.atom").render(**context)
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    async def raw(request: Request) -> Response:
        data, content_type = await run_in_threadpool(raw_page, engine, request.path_params["sha256"])
        kind = (content_type or "text/html").split(";")[0].strip().lower()
        if kind not in ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml"):
            kind = "text/plain"  # never an image, PDF or script the browser would treat otherwise
        charset = next((p.split("=", 1)[1].strip() for p in (content_type or "").split(";")[1:]
                        if p.strip().lower().startswith("charset=")), None)
        media = f"{kind}; charset={charset}" if charset else kind
        return Response(data, media_type=media, headers={"Content-Security-Policy": RAW_CSP,
                                                         "X-Frame-Options": "SAMEORIGIN",
                                                         "Cross-Origin-Resource-Policy": "same-origin"})

    async def export(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in downloads.MEDIA_TYPES:
            raise NotFound(f"no download format {fmt!r}: use jsonl, csv or parquet")
        query = Query.of(request.query_params)
        filters = filters_of(query)
        chunks = downloads.stream(engine, filters, fmt, with_body=query.get("body") in ("1", "yes", "true"))
        return StreamingResponse(chunks, media_type=downloads.MEDIA_TYPES[fmt],
                                 headers=downloads.content_disposition(fmt))

    async def login(request: Request) -> Response:
        target = Query.of(request.query_params).get("next", "/")
        if request.method == "POST":
            form = parse_qs((await request.body()).decode("utf-8", "replace"))
            given = (form.get("token") or [""])[0]
            target = (form.get("next") or ["/"])[0]
            if token is not None and hmac.compare_digest(given.encode(), token.encode()):
                response = RedirectResponse(_local(target), status_code=303)
                response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
                return response
            return html(request, "login.html", {"next": target, "failed": True, "title": "Log in"}, 401)
        return html(request, "login.html", {"next": target, "failed": False, "title": "Log in"})

    async def archive_error(request: Request, exc: Exception) -> Response:
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        status = 404 if isinstance(exc, NotFound) else 400 if isinstance(exc, BadInput) else 500
        if status == 500:
            log.warning("web: %s", message)
        return error(request, status, message)

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("web: unexpected error on %s", request.url.path, exc_info=exc)
        return error(request, 500, "the server met an unexpected error (see its log)")

    async def not_found(request: Request, exc: Exception) -> Response:
        return error(request, getattr(exc, "status_code", 404), getattr(exc, "detail", None) or "not found")

    pages = [("/", search), ("/search", search), ("/article/{key}", article), ("/article/{key}/diff", diff),
             ("/ticker/{symbol}", ticker), ("/edits", edits), ("/crawls", crawls), ("/crawls/{crawl_id}", crawl)]
    routes_ = [Route(path, endpoint) for path, endpoint in pages]
    routes_ += [Route("/api" + path, endpoint) for path, endpoint in pages if path != "/"]
    routes_ += [Route("/api/attention", attention_only), Route("/edits.atom", atom), Route("/raw/{sha256}", raw), Route("/export.{fmt}", export),
                Route("/login", login, methods=["GET", "POST"]),
                Mount("/static", StaticFiles(directory=HERE / "static"), name="static")]
    middleware = [Middleware(TokenAuth, token=token)] if token else []
    app = Starlette(routes=routes_, middleware=middleware,
                    exception_handlers={ArchiveError: archive_error, Exception: server_error,
                                        404: not_found, 405: not_found})
    return SecurityHeaders(app)


def _local(target: str) -> str:
    """Only a path on this site (never another host) as the place to go after logging in."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target
