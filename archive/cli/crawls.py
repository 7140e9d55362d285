"""`archive crawls`: every crawl run and what it did, newest first."""

from __future__ import annotations

import json

import click
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from archive.cli.base import cli, db_option, open_engine
from archive.errors import BadInput, NotFound
from archive.models import Crawl
from archive.resume import error_kind, failed_fetches, recent_crawls
from archive.text_table import render


def _what(command: dict) -> str:
    """The sources or start URLs a run was given, short."""
    if command.get("recrawl") and not command.get("discover"):
        return "recrawl --due" + (f" ({command['sources']})" if command.get("sources") else "")
    if command.get("sources"):
        return (f"{command['sources']}" + (f" ({', '.join(command['only'])})" if command.get("only") else "")
                + (" + due" if command.get("recrawl") else "") + (" (resumed)" if command.get("resumes") else ""))
    urls = command.get("start_urls") or command.get("urls") or []
    return ", ".join(urls[:2]) + (f" +{len(urls) - 2}" if len(urls) > 2 else "") or command.get("spider", "-")


#: Why a run ended, as `archive crawls` shows it (Scrapy's finish reasons, and "killed" from archive.resume).
ENDINGS = {"finished": "", "shutdown": " (interrupted)", "closespider_timeout": " (time limit)",
           "closespider_pagecount": " (max pages)", "killed": " (killed)"}


#: Failed fetches `archive crawls --errors` lists at most.
ERRORS_SHOWN = 1000


@cli.command()
@db_option
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run (per failed fetch with --errors).")
@click.option("--errors", "errors_of", is_flag=False, flag_value="last", default=None, metavar="[RUN]",
              help="List the failed fetches of run RUN (the latest run without RUN): when, kind, status, "
                   "URL and message.")
def crawls(db_url: str, limit: int, as_json: bool, errors_of: str | None) -> None:
    """List crawl runs: when, what, and what they fetched, kept and failed.

    \b
    Example:
        archive crawls --limit 5
        archive crawls --errors        # the URLs the latest run failed to fetch, and why
        archive crawls --errors 12 --json
    """
    engine = open_engine(db_url)
    if errors_of is not None:
        try:
            _errors(engine, errors_of, as_json)
        finally:
            engine.dispose()
        return
    with Session(engine) as session:
        runs = list(session.scalars(select(Crawl).order_by(Crawl.id.desc()).limit(limit)))
    engine.dispose()
    if as_json:
        for run in runs:
            click.echo(json.dumps({"id": run.id, "started_at": run.started_at.isoformat(),
                                   "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                                   "command": run.command, "stats": run.stats}))
        return
    rows = []
    for run in runs:
        stats = {k.removeprefix("archive/"): v for k, v in (run.stats or {}).items()}
        errors = {k.split("/", 1)[1]: v for k, v in stats.items() if k.startswith("errors/")}
        reason = (run.stats or {}).get("finish_reason")
        ending = ENDINGS.get(reason, f" ({reason})") if reason else ""
        duration = f"{(run.finished_at - run.started_at).total_seconds():.0f}s{ending}" if run.finished_at \
            else "running/stopped"
        rows.append([run.id, f"{run.started_at:%Y-%m-%d %H:%M}", duration, _what(run.command or {}),
                     stats.get("fetches", 0), stats.get("new", 0), stats.get("changed", 0),
                     stats.get("unchanged", 0) + stats.get("same_raw", 0), stats.get("not_modified", 0),
                     ", ".join(f"{k} {v}" for k, v in sorted(errors.items())) or "-"])
    click.echo(render(["id", "started (UTC)", "took", "what", "fetched", "new", "versions", "unchanged", "304",
                       "errors"], rows) if rows else "no crawls yet")


def _errors(engine: Engine, run: str, as_json: bool) -> None:
    """`archive crawls --errors [RUN]`: the run's failed fetches, in the order they happened."""
    if run == "last":
        latest = recent_crawls(engine, limit=1)
        if not latest:
            raise BadInput("no crawls yet")
        crawl_id = latest[0].id
    elif run.isdigit():
        crawl_id = int(run)
    else:
        raise BadInput(f"--errors takes a run id, as `archive crawls` lists them, not {run!r}")
    crawl, failed = failed_fetches(engine, crawl_id, limit=ERRORS_SHOWN)
    if crawl is None:
        raise NotFound(f"no crawl {crawl_id} (archive crawls lists them)")
    if as_json:
        for fetch in failed:
            click.echo(json.dumps({"crawl_id": crawl_id, "url": fetch.url, "kind": error_kind(fetch.error),
                                   "status": fetch.status, "message": fetch.error,
                                   "fetched_at": fetch.fetched_at.isoformat()}, ensure_ascii=False))
        return
    if not failed:
        click.echo(f"crawl {crawl_id}: no failed fetches", err=True)
        return
    click.echo(render(["when (UTC)", "kind", "status", "url", "message"], [
        [f"{fetch.fetched_at:%Y-%m-%d %H:%M:%S}", error_kind(fetch.error), fetch.status if fetch.status else "-",
         fetch.url, (fetch.error or "").split(":", 1)[-1].strip() or "-"] for fetch in failed], max_width=80))
    if len(failed) == ERRORS_SHOWN:
        click.echo(f"(the first {ERRORS_SHOWN}; --json lists them for a script)", err=True)
