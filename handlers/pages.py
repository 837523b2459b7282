"""Links from the chat to the H5 pages, and the 「页面」 command that sends one.

The pages are reached through ``ctx.page_links`` (a port bot/h5 implements): without it, or
without a public address, replies simply carry no link. A one-time sign-in link is a credential
for ten minutes: a reply carrying one is marked private, so it is sealed in the reply cache and,
if late, held for the sender instead of being put in a push job's payload.
"""

from __future__ import annotations

import dataclasses
import re

from config import texts
from handlers.context import Context, Reply
from handlers.inbound import Inbound
from handlers.registry import Routes

routes = Routes()

HOME = "/h5/"


def page_link(ctx: Context, path: str) -> str | None:
    links = ctx.page_links
    return links.url(ctx.user.openid, path) if links is not None else None


def signs_in(ctx: Context) -> bool:
    return ctx.page_links is not None and ctx.page_links.signs_in


def link_line(ctx: Context, template: str, path: str) -> str | None:
    """``template`` filled with the page's link (and the one-time note), or None: no link."""
    url = page_link(ctx, path)
    if url is None:
        return None
    line = template.format(url=url)
    return f"{line}{texts.PAGE_ONE_TIME}" if signs_in(ctx) else line


def guarded(ctx: Context, reply: Reply, line: str | None) -> Reply:
    """``reply`` as it may leave: private when ``line`` carried a one-time sign-in link."""
    return dataclasses.replace(reply, private=True) if line is not None and signs_in(ctx) else reply


@routes.command(r"(?:打开|进入|获取)?(?:页面|网页|网页版)(?:链接|入口)?")
def pages_command(ctx: Context, inbound: Inbound, m: re.Match[str]) -> Reply:
    line = link_line(ctx, texts.PAGE_LINK, HOME)
    if line is None:
        return Reply(texts.PAGE_NONE)
    return guarded(ctx, Reply(line), line)
