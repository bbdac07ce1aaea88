"""storefront.site.build_model: what is published as of a moment, and in what order."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from storefront.config import SiteConfig, parse_config
from storefront.documents import Document, Post
from storefront.localize import localize
from storefront.reader import ReaderSettings, read_document
from storefront.related import related_posts
from storefront.site import BuildOptions, NavItem, SiteModel, build_model
from storefront.sources import Kind, SourceFile
from storefront.urls import UrlBuilder

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2024, 6, 15, 12, 0, tzinfo=ROME)
CONFIG = parse_config("title: Bottega\nbase_url: https://example.com/shop/\n"
                      "menu:\n  - {title: Blog, url: /blog/}\n  - {title: Insta, url: 'https://ig.example/b'}\n")
URLS = UrlBuilder.from_base_url(CONFIG.base_url)


def doc(kind: Kind, name: str, front_matter: str, body: str = "Testo.\n") -> Document:
    data = f"---\n{front_matter}\n---\n{body}".encode()
    source = SourceFile(kind, f"content/{kind}/{name}", data, hashlib.sha256(data).hexdigest())
    return localize(read_document(source, ReaderSettings.of(CONFIG)), URLS)


def post(slug: str, date: str, extra: str = "") -> Document:
    return doc("posts", f"{slug}.md", f"title: {slug.title()}\ndate: {date}\n{extra}")


def model(documents: list[Document], config: SiteConfig = CONFIG, **options: bool) -> SiteModel:
    return build_model(documents, config, URLS, BuildOptions(**options), NOW)


def slugs(posts: tuple[Post, ...]) -> list[str]:
    return [p.slug for p in posts]


# -- publishing --------------------------------------------------------------------------------


def test_drafts_are_hidden_unless_asked_for() -> None:
    documents = [
        post("pubblico", "2024-06-01"),
        post("bozza", "2024-06-02", "draft: true"),
        doc("products", "vaso.md", "title: Vaso\nprice: 10\ndraft: true"),
        doc("faq", "q.md", "question: Q?\ndraft: true"),
        doc("pages", "p.md", "title: P\ndraft: true"),
    ]
    public = model(documents)
    assert slugs(public.posts) == ["pubblico"]
    assert (public.products, public.faq_groups, public.pages) == ((), (), ())
    preview = model(documents, drafts=True)
    assert slugs(preview.posts) == ["bozza", "pubblico"]
    assert [p.title for p in preview.products] == ["Vaso"]
    assert [e.question for g in preview.faq_groups for e in g.entries] == ["Q?"]
    assert [p.title for p in preview.pages] == ["P"]


def test_future_posts_are_hidden_unless_asked_for_and_schedule_a_rebuild() -> None:
    documents = [post("oggi", "2024-06-15 12:00"), post("domani", "2024-06-16 09:00")]
    public = model(documents)
    assert slugs(public.posts) == ["oggi"]  # a post dated exactly now is published
    assert public.next_change == datetime(2024, 6, 16, 9, 0, tzinfo=ROME)
    assert slugs(model(documents, future=True).posts) == ["domani", "oggi"]


def test_an_expired_post_is_hidden_and_a_coming_expiry_schedules_a_rebuild() -> None:
    documents = [
        post("scaduto", "2024-05-01", "expires: 2024-06-15 12:00"),
        post("in-scadenza", "2024-05-02", "expires: 2024-07-01"),
    ]
    site = model(documents)
    assert slugs(site.posts) == ["in-scadenza"]
    assert site.next_change == datetime(2024, 7, 1, tzinfo=ROME)
    assert slugs(model(documents, drafts=True, future=True).posts) == ["in-scadenza"]


SALE = "price: 20.00\nsale_price: 15.00"


def test_sales_run_until_the_end_of_their_last_day() -> None:
    documents = [
        doc("products", "finita.md", f"title: Finita\n{SALE}\nsale_until: 2024-06-14"),
        doc("products", "in-corso.md", f"title: In corso\n{SALE}\nsale_until: 2024-06-15"),
        doc("products", "sempre.md", "title: Sempre\nprice: 20.00\nsale_price: 12.50"),
        doc("products", "normale.md", "title: Normale\nprice: 9.90"),
    ]
    by_title = {p.title: p for p in model(documents).products}
    assert not by_title["Finita"].on_sale
    assert by_title["Finita"].current_price == Decimal("20.00")
    assert by_title["In corso"].on_sale
    assert by_title["In corso"].current_price == Decimal("15.00")
    assert by_title["Sempre"].on_sale
    assert str(by_title["Sempre"].current_price) == "12.50"
    assert not by_title["Normale"].on_sale
    assert str(by_title["Normale"].current_price) == "9.90"
    assert model(documents).next_change == datetime(2024, 6, 16, tzinfo=ROME)


def test_next_change_is_the_earliest_coming_event() -> None:
    sale = doc("products", "v.md", "title: V\nprice: 20\nsale_price: 15\nsale_until: 2024-06-20 18:00")
    scheduled = post("programmato", "2024-06-25")
    expiring = post("breve", "2024-06-01", "expires: 2024-06-22")
    assert model([sale, scheduled, expiring]).next_change == datetime(2024, 6, 20, 18, tzinfo=ROME)
    assert model([scheduled, expiring]).next_change == datetime(2024, 6, 22, tzinfo=ROME)
    assert model([scheduled]).next_change == datetime(2024, 6, 25, tzinfo=ROME)


def test_nothing_scheduled_means_no_next_change() -> None:
    documents = [
        post("vecchio", "2024-01-01"),
        post("bozza-futura", "2024-12-01", "draft: true"),  # a draft will not appear by itself
        doc("products", "v.md", "title: V\nprice: 20\nsale_price: 15\nsale_until: 2024-01-31"),
    ]
    assert model(documents).next_change is None


# -- ordering and grouping ---------------------------------------------------------------------


def test_posts_are_newest_first_with_a_stable_order_on_equal_dates() -> None:
    documents = [post("b", "2024-03-01"), post("c", "2024-05-01 08:00"), post("a", "2024-03-01"),
                 post("d", "2024-05-01 09:00")]
    assert slugs(model(documents).posts) == ["d", "c", "b", "a"]
    assert slugs(model(list(reversed(documents))).posts) == ["d", "c", "b", "a"]


def test_related_posts_share_the_most_tags_newest_first_at_most_three() -> None:
    documents = [
        post("me", "2024-06-01", "tags: [raku, vasi, smalti]"),
        post("three", "2024-01-01", "tags: [raku, vasi, smalti]"),
        post("two-old", "2024-02-01", "tags: [raku, vasi]"),
        post("two-new", "2024-03-01", "tags: [vasi, smalti]"),
        post("one", "2024-05-01", "tags: [raku]"),
        post("none", "2024-05-02", "tags: [altro]"),
        post("untagged", "2024-05-03"),
    ]
    site = model(documents)
    me = next(p for p in site.posts if p.slug == "me")
    assert slugs(site.related[me.url]) == ["three", "two-new", "two-old"]
    none = next(p for p in site.posts if p.slug == "none")
    assert site.related[none.url] == ()


def reference_related(me: Post, posts: list[Post]) -> tuple[Post, ...]:
    """The plain definition: count shared tags with every other post, sort, take three."""
    mine = {tag.slug for tag in me.tags}
    scored = [(len(mine & {tag.slug for tag in other.tags}), other) for other in posts
              if other.url != me.url]
    ranked = sorted((item for item in scored if item[0]),
                    key=lambda item: (-item[0], -item[1].date.timestamp(), item[1].slug))
    return tuple(other for _, other in ranked[:3])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 28), st.sets(st.sampled_from("abcdefg"), max_size=5)),
                min_size=1, max_size=25))
def test_related_posts_agree_with_the_plain_definition(specs) -> None:
    posts = [p for p in (post(f"p{n}", f"2024-01-{day:02d}", f"tags: [{', '.join(sorted(tags))}]")
                         for n, (day, tags) in enumerate(specs)) if isinstance(p, Post)]
    related = related_posts(posts)
    for me in posts:
        assert related[me.url] == reference_related(me, posts)


def test_hidden_posts_are_never_related_nor_counted_in_tags() -> None:
    documents = [post("me", "2024-06-01", "tags: [raku]"), post("future", "2024-07-01", "tags: [raku]"),
                 post("draft", "2024-05-01", "tags: [raku, bozze]\ndraft: true")]
    site = model(documents)
    assert site.related[site.posts[0].url] == ()
    assert [(tc.tag.name, tc.count) for tc in site.tags] == [("raku", 1)]


def test_tags_are_counted_and_sorted_by_name() -> None:
    documents = [post("a", "2024-01-01", "tags: [Vasi, raku]"),
                 post("b", "2024-02-01", "tags: [vasi, Argilla]")]
    site = model(documents)
    assert [(tc.tag.name, tc.tag.slug, tc.tag.url, tc.count) for tc in site.tags] == [
        ("Argilla", "argilla", "/shop/tag/argilla/", 1),
        ("raku", "raku", "/shop/tag/raku/", 1),
        ("vasi", "vasi", "/shop/tag/vasi/", 2),  # the newest post's spelling names the tag
    ]
    assert {slug: slugs(items) for slug, items in site.posts_by_tag.items()} == {
        "vasi": ["b", "a"], "argilla": ["b"], "raku": ["a"],
    }


def test_products_are_grouped_by_category_in_order_uncategorised_last() -> None:
    documents = [
        doc("products", "sciolto.md", "title: Sciolto\nprice: 1"),
        doc("products", "vaso-b.md", "title: Vaso B\nprice: 1\ncategory: Vasi\norder: 1"),
        doc("products", "vaso-a.md", "title: Vaso A\nprice: 1\ncategory: Vasi\norder: 1"),
        doc("products", "vaso-z.md", "title: Vaso Z\nprice: 1\ncategory: vasi\norder: 0"),
        doc("products", "piatto.md", "title: Piatto\nprice: 1\ncategory: Piatti"),
    ]
    site = model(documents)
    assert [p.title for p in site.products] == ["Piatto", "Vaso Z", "Vaso A", "Vaso B", "Sciolto"]
    assert [(g.category.slug if g.category else None, [p.title for p in g.products])
            for g in site.categories] == [
        ("piatti", ["Piatto"]), ("vasi", ["Vaso Z", "Vaso A", "Vaso B"]), (None, ["Sciolto"]),
    ]
    assert site.categories[1].category.url == "/shop/prodotti/#vasi"


def test_a_category_spelled_with_and_without_its_accent_is_one_section_in_order() -> None:
    documents = [
        doc("products", "tazza.md", "title: Tazza\nprice: 1\ncategory: Caffè\norder: 1"),
        doc("products", "moka.md", "title: Moka\nprice: 1\ncategory: Caffe\norder: 2"),
        doc("products", "bustina.md", "title: Bustina\nprice: 1\ncategory: Caffeina"),
    ]
    site = model(documents)
    # one section (#caffe) in the order its products give, not split around "Caffeina"
    assert [p.title for p in site.products] == ["Tazza", "Moka", "Bustina"]
    assert [(g.category.slug if g.category else None, [p.title for p in g.products])
            for g in site.categories] == [("caffe", ["Tazza", "Moka"]), ("caffeina", ["Bustina"])]


def test_faq_groups_follow_their_lowest_order_then_name_ungrouped_last() -> None:
    documents = [
        doc("faq", "a.md", "question: Dove siete?\norder: 1"),
        doc("faq", "b.md", "question: Quanto costa spedire?\ngroup: Spedizioni\norder: 1"),
        doc("faq", "c.md", "question: Accettate carte?\ngroup: Pagamenti\norder: 1"),
        doc("faq", "d.md", "question: Bonifico?\ngroup: Pagamenti\norder: 0"),
        doc("faq", "e.md", "question: Corriere?\ngroup: Spedizioni\norder: 1"),
        doc("faq", "f.md", "question: Resi?\ngroup: Resi e cambi\norder: 5"),
    ]
    groups = model(documents).faq_groups
    assert [(g.name, g.slug, [e.question for e in g.entries]) for g in groups] == [
        ("Pagamenti", "pagamenti", ["Bonifico?", "Accettate carte?"]),
        ("Spedizioni", "spedizioni", ["Corriere?", "Quanto costa spedire?"]),
        ("", "domande", ["Dove siete?"]),
        ("Resi e cambi", "resi-e-cambi", ["Resi?"]),
    ]


def test_nav_is_the_config_menu_then_pages_by_menu_position() -> None:
    documents = [
        doc("pages", "contatti.md", "title: Contatti\nmenu: 2"),
        doc("pages", "chi-siamo.md", "title: Chi siamo\nmenu: 1"),
        doc("pages", "bottega.md", "title: Bottega\nmenu: 2"),
        doc("pages", "privacy.md", "title: Privacy"),
        doc("pages", "bozza.md", "title: Bozza\nmenu: 0\ndraft: true"),
    ]
    assert model(documents).nav == (
        NavItem("Blog", "/shop/blog/"),
        NavItem("Insta", "https://ig.example/b"),
        NavItem("Chi siamo", "/shop/chi-siamo/"),
        NavItem("Bottega", "/shop/bottega/"),
        NavItem("Contatti", "/shop/contatti/"),
    )
    assert [p.url for p in model(documents).pages] == [
        "/shop/bottega/", "/shop/chi-siamo/", "/shop/contatti/", "/shop/privacy/",
    ]


def _sale(until: str, timezone: str = "Europe/Rome") -> Document:
    config = parse_config(f"title: Bottega\nbase_url: https://example.com/\ntimezone: {timezone}\n")
    data = f"---\ntitle: V\nprice: 20\nsale_price: 15\nsale_until: {until}\n---\nTesto.\n".encode()
    source = SourceFile("products", "content/products/v.md", data, hashlib.sha256(data).hexdigest())
    return read_document(source, ReaderSettings.of(config))


def test_a_sale_until_a_time_ends_then_even_at_midnight() -> None:
    """Whether sale_until was a day was guessed from its time once in the site's zone: a time
    that fell on midnight ("2024-06-01 00:00", or 22:00 UTC the day before) ran 24 hours more."""
    for written in ("2024-06-01 00:00", '"2024-05-31T22:00:00Z"', '"2024-06-01T03:00:00+05:00"'):
        sale = _sale(written)
        assert sale.sale_ends == datetime(2024, 6, 1, tzinfo=ROME), written  # type: ignore[attr-defined]
    for written in ("2024-06-01", "20240601", "2024-W22-6"):  # a day alone: through that day
        day = _sale(written)
        assert day.sale_ends == datetime(2024, 6, 2, tzinfo=ROME), written  # type: ignore[attr-defined]
        assert day.sale_until.date().isoformat() == "2024-06-01"  # type: ignore[attr-defined]


def test_a_sale_through_a_day_whose_midnight_the_clocks_skip_runs_through_that_day() -> None:
    """In Santiago the clocks go from 00:00 to 01:00 on 8 September 2024: a sale through that
    day began to be read as ending at its 01:00."""
    santiago = ZoneInfo("America/Santiago")
    sale = _sale("2024-09-08", "America/Santiago")
    assert sale.sale_until.date().isoformat() == "2024-09-08"  # type: ignore[attr-defined]
    assert sale.sale_ends == datetime(2024, 9, 9, tzinfo=santiago)  # type: ignore[attr-defined]
    config = parse_config("title: B\nbase_url: https://example.com/\ntimezone: America/Santiago\n")
    noon = datetime(2024, 9, 8, 12, tzinfo=santiago)
    [product] = build_model([sale], config, URLS, BuildOptions(), noon).products
    assert product.on_sale


def test_in_the_hour_the_clocks_repeat_posts_are_published_and_ordered_by_instant() -> None:
    """On 27 October 2024 Rome's clocks run from 02:00 to 03:00 twice. Times of one zone compare
    by their clock reading, whatever the offset: 02:45 (summer time, 00:45 UTC) came after 02:15
    (winter time, 01:15 UTC), so a post was published 45 minutes early, another left out, and
    the newest listed second."""
    from datetime import UTC

    early = post("prima", "2024-10-27 02:45")  # the first 02:45: 00:45 UTC
    late = post("dopo", '"2024-10-27T02:15:00+01:00"')  # the second 02:15: 01:15 UTC
    first_pass = datetime(2024, 10, 27, 0, 50, tzinfo=UTC).astimezone(ROME)  # 02:50, summer time
    site = build_model([early, late], CONFIG, URLS, BuildOptions(), first_pass)
    assert slugs(site.posts) == ["prima"]
    assert site.next_change is not None
    assert site.next_change.timestamp() == datetime(2024, 10, 27, 1, 15, tzinfo=UTC).timestamp()
    second_pass = datetime(2024, 10, 27, 1, 30, tzinfo=UTC).astimezone(ROME)  # 02:30, winter time
    assert slugs(build_model([early, late], CONFIG, URLS, BuildOptions(), second_pass).posts) == [
        "dopo", "prima"]


def test_the_day_a_sale_is_shown_to_end_is_its_last_day() -> None:
    """A sale until 2024-06-23 00:00 is over when 23 June begins: the page, its structured data
    and the newsletter said "until 23 June"."""
    for written, day in (("2024-06-23 00:00", "2024-06-22"), ("2024-06-22", "2024-06-22"),
                         ("2024-06-22 12:00", "2024-06-22")):
        sale = _sale(written)
        assert sale.sale_last_day.date().isoformat() == day, written  # type: ignore[attr-defined]
