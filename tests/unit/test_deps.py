"""What a page records of the build time: the year alone, or the whole moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storefront.deps import TrackedNow, recording

NOW = TrackedNow.of(datetime(2026, 1, 1, 9, 30, tzinfo=UTC))
LATER = datetime(2026, 3, 1, tzinfo=UTC)


def clock_used(use) -> tuple[str, object]:
    with recording() as recorder:
        value = use()
    return recorder.clock, value


def test_the_year_alone_is_a_small_dependency() -> None:
    assert clock_used(lambda: NOW.year) == ("year", 2026)


def test_arithmetic_with_the_build_time_depends_on_the_moment() -> None:
    # datetime's arithmetic reads the fields directly: it must be recorded all the same
    assert clock_used(lambda: (LATER - NOW).days) == ("moment", 58)
    assert clock_used(lambda: (NOW - LATER).days) == ("moment", -59)
    assert clock_used(lambda: (NOW + timedelta(days=1)).isoformat()) == (
        "moment", "2026-01-02T09:30:00+00:00")
    assert clock_used(lambda: timedelta(days=1) + NOW)[0] == "moment"
    assert clock_used(lambda: NOW < LATER) == ("moment", True)
    assert clock_used(lambda: f"{NOW:%d/%m}") == ("moment", "01/01")


def test_records_decoded_together_share_what_they_list() -> None:
    """A build holds a record per output; equal lists of templates, documents and calls are one
    object among the records decoded together, and each record still reads the same."""
    from storefront.deps import DependencyRecord
    from storefront.records import OutputRecord

    deps = DependencyRecord(("base.html", "post.html"), (("content/posts/a.md", "full"),),
                            (("asset_url", "css/site.css"),), "year")
    text = OutputRecord("f", "s", 1, deps).to_json()
    table: dict[object, object] = {}
    one, two = OutputRecord.from_json(text, table), OutputRecord.from_json(text, table)
    assert one == two == OutputRecord("f", "s", 1, deps)
    assert one.deps.templates is two.deps.templates
    assert one.deps.documents is two.deps.documents and one.deps.calls is two.deps.calls
    alone = OutputRecord.from_json(text)
    assert alone == one and alone.deps.templates is not one.deps.templates
