"""`archive serve`: the research web app (archive.web) over an archive, on a local port."""

from __future__ import annotations

import ipaddress
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
    engine = open_engine(db_url)
    app = create_app(engine, token=token)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{port}/"
    click.echo(f"serving {engine.url.render_as_string(hide_password=True)} at {url} (Ctrl-C to stop)", err=True)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        engine.dispose()
