"""The W3C Feed Validator's rules, checked in our own code (the validator is in no registry).

Each function returns the problems found, as readable strings; an empty list means valid. The
feeds are also parsed with feedparser, as real readers do, but feedparser is lenient (it accepts
an ISO date in an RSS ``pubDate``), so the strict rules are checked here on the XML itself:

- RSS 2.0: channel title, link and description; ``atom:link rel="self"`` with the feed's own URL;
  every date RFC 822 with the right weekday; items with a title or description, an absolute
  link, a guid (a permalink guid must be an absolute URL), unique guids;
- Atom 1.0: feed id, title, updated, a self link, an author (on the feed or on every entry);
  entries with id, title, updated, an alternate link; every date RFC 3339; unique ids;
- everywhere: absolute links, also inside the HTML of entries (a reader has no page to resolve
  a relative one against);
- JSON Feed 1.1: version, title, feed_url, items with an id and content, RFC 3339 dates.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import feedparser
from lxml import etree

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
RFC822 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|"
                    r"Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_RELATIVE = re.compile(r'(?:href|src)\s*=\s*["\'](?![a-z][a-z0-9+.-]*:|#)([^"\']*)["\']', re.I)


def is_absolute(url: str | None) -> bool:
    parts = urlsplit(url or "")
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def rfc822_problem(value: str | None, where: str) -> list[str]:
    if value is None or not RFC822.match(value):
        return [f"{where}: {value!r} is not an RFC 822 date"]
    if parsedate_to_datetime(value).strftime("%a") != value[:3]:
        return [f"{where}: {value!r} has the wrong day of the week"]
    return []


def rfc3339_problem(value: str | None, where: str) -> list[str]:
    if value is None or not RFC3339.match(value):
        return [f"{where}: {value!r} is not an RFC 3339 date"]
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return []


def html_problems(html: str | None, where: str) -> list[str]:
    return [f"{where}: relative link {target!r} in the HTML" for target in _RELATIVE.findall(html or "")]


def reader_problems(data: bytes, version: str) -> list[str]:
    """What feedparser, reading the feed as a feed reader would, finds wrong with it."""
    parsed = feedparser.parse(data)
    problems = [f"feedparser: {parsed.get('bozo_exception')}"] if parsed.bozo else []
    if parsed.version != version:
        problems.append(f"feedparser reads version {parsed.version!r}, not {version}")
    return problems


def rss_problems(data: bytes, self_url: str) -> list[str]:
    problems = reader_problems(data, "rss20")
    root = etree.fromstring(data)
    channel = root.find("channel")
    if root.tag != "rss" or root.get("version") != "2.0" or channel is None:
        return [*problems, "not an RSS 2.0 document"]
    for name in ("title", "link", "description"):
        if not (channel.findtext(name) or "").strip():
            problems.append(f"channel: missing <{name}>")
    if not is_absolute(channel.findtext("link")):
        problems.append("channel: <link> is not absolute")
    selfs = [link for link in channel.findall(f"{ATOM}link") if link.get("rel") == "self"]
    if [link.get("href") for link in selfs] != [self_url]:
        problems.append(f"channel: atom:link rel=self is {[s.get('href') for s in selfs]}, "
                        f"not [{self_url!r}]")
    elif selfs[0].get("type") != "application/rss+xml":
        problems.append("channel: atom:link rel=self has no type application/rss+xml")
    for name in ("pubDate", "lastBuildDate"):
        for element in channel.findall(name):
            problems += rfc822_problem(element.text, f"channel <{name}>")
    guids: set[str] = set()
    for index, item in enumerate(channel.findall("item"), 1):
        where = f"item {index}"
        if not (item.findtext("title") or item.findtext("description")):
            problems.append(f"{where}: neither title nor description")
        if item.find("link") is not None and not is_absolute(item.findtext("link")):
            problems.append(f"{where}: link {item.findtext('link')!r} is not absolute")
        guid = item.find("guid")
        if guid is None or not guid.text:
            problems.append(f"{where}: no guid")
        else:
            if guid.get("isPermaLink", "true") == "true" and not is_absolute(guid.text):
                problems.append(f"{where}: permalink guid {guid.text!r} is not an absolute URL")
            if guid.text in guids:
                problems.append(f"{where}: guid {guid.text!r} is used twice")
            guids.add(guid.text)
        for element in item.findall("pubDate"):
            problems += rfc822_problem(element.text, f"{where} <pubDate>")
        problems += html_problems(item.findtext("description"), f"{where} description")
        problems += html_problems(item.findtext(f"{CONTENT}encoded"), f"{where} content:encoded")
    return problems


def atom_problems(data: bytes, self_url: str) -> list[str]:
    problems = reader_problems(data, "atom10")
    root = etree.fromstring(data)
    if root.tag != f"{ATOM}feed":
        return [*problems, "not an Atom feed"]
    for name in ("id", "title", "updated"):
        if not (root.findtext(f"{ATOM}{name}") or "").strip():
            problems.append(f"feed: missing <{name}>")
    if not is_absolute(root.findtext(f"{ATOM}id")):
        problems.append("feed: id is not an absolute IRI")
    links = {(link.get("rel", "alternate"), link.get("href")) for link in root.findall(f"{ATOM}link")}
    if ("self", self_url) not in links:
        problems.append(f"feed: no link rel=self to {self_url!r}")
    problems += [f"feed: link {href!r} is not absolute" for _, href in links if not is_absolute(href)]
    for element in root.iter(f"{ATOM}updated", f"{ATOM}published"):
        problems += rfc3339_problem(element.text, f"<{etree.QName(element).localname}>")
    feed_author = root.find(f"{ATOM}author/{ATOM}name") is not None
    ids: set[str] = set()
    for index, entry in enumerate(root.findall(f"{ATOM}entry"), 1):
        where = f"entry {index}"
        for name in ("id", "title", "updated"):
            if not (entry.findtext(f"{ATOM}{name}") or "").strip():
                problems.append(f"{where}: missing <{name}>")
        entry_id = entry.findtext(f"{ATOM}id") or ""
        if entry_id in ids:
            problems.append(f"{where}: id {entry_id!r} is used twice")
        ids.add(entry_id)
        if not feed_author and entry.find(f"{ATOM}author/{ATOM}name") is None:
            problems.append(f"{where}: no author, and the feed has none")
        alternates = [link.get("href") for link in entry.findall(f"{ATOM}link")
                      if link.get("rel", "alternate") == "alternate"]
        if not alternates or not all(is_absolute(href) for href in alternates):
            problems.append(f"{where}: no absolute alternate link")
        for name in ("content", "summary"):
            element = entry.find(f"{ATOM}{name}")
            if element is not None and element.get("type") == "html":
                problems += html_problems(element.text, f"{where} {name}")
    return problems


def json_feed_problems(data: bytes, self_url: str) -> list[str]:
    feed = json.loads(data)
    problems = []
    if feed.get("version") != "https://jsonfeed.org/version/1.1":
        problems.append(f"version is {feed.get('version')!r}")
    if not feed.get("title"):
        problems.append("no title")
    if feed.get("feed_url") != self_url:
        problems.append(f"feed_url is {feed.get('feed_url')!r}, not {self_url!r}")
    if not is_absolute(feed.get("home_page_url")):
        problems.append("home_page_url is not absolute")
    ids: set[str] = set()
    for index, item in enumerate(feed.get("items", []), 1):
        where = f"item {index}"
        if not isinstance(item.get("id"), str) or not item["id"]:
            problems.append(f"{where}: id must be a non-empty string")
        elif item["id"] in ids:
            problems.append(f"{where}: id {item['id']!r} is used twice")
        ids.add(item.get("id"))
        if not (item.get("content_html") or item.get("content_text")):
            problems.append(f"{where}: no content_html or content_text")
        if not is_absolute(item.get("url")):
            problems.append(f"{where}: url is not absolute")
        for name in ("date_published", "date_modified"):
            if name in item:
                problems += rfc3339_problem(item[name], f"{where} {name}")
        problems += html_problems(item.get("content_html"), f"{where} content_html")
    return problems
