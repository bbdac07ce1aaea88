"""storefront.redirects: aliases as redirect pages, _redirects and an nginx map; their collisions."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from storefront.documents import FaqEntry, Page
from storefront.redirects import (
    Redirect,
    check_redirects,
    collect_redirects,
    render_nginx_map,
    render_redirects_file,
)
from storefront.urls import UrlBuilder

URLS = UrlBuilder.from_base_url("https://example.com/shop/")


def redirect(source: str, target: str = "/shop/nuovo/", document: str = "content/pages/a.md",
             line: int = 3) -> Redirect:
    return Redirect(source, target, "Nuovo", document, line)


@pytest.mark.parametrize(("source", "page"), [
    ("/shop/vecchio/", "/shop/vecchio/"), ("/shop/vecchio.html", "/shop/vecchio.html"),
    ("/shop/vecchio.htm", "/shop/vecchio.htm"), ("/shop/vecchio", "/shop/vecchio/"),
    ("/shop/prodotto.php", None), ("/shop/a.b/c", "/shop/a.b/c/"),
])
def test_where_the_redirect_page_goes(source: str, page: str | None) -> None:
    assert redirect(source).page_url == page


def test_aliases_are_collected_with_their_targets_in_file_order() -> None:
    page = Page("content/pages/b.md", "Chi siamo", "chi", "/shop/chi/", None, "page.html", "",
                Markup(""), None, "", False, lines=(("aliases", 3), ("aliases[1]", 4),
                                                     ("aliases[2]", 5)),
                aliases=("/shop/about/", "/shop/chi.html"))
    faq = FaqEntry("content/faq/a.md", "Spedite?", "", 0, Markup(""), "spedite", False,
                   lines=(("aliases", 3),), aliases=("/shop/spedizioni-faq/",))
    assert collect_redirects([page, faq], "/shop/faq/") == [
        Redirect("/shop/spedizioni-faq/", "/shop/faq/#spedite", "Spedite?", "content/faq/a.md", 3),
        Redirect("/shop/about/", "/shop/chi/", "Chi siamo", "content/pages/b.md", 4),
        Redirect("/shop/chi.html", "/shop/chi/", "Chi siamo", "content/pages/b.md", 5),
    ]


def problems(redirects: list[Redirect], claims: list[tuple[str, str]]) -> list[str]:
    return [e.format() for e in check_redirects(redirects, claims, URLS)]


def test_a_free_alias_is_fine() -> None:
    assert problems([redirect("/shop/vecchio/")], [("/shop/nuovo/", "content/pages/a.md")]) == []


def test_an_alias_on_a_page_its_own_address_or_a_generated_file_is_an_error() -> None:
    claims = [("/shop/nuovo/", "content/pages/a.md"), ("/shop/chi/", "content/pages/chi.md"),
              ("/shop/feed.xml", "the feeds")]
    assert problems([redirect("/shop/chi", line=3), redirect("/shop/nuovo/", line=4),
                     redirect("/shop/feed.xml", line=5)], claims) == [
        "content/pages/a.md:3: the alias /shop/chi is the address of content/pages/chi.md\n"
        "  hint: remove the alias, or give that page another slug",
        "content/pages/a.md:4: the alias /shop/nuovo/ is this page's own address\n"
        "  hint: remove it: an alias is an old address that should lead here",
        "content/pages/a.md:5: the alias /shop/feed.xml is the address of the feeds\n"
        "  hint: remove the alias: the site itself writes that address",
    ]


def test_two_aliases_on_one_address_are_both_reported() -> None:
    # "/x" and "/x/" are one address: the same index.html
    found = problems([redirect("/shop/x", document="content/pages/a.md", line=3),
                      redirect("/shop/x/", "/shop/altro/", document="content/posts/b.md", line=7)], [])
    assert found == [
        "content/posts/b.md:7: the alias /shop/x/ is also an alias in content/pages/a.md:3\n"
        "  hint: an old address can lead to one page only: keep one of them",
        "content/pages/a.md:3: the alias /shop/x is also an alias in content/posts/b.md:7\n"
        "  hint: an old address can lead to one page only: keep one of them",
    ]


def test_an_alias_outside_the_base_path_is_an_error() -> None:
    assert problems([redirect("/altro/")], []) == [
        "content/pages/a.md:3: the alias /altro/ is outside the site's base path /shop/\n"
        "  hint: write it from the site root"]


def test_redirects_file_percent_encodes_and_has_no_force_flag() -> None:
    data = render_redirects_file([redirect("/shop/caffè/", "/shop/caffe/"),
                                  redirect("/shop/a", "/shop/faq/#spedite")]).decode()
    assert data.splitlines()[2:] == ["/shop/caff%C3%A8/ /shop/caffe/ 301", "/shop/a /shop/faq/#spedite 301"]
    assert "!" not in data  # Cloudflare refuses "301!"
    assert all(line.startswith("#") or len(line.split()) == 3 for line in data.splitlines())


def test_nginx_map_uses_decoded_keys_and_both_folder_forms() -> None:
    data = render_nginx_map([redirect("/shop/caffè/", "/shop/caffè-nuovo/"),
                             redirect("/shop/x.php", "/shop/x/")]).decode()
    assert data.splitlines()[4:] == [
        "map $uri $storefront_redirect {",
        '    "/shop/caffè/" "/shop/caff%C3%A8-nuovo/";',
        '    "/shop/caffè" "/shop/caff%C3%A8-nuovo/";',
        '    "/shop/x.php" "/shop/x/";',
        "}",
    ]


def test_an_empty_nginx_map_is_still_a_valid_include() -> None:
    assert render_nginx_map([]).decode().endswith("map $uri $storefront_redirect {\n}\n")


def test_an_alias_whose_page_would_be_inside_a_file_of_the_site_is_an_error() -> None:
    # the build could not write shop/feed.xml/index.html beside the file shop/feed.xml
    claims = [("/shop/feed.xml", "the feeds"), ("/shop/_redirects", "the redirects")]
    assert problems([redirect("/shop/feed.xml/", line=3), redirect("/shop/_redirects", line=4),
                     redirect("/shop/vecchio.html", line=5),
                     redirect("/shop/vecchio.html/", line=6)], claims) == [
        "content/pages/a.md:3: the alias /shop/feed.xml/ would be a page inside feed.xml, the file "
        "of the feeds\n  hint: remove the alias: that address cannot be a folder",
        "content/pages/a.md:4: the alias /shop/_redirects would be a page inside _redirects, the "
        "file of the redirects\n  hint: remove the alias: that address cannot be a folder",
        "content/pages/a.md:6: the alias /shop/vecchio.html/ would be a page inside vecchio.html, "
        "the file of the alias /shop/vecchio.html in content/pages/a.md:5\n"
        "  hint: remove the alias: that address cannot be a folder",
    ]
