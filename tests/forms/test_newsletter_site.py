"""Sent issues are published on the site: an archive page, a page per issue and a feed; an
issue that has not gone out is not."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
from newsletter_support import write_shop

from storefront.build import BuildRequest, build_site
from storefront.errors import BuildFailed


def test_sent_issues_have_an_archive_page_and_a_feed(tmp_path: Path) -> None:
    write_shop(tmp_path)
    folder = tmp_path / "content" / "newsletter"
    sent = folder / "2025-03-05-marzo.md"
    sent.write_text(sent.read_text().replace("summary:", "sent: 2025-03-06 09:30\nsummary:"))
    (folder / "2025-04-01-aprile.md").write_text("---\ntitle: Aprile\n---\n\nNon ancora.\n")
    report = build_site(BuildRequest(root=tmp_path))
    output = report.output
    archive = (output / "newsletter" / "archivio" / "index.html").read_text()
    assert 'href="/newsletter/marzo/"' in archive and "La lettera di marzo" in archive
    assert "6 marzo 2025" in archive and "Aprile" not in archive
    page = (output / "newsletter" / "marzo" / "index.html").read_text()
    assert "Cari lettori" in page and 'href="/prodotti/vaso-blu/"' in page
    assert not (output / "newsletter" / "aprile").exists()
    feed = feedparser.parse((output / "newsletter" / "archivio" / "feed.xml").read_bytes())
    assert not feed.bozo and feed.version == "rss20"
    [entry] = feed.entries
    assert entry.link == "https://bottega.example/newsletter/marzo/"
    assert entry.published == "Thu, 06 Mar 2025 09:30:00 +0100"
    assert "https://bottega.example/prodotti/vaso-blu/" in entry.content[0].value


def test_an_issue_with_a_mistake_names_its_file_and_line(tmp_path: Path) -> None:
    write_shop(tmp_path)
    (tmp_path / "content" / "newsletter" / "2025-05-01-maggio.md").write_text(
        "---\ntitle: Maggio\nsent: ieri\n---\n\nTesto.\n")
    with pytest.raises(BuildFailed) as failed:
        build_site(BuildRequest(root=tmp_path))
    [error] = failed.value.errors
    assert error.format().startswith("content/newsletter/2025-05-01-maggio.md:3: sent must be a date")


def test_an_issue_sent_later_appears_in_an_incremental_build(tmp_path: Path) -> None:
    write_shop(tmp_path)
    build_site(BuildRequest(root=tmp_path))
    archive = tmp_path / "output" / "newsletter" / "archivio" / "index.html"
    assert "La lettera di marzo" not in archive.read_text()
    issue = tmp_path / "content" / "newsletter" / "2025-03-05-marzo.md"
    issue.write_text(issue.read_text().replace("summary:", "sent: 2025-03-06 09:30\nsummary:"))
    report = build_site(BuildRequest(root=tmp_path))
    assert report.written >= 3  # the archive, the issue's page, the feed (and the sitemap)
    assert "La lettera di marzo" in archive.read_text()
    feed = (tmp_path / "output" / "newsletter" / "archivio" / "feed.xml").read_text()
    assert "https://bottega.example/newsletter/marzo/" in feed
