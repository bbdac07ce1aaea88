"""storefront.frontmatter.split_front_matter and storefront.reader.read_document, file by file."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from storefront.config import SiteConfig, parse_config
from storefront.documents import Category, FaqEntry, Page, Post, Product, Tag
from storefront.errors import BuildFailed
from storefront.frontmatter import SplitDocument, split_front_matter
from storefront.localize import localize
from storefront.markdown import render_markdown
from storefront.reader import ReaderSettings, read_document
from storefront.sources import Kind, SourceFile, decode_text
from storefront.urls import UrlBuilder

ROME = ZoneInfo("Europe/Rome")
FORMS = "forms:\n  contact:\n    fields: [{name: email, type: email}]\n"


def make_config(extra: str = "", base_url: str = "https://example.com/") -> SiteConfig:
    return parse_config(f"title: Bottega\nbase_url: {base_url}\nauthor: Anna\n{extra}")


Context = tuple[ReaderSettings, UrlBuilder]


def context(config: SiteConfig | None = None) -> Context:
    """What reading needs, and the base path a build would then apply (documents as built)."""
    config = config or make_config(FORMS)
    return ReaderSettings.of(config), UrlBuilder.from_base_url(config.base_url)


def source(kind: Kind, name: str, text: str | bytes) -> SourceFile:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return SourceFile(kind, f"content/{kind}/{name}", data, hashlib.sha256(data).hexdigest())


def read(kind: Kind, name: str, text: str | bytes, ctx: Context | None = None):
    settings, urls = ctx or context()
    return localize(read_document(source(kind, name, text), settings), urls)


def errors_of(kind: Kind, name: str, text: str | bytes, ctx: Context | None = None) -> list[str]:
    with pytest.raises(BuildFailed) as caught:
        read(kind, name, text, ctx)
    return [error.format() for error in caught.value.errors]


# -- split_front_matter ------------------------------------------------------------------------


def test_front_matter_and_body_keep_their_line_numbers() -> None:
    split = split_front_matter("---\ntitle: Vaso\nprice: 12\n---\n\nBody line 6\n", "content/x.md")
    assert split == SplitDocument("title: Vaso\nprice: 12", 2, "\nBody line 6\n", 5, has_front_matter=True)


def test_a_file_without_front_matter_is_all_body() -> None:
    text = "# Title\n\n---\n\ntext\n"
    assert split_front_matter(text, "x.md") == SplitDocument("", 1, text, 1, has_front_matter=False)


def test_three_dots_close_the_front_matter_and_trailing_spaces_are_ignored() -> None:
    split = split_front_matter("---  \ntitle: a\n...\nbody", "x.md")
    assert (split.front_matter, split.body, split.body_line) == ("title: a", "body", 4)


def test_an_empty_front_matter_block() -> None:
    split = split_front_matter("---\n---\nbody\n", "x.md")
    assert (split.front_matter, split.body, split.body_line) == ("", "body\n", 3)
    assert split.has_front_matter


def test_an_unclosed_front_matter_is_an_error_on_line_one() -> None:
    with pytest.raises(BuildFailed) as caught:
        split_front_matter("---\ntitle: a\n\nbody\n", "content/pages/a.md")
    assert [e.format() for e in caught.value.errors] == [
        "content/pages/a.md:1: the front matter opened with --- on line 1 is never closed\n"
        "  hint: add a line with just --- after the last front matter field"
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"---\r\ntitle: a\r\n---\r\nbody\r\n",
        b"---\rtitle: a\r---\rbody\r",
        b"\xef\xbb\xbf---\ntitle: a\n---\nbody\n",
    ],
    ids=["crlf", "cr", "bom"],
)
def test_decode_text_normalises_newlines_and_drops_the_bom(data: bytes) -> None:
    text = decode_text(source("pages", "a.md", data))
    assert text == "---\ntitle: a\n---\nbody\n"
    assert split_front_matter(text, "a.md").front_matter == "title: a"


def test_decode_text_names_the_line_of_a_non_utf8_byte() -> None:
    with pytest.raises(BuildFailed) as caught:
        decode_text(source("pages", "a.md", b"---\ntitle: a\n---\nCaff\xe8\n"))
    assert [e.format() for e in caught.value.errors] == [
        "content/pages/a.md:4: the file is not UTF-8 text\n"
        "  hint: save it as UTF-8 in your editor (it may be Latin-1 or Windows-1252)"
    ]


# -- posts -------------------------------------------------------------------------------------


def test_a_post_takes_slug_and_date_from_its_file_name() -> None:
    post = read("posts", "2024-05-01-vaso-blu.md", "---\ntitle: Il vaso blu\n---\n\nUn vaso.\n")
    assert isinstance(post, Post)
    assert post.slug == "vaso-blu"
    assert post.date == datetime(2024, 5, 1, tzinfo=ROME)
    assert post.url == "/blog/2024/05/vaso-blu/"
    assert post.author == "Anna"  # the site's author by default
    assert (post.draft, post.expires, post.updated, post.tags) == (False, None, None, ())
    assert post.content_html == "<p>Un vaso.</p>"


def test_front_matter_date_and_slug_win_over_the_file_name() -> None:
    post = read("posts", "2024-05-01-vaso-blu.md",
                "---\ntitle: T\ndate: 2024-06-02 18:30\nslug: altro\nauthor: Bea\n---\nx\n")
    assert post.date == datetime(2024, 6, 2, 18, 30, tzinfo=ROME)
    assert (post.slug, post.url, post.author) == ("altro", "/blog/2024/06/altro/", "Bea")


def test_a_plain_markdown_blog_post_parses_unchanged() -> None:
    text = (
        "---\n"
        "title: Some title\n"
        "date: 2012-01-01T15:05:00Z\n"
        "tags: [a, b]\n"
        "summary: A short summary.\n"
        "---\n"
        "\n"
        "First paragraph.\n"
        "\n"
        "Second paragraph.\n"
    )
    post = read("posts", "p00001-some-title.md", text)
    assert isinstance(post, Post)
    assert post.title == "Some title"
    assert post.date == datetime(2012, 1, 1, 15, 5, tzinfo=UTC)
    assert post.date.utcoffset() == timedelta(hours=1)  # shown in the site's zone: 16:05 in Rome
    assert post.slug == "p00001-some-title"
    assert post.url == "/blog/2012/01/p00001-some-title/"
    assert post.tags == (Tag("a", "a", "/tag/a/"), Tag("b", "b", "/tag/b/"))
    assert post.summary_html == "A short summary."
    assert post.description == "A short summary."
    assert post.content_html == "<p>First paragraph.</p>\n<p>Second paragraph.</p>"
    assert post.has_more


def test_the_more_marker_cuts_the_summary() -> None:
    post = read("posts", "2024-05-01-a.md",
                "---\ntitle: T\n---\nIntro *one*.\n\nIntro two.\n\n<!--more-->\n\nRest.\n")
    assert post.summary_html == "<p>Intro <em>one</em>.</p>\n<p>Intro two.</p>"
    assert post.has_more
    assert "<p>Rest.</p>" in post.content_html
    assert post.description == "Intro one. Intro two."


@pytest.mark.parametrize(("body", "summary"), [
    ("> Uno.\n>\n> <!--more-->\n>\n> Due.\n", "<blockquote>\n<p>Uno.</p>\n</blockquote>"),
    ("- Uno.\n\n    <!--more-->\n\n    Due.\n", "<ul>\n<li>\n<p>Uno.</p>\n</ul>"),
    ('<div class="avviso" markdown="1">\nUno.\n\n<!--more-->\n\nDue.\n</div>\n',
     '<div class="avviso">\n<p>Uno.</p>\n</div>'),
    ("<details><summary>Orari</summary>\n\nUno.\n\n<!--more-->\n\nDue.\n</details>\n",
     "<details><summary>Orari</summary>\n\nUno.\n</details>"),
])
def test_a_more_marker_inside_an_element_closes_it_in_the_summary(body: str, summary: str) -> None:
    post = read("posts", "2024-05-01-a.md", "---\ntitle: T\n---\n" + body)
    assert post.summary_html == summary


@pytest.mark.parametrize(("body", "summary"), [
    # the raw text before the marker was rendered alone: "*frase." lost its emphasis, and a
    # link defined further down was left as written, [qui][1]
    ("Prima *frase. <!--more--> Seconda* frase.\n", "<p>Prima <em>frase.</em></p>"),
    ("Vedi [qui][1]. <!--more--> Poi.\n\n[1]: /chi-siamo/\n",
     '<p>Vedi <a href="/chi-siamo/">qui</a>.</p>'),
    ("Intro.\n\n> Citazione <!--more--> e poi.\n", "<p>Intro.</p>\n<blockquote>\n<p>Citazione</p>\n"
     "</blockquote>"),
    ("- uno <!--more--> due\n- tre\n", "<ul>\n<li>uno</li>\n</ul>"),
])
def test_a_more_marker_inside_a_paragraph_cuts_the_rendered_paragraph(body: str,
                                                                       summary: str) -> None:
    post = read("posts", "2024-05-01-a.md", "---\ntitle: T\n---\n" + body)
    assert post.summary_html == summary
    assert post.has_more
    # the page shows the whole body as it was, the (invisible) marker in place
    assert post.content_html == render_markdown(body)


@pytest.mark.parametrize("body", [
    "Come si usa il segno:\n\n```markdown\nPrima parte.\n<!--more-->\nSeconda.\n```\n\nFine.\n",
    "Come si usa il segno:\n\n    Prima parte.\n    <!--more-->\n\nFine.\n",
    "Scrivete `<!--more-->` dove finisce il riassunto.\n\nFine.\n",
])
def test_a_more_marker_written_in_code_is_text_not_a_marker(body: str) -> None:
    """A post that shows how to use the marker: the summary was the raw text before the code's
    marker rendered alone (half a code fence, a footnote as [^1])."""
    post = read("posts", "2024-05-01-a.md", "---\ntitle: T\n---\n" + body)
    first = render_markdown(body).split("\n", 1)[0]
    assert post.summary_html == first.removeprefix("<p>").removesuffix("</p>")
    assert post.has_more
    assert "&lt;!--more--&gt;" in post.content_html


def test_a_real_marker_after_one_in_code_cuts_the_summary_there() -> None:
    body = ("Il segno `<!--more-->` taglia il riassunto[^1].\n\n<!--more-->\n\nResto.\n\n"
            "[^1]: Come in Hugo.\n")
    post = read("posts", "2024-05-01-a.md", "---\ntitle: T\n---\n" + body)
    assert post.summary_html == "<p>Il segno <code>&lt;!--more--&gt;</code> taglia il riassunto.</p>"
    assert post.has_more


def test_without_marker_or_summary_the_first_paragraph_is_the_summary() -> None:
    post = read("posts", "2024-05-01-a.md", "---\ntitle: T\n---\nOne.\n\nTwo.\n")
    assert (post.summary_html, post.has_more) == ("One.", True)
    single = read("posts", "2024-05-01-b.md", "---\ntitle: T\n---\nOnly.\n")
    assert (single.summary_html, single.has_more) == ("Only.", False)


def test_descriptions_are_plain_text_without_html_entities() -> None:
    # the description goes into <meta> (autoescaped) and JSON-LD: "&rsquo;" there shows literally
    post = read("posts", "2024-05-01-a.md", "---\ntitle: T\n---\nL'ordine \"arriva\" & *presto* <3\n")
    assert post.description == "L\u2019ordine \u201carriva\u201d & presto <3"


@pytest.mark.parametrize(("words", "minutes"), [(1, 1), (200, 1), (201, 2), (450, 3)])
def test_reading_time_is_words_over_200_rounded_up(words: int, minutes: int) -> None:
    post = read("posts", "2024-05-01-a.md", "---\ntitle: T\n---\n" + "parola " * words)
    assert post.reading_minutes == minutes


def test_post_tags_are_slugified_and_deduplicated() -> None:
    post = read("posts", "2024-05-01-a.md",
                "---\ntitle: T\ntags: [Ceramica Raku, ceramica-raku, Perché]\n---\n")
    assert post.tags == (Tag("Ceramica Raku", "ceramica-raku", "/tag/ceramica-raku/"),
                         Tag("Perché", "perche", "/tag/perche/"))


def test_tags_and_categories_without_latin_letters_keep_pages_of_their_own() -> None:
    # a fixed fallback ("tag") put every such tag on one page and in one feed
    post = read("posts", "2024-05-01-a.md",
                "---\ntitle: T\ntags: ['עברית', 'русский', 'Русский', '🍞']\n---\n")
    slugs = [tag.slug for tag in post.tags]
    assert len(slugs) == 3 and len(set(slugs)) == 3  # Русский is русский, as Pane is pane
    assert all(re.fullmatch(r"tag-[0-9a-f]{8}", slug) for slug in slugs)
    again = read("posts", "2024-05-02-b.md", "---\ntitle: U\ntags: ['עברית']\n---\n")
    assert again.tags == post.tags[:1]  # the same name, the same page, in every file
    first = read("products", "a.md", "---\ntitle: A\nprice: 1\ncategory: Ελληνικά\n---\n")
    second = read("products", "b.md", "---\ntitle: B\nprice: 1\ncategory: 中文\n---\n")
    assert first.category and second.category
    assert first.category.slug != second.category.slug
    assert first.category.slug.startswith("category-")


def test_post_dates_expiry_and_update_are_in_the_site_zone() -> None:
    post = read("posts", "2024-05-01-a.md",
                "---\ntitle: T\nupdated: 2024-05-03\nexpires: 2024-06-01 12:00\ndraft: true\n---\n")
    assert post.updated == datetime(2024, 5, 3, tzinfo=ROME)
    assert post.expires == datetime(2024, 6, 1, 12, tzinfo=ROME)
    assert post.draft


def test_an_update_before_the_publication_date_is_an_error_at_its_line() -> None:
    # dateModified before datePublished in the structured data, and in the feeds
    errors = errors_of("posts", "a.md", "---\ntitle: T\ndate: 2024-05-01 10:00\nupdated: 2024-05-01\n---\n")
    assert [error.split("\n")[0] for error in errors] == [
        "content/posts/a.md:4: updated (2024-05-01) is before date (2024-05-01 10:00)"]
    same = read("posts", "a.md",
                "---\ntitle: T\ndate: 2024-05-01 10:00\nupdated: 2024-05-01 10:00\n---\n")
    assert same.updated == same.date
    later = read("products", "a.md",
                 "---\ntitle: T\nprice: 1\ndate: 2024-05-01\nupdated: 2024-05-02\n---\n")
    assert later.updated == datetime(2024, 5, 2, tzinfo=ROME)


def test_a_post_without_any_date_names_both_ways_to_give_one() -> None:
    assert errors_of("posts", "senza-data.md", "---\ntitle: T\n---\n") == [
        'content/posts/senza-data.md:1: missing required field "date"\n'
        "  hint: add a line like date: 2024-05-01, or start the file name with 2024-05-01-"
    ]


def test_front_matter_errors_name_their_file_line() -> None:
    assert errors_of("posts", "2024-05-01-a.md",
                     "---\ntitle: T\ndate: ieri\ndraft: forse\ncolour: red\n---\n") == [
        'content/posts/2024-05-01-a.md:3: date must be a date such as 2024-05-01, 2024-05-01 10:30 or '
        '2024-05-01T10:30:00+02:00, got "ieri"',
        'content/posts/2024-05-01-a.md:4: draft must be true or false, got "forse"',
        'content/posts/2024-05-01-a.md:5: unknown key "colour"\n  hint: allowed keys: aliases, author, '
        "date, description, draft, expires, image, image_alt, image_focus, noindex, slug, summary, tags, "
        "title, updated",
    ]


def test_yaml_errors_are_shifted_to_the_file_line() -> None:
    assert errors_of("posts", "2024-05-01-a.md", "---\ntitle: T\ntags: [a, b\n---\n") == [
        "content/posts/2024-05-01-a.md:3: invalid YAML: the list opened with [ on this line is not "
        "closed with ] (or a comma is missing between two items)\n"
        "  hint: close the brackets, and separate the items with commas"
    ]


def test_a_bom_and_crlf_file_reads_like_a_clean_one() -> None:
    clean = read("posts", "2024-05-01-a.md", "---\ntitle: T\n---\nText.\n")
    messy = read("posts", "2024-05-01-a.md", b"\xef\xbb\xbf---\r\ntitle: T\r\n---\r\nText.\r\n")
    assert messy == clean


def test_body_links_get_the_base_path_but_are_recorded_as_written() -> None:
    ctx = context(make_config(FORMS, base_url="https://example.com/shop"))
    post = read("posts", "2024-05-01-a.md",
                "---\ntitle: T\nimage: assets/a.jpg\n---\nSee [us](/chi-siamo/) and "
                "[out](https://x.example/) ![i](/assets/b.jpg)\n", ctx)
    assert post.url == "/shop/blog/2024/05/a/"
    assert post.image == "/shop/assets/a.jpg"
    assert '<a href="/shop/chi-siamo/">us</a>' in post.content_html
    assert 'src="/shop/assets/b.jpg"' in post.content_html
    assert '<a href="https://x.example/">out</a>' in post.content_html
    assert post.links == (("/chi-siamo/", 5), ("/assets/b.jpg", 5))  # with the line they are on


# -- products ----------------------------------------------------------------------------------


def test_a_product_keeps_its_exact_decimal_price_and_the_default_currency() -> None:
    product = read("products", "vaso-blu.md", "---\ntitle: Vaso blu\nprice: 12.50\n---\nUn vaso.\n")
    assert isinstance(product, Product)
    assert product.price == Decimal("12.50") and str(product.price) == "12.50"
    assert product.currency == "EUR"
    assert (product.slug, product.url) == ("vaso-blu", "/prodotti/vaso-blu/")
    assert (product.sale_price, product.sale_until, product.on_sale) == (None, None, False)
    assert product.current_price == Decimal("12.50")
    assert (product.category, product.availability, product.featured) == (None, "in_stock", True)


def test_a_product_uses_the_site_currency_unless_it_names_its_own() -> None:
    ctx = context(make_config("currency: usd\n"))
    assert read("products", "a.md", "---\ntitle: A\nprice: 3\n---\n", ctx).currency == "USD"
    assert read("products", "a.md", "---\ntitle: A\nprice: 3\ncurrency: chf\n---\n", ctx).currency == "CHF"


def test_an_unknown_product_currency_is_reported_on_its_line() -> None:
    assert errors_of("products", "a.md", "---\ntitle: A\nprice: 3\ncurrency: LIRE\n---\n") == [
        'content/products/a.md:4: currency must be an ISO 4217 currency code such as EUR or USD, got "LIRE"'
    ]


def test_a_price_in_words_gets_the_hint() -> None:
    assert errors_of("products", "vaso-blu.md", "---\ntitle: Vaso\n\nprice: dodici\n---\n") == [
        'content/products/vaso-blu.md:4: price must be a number like 12.50, got "dodici"\n'
        "  hint: write the price without the currency symbol, with a dot for decimals; "
        "the currency comes from `currency:` or storefront.yaml"
    ]


def test_sale_fields_category_and_images() -> None:
    product = read(
        "products", "vaso.md",
        "---\ntitle: Vaso\nprice: 40.00\nsale_price: 29.90\nsale_until: 2024-05-31\n"
        "category: Vasi grandi\nimages: [/assets/v1.jpg, assets/v2.jpg]\navailability: preorder\n"
        "sku: V-1\norder: 2\nfeatured: false\n---\n",
    )
    assert product.sale_price == Decimal("29.90")
    assert product.sale_until == datetime(2024, 5, 31, tzinfo=ROME)  # the last day, as written
    assert product.sale_ends == datetime(2024, 6, 1, tzinfo=ROME)  # ...which is included
    assert product.category == Category("Vasi grandi", "vasi-grandi", "/prodotti/#vasi-grandi")
    assert product.images == ("/assets/v1.jpg", "/assets/v2.jpg")
    assert (product.availability, product.sku, product.order) == ("preorder", "V-1", 2)
    assert not product.featured


def test_a_sale_price_not_below_the_price_is_an_error() -> None:
    assert errors_of("products", "a.md", "---\ntitle: A\nprice: 10\nsale_price: 10.00\n---\n") == [
        "content/products/a.md:4: sale_price (10.00) must be lower than price (10.00)\n"
        "  hint: sale_price is the discounted price: write it lower than price (were the two "
        "swapped?), or remove sale_price when the offer is over"
    ]


def test_a_sale_price_of_zero_is_an_error() -> None:
    """"sale_price: 0" meant as "no sale" showed the product free: 0,00 € on its page, price
    0.00 in its structured data's offer and sale_price 0.00 EUR in the merchant feed."""
    assert errors_of("products", "a.md", "---\ntitle: A\nprice: 10\nsale_price: 0\n---\n") == [
        "content/products/a.md:4: sale_price is 0: the product would be shown as free during "
        "the sale, on its page, in its structured data and in the merchant feed\n"
        "  hint: write the discounted price, like sale_price: 9.90; to end the sale, remove the "
        "sale_price line"
    ]


def test_cents_in_a_currency_without_them_are_an_error_on_their_line() -> None:
    # the page would round 3199.50 yen to "3.200 JPY", the structured data and the merchant
    # feed would keep 3199.50: the shop would state two prices
    assert errors_of("products", "a.md", "---\ntitle: A\nprice: 3200\nsale_price: 3199.50\n"
                     "currency: JPY\n---\n") == [
        "content/products/a.md:4: sale_price 3199.50 has cents, but JPY has no smaller unit\n"
        "  hint: write a whole amount, like sale_price: 3200"
    ]
    ctx = context(make_config("currency: jpy\n"))
    assert errors_of("products", "a.md", "---\ntitle: A\nprice: 1500.5\n---\n", ctx) == [
        "content/products/a.md:3: price 1500.50 has cents, but JPY has no smaller unit\n"
        "  hint: write a whole amount, like price: 1500"
    ]
    product = read("products", "a.md", "---\ntitle: A\nprice: 1500.00\ncurrency: JPY\n---\n")
    assert (product.price, product.currency) == (Decimal("1500.00"), "JPY")


def test_a_product_permalink_may_use_its_category() -> None:
    ctx = context(make_config("permalinks: {product: '/{category}/{slug}/'}\n"))
    piatto = read("products", "a.md", "---\ntitle: A\nprice: 1\ncategory: Piatti\n---\n", ctx)
    assert piatto.url == "/piatti/a/"
    assert read("products", "b.md", "---\ntitle: B\nprice: 1\n---\n", ctx).url == "/senza-categoria/b/"


# -- FAQ and pages -----------------------------------------------------------------------------


def test_a_question_needs_words_in_its_answer_unless_it_is_a_draft() -> None:
    for body in ("", "\n  \n", "<!-- poi -->\n", "![](/assets/x.jpg)\n", "&nbsp;\n"):
        [error] = errors_of("faq", "a.md", f"---\nquestion: Spedite?\n---\n{body}")
        assert error.startswith("content/faq/a.md:3: this question has no answer"), body
    assert read("faq", "a.md", "---\nquestion: Spedite?\ndraft: true\n---\n").draft


def test_a_faq_entry() -> None:
    entry = read("faq", "Spedite all'estero.md",
                 "---\nquestion: Spedite all'estero?\ngroup: Spedizioni\norder: 2\n---\n"
                 "Sì, in *tutta* Europa.\n")
    assert entry == FaqEntry(
        "content/faq/Spedite all'estero.md", "Spedite all'estero?", "Spedizioni", 2,
        "<p>Sì, in <em>tutta</em> Europa.</p>", "spedite-all-estero", False,
        lines=(("question", 2), ("group", 3), ("order", 4)),
    )


def test_a_faq_entry_needs_a_question() -> None:
    assert errors_of("faq", "a.md", "---\ngroup: x\n---\n") == [
        'content/faq/a.md:2: missing required field "question"'
    ]


def test_a_page_with_menu_template_and_form() -> None:
    page = read("pages", "Chi siamo.md",
                "---\ntitle: Chi siamo\nmenu: 2\ntemplate: landing\nform: contact\n"
                "image: /assets/a.jpg\n---\nNoi.\n")
    assert isinstance(page, Page)
    assert (page.slug, page.url, page.menu, page.template, page.form) == (
        "chi-siamo", "/chi-siamo/", 2, "landing.html", "contact")
    assert (page.image, page.content_html, page.draft) == ("/assets/a.jpg", "<p>Noi.</p>", False)


def test_a_page_naming_an_unknown_form_lists_the_known_ones() -> None:
    assert errors_of("pages", "contatti.md", "---\ntitle: Contatti\n\nform: contatto\n---\n") == [
        'content/pages/contatti.md:4: form "contatto" is not defined in storefront.yaml\n'
        "  hint: known forms: contact"
    ]
    no_forms = context(make_config())
    assert errors_of("pages", "contatti.md", "---\ntitle: C\nform: x\n---\n", no_forms) == [
        'content/pages/contatti.md:3: form "x" is not defined in storefront.yaml\n'
        "  hint: known forms: none are defined"
    ]


def test_a_page_slug_must_be_safe() -> None:
    assert errors_of("pages", "fuga.md", "---\ntitle: F\nslug: ../../etc/passwd\n---\n") == [
        'content/pages/fuga.md:3: slug must use only lowercase letters, digits and dashes '
        '(like "vaso-blu"), got "../../etc/passwd"'
    ]


NO_FRONT_MATTER = ("  hint: the file has no front matter: its first line must be just ---, then "
                   "its fields (one per line), then another line with just ---")


def test_a_document_without_front_matter_misses_its_title() -> None:
    assert errors_of("pages", "a.md", "Just text.\n") == [
        'content/pages/a.md:1: missing required field "title"\n' + NO_FRONT_MATTER
    ]


def test_a_front_matter_without_its_opening_line_says_so() -> None:
    # the owner wrote the fields but forgot the first ---: "missing title" alone, with
    # title: on line 1, left them looking at a title that is there
    text = "title: Vaso\nprice: 12.50\n---\n\nUn vaso.\n"
    assert errors_of("products", "vaso.md", text) == [
        'content/products/vaso.md:1: missing required field "price"\n' + NO_FRONT_MATTER,
        'content/products/vaso.md:1: missing required field "title"\n' + NO_FRONT_MATTER,
    ]


def test_an_empty_front_matter_names_its_two_lines() -> None:
    # a doubled --- closes the front matter at once; the fields end up in the text
    assert errors_of("faq", "a.md", "---\n---\nquestion: Spedite?\n---\n\nSì.\n") == [
        'content/faq/a.md:1: missing required field "question"\n'
        "  hint: the front matter between the --- on lines 1 and 2 is empty: write the fields "
        "between those two lines"
    ]


def test_a_blank_tag_is_an_error_at_its_line() -> None:
    # tags: ['', x] made a tag page with no name, linked by an empty link on the post
    assert errors_of("posts", "2024-05-01-a.md", "---\ntitle: T\ntags:\n  - x\n  - '  '\n---\n") == [
        "content/posts/2024-05-01-a.md:5: tags[2] is empty\n"
        "  hint: write a value, or remove it from the list"
    ]


def test_invisible_characters_are_dropped_from_names_slugs_and_aliases() -> None:
    """Text pasted from a web page or a chat brings zero-width spaces, soft hyphens, BOMs and
    no-break spaces that look like nothing. "pa\u200bne" and "pane" shared one tag page, which
    showed whichever came first; "\ufeffdolci" sorted after every other tag; a category heading
    kept them; a slug with one was refused as if it had a visible mistake ('got "vasoblu"'),
    and an alias with one redirected from /vecchio%E2%80%8B-vaso/, which nobody visits."""
    post = read("posts", "2024-05-01-a.md", "---\ntitle: T\ntags: [\"pa\u200bne\", pane, "
                "\"pa\u00adne\", \"\ufeffdolci\", \"pane\u00a0 fresco\", \"\U0001f469\u200d\U0001f373\"]"
                "\nslug: \"pane\u2060caldo\"\naliases: [\"/vecchio\u200b-pane/\"]\n---\n")
    assert [tag.name for tag in post.tags] == ["pane", "dolci", "pane fresco",
                                               "\U0001f469\u200d\U0001f373"]  # a joiner shapes emoji
    assert (post.slug, post.aliases) == ("panecaldo", ("/vecchio-pane/",))
    product = read("products", "v.md", "---\ntitle: V\nprice: 1\ncategory: \"Vasi\u200b "
                   "grandi\"\n---\n")
    assert product.category == Category("Vasi grandi", "vasi-grandi", "/prodotti/#vasi-grandi")


def test_a_value_of_invisible_characters_only_is_an_error_at_its_line() -> None:
    """A title of one zero-width space showed a blank page title, card and feed item; a tag of
    one made a tag page named by nothing."""
    assert errors_of("posts", "2024-05-01-a.md",
                     "---\ntitle: \"\u200b\"\ntags: [pane, \"\ufeff\"]\n---\n") == [
        "content/posts/2024-05-01-a.md:2: title holds only invisible characters (U+200B), which "
        "show nothing\n  hint: write a value",
        "content/posts/2024-05-01-a.md:3: tags[2] holds only invisible characters (U+FEFF), "
        "which show nothing\n  hint: write a value, or remove it from the list",
    ]


def test_a_file_name_dated_outside_the_years_gives_no_date() -> None:
    """0024-05-01 (a typo for 2024) was published in year 24; 0001-01-01 failed with an internal
    error. As with a date in the front matter, only the years 1900 to 2999 count."""
    from storefront.values import date_from_filename

    assert date_from_filename("0024-05-01-pane") == (None, "0024-05-01-pane")
    assert date_from_filename("0001-01-01-pane") == (None, "0001-01-01-pane")
    assert date_from_filename("2024-05-01-pane")[1] == "pane"
