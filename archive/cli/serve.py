"""`archive serve`: the research web app (archive.web) over an archive, on a local port."""

from __future__ import annotations

import ipaddress
import socket
import threading
import webbrowser

import click

from archive.cli.base import cli, config_option, db_option, open_engine

INSTALL_HINT = "archive serve needs the web extra: pip install 'commentary-archive[web]'"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@cli.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs --token (or --no-auth).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--open", "open_browser", is_flag=True, help="Open the search page in a browser.")
@config_option("web_token", "--token",
               help="Require this token: as 'Authorization: Bearer TOKEN' or once at /login.")
@click.option("--no-auth", is_flag=True, help="Serve a non-loopback address without a token (anyone who can "
                                              "reach it reads the archive).")
def serve(db_url: str, host: str, port: int, open_browser: bool, token: str | None, no_auth: bool) -> None:
    """Browse, search and compare versions in a web browser (read-only; JSON under /api/).

    \b
    Example:
        archive serve --db sqlite:///archive.db --open
        ARCHIVE_WEB_TOKEN=s3cret archive serve --host 0.0.0.0 --port 8080
    """
    try:
        import uvicorn  # noqa: PLC0415 - the web extra is optional

        from archive.web import create_app  # noqa: PLC0415
    except ImportError as exc:
        raise click.ClickException(INSTALL_HINT) from exc
    if not is_loopback(host):
        click.echo(f"warning: serving on {host}: anyone who can reach this address can read the archive", err=True)
        if not token and not no_auth:
            raise click.ClickException(f"--host {host} needs --token (or ARCHIVE_WEB_TOKEN), "
                                       "or --no-auth to serve it to anyone")
    listener = listen(host, port)
    engine = open_engine(db_url)
    app = create_app(engine, token=token)
    url = address(host, listener.getsockname()[1])
    click.echo(f"serving {engine.url.render_as_string(hide_password=True)} at {url} (Ctrl-C to stop)", err=True)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    try:
        server.run(sockets=[listener])
    finally:
        listener.close()
        engine.dispose()


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the URL is printed: with --port 0 the system picks the
    port, and the URL shown (and opened) is the one actually bound."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


def address(host: str, port: int) -> str:
    """The URL to browse: an unspecified address is reached through loopback."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{port}/"
