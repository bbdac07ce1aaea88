"""Unit tests of the pure parts: tokens, the rate limiter, validation rules, body parsing,
origins, message tables."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from forms_support import FakeClock, make_config

from storefront.config import load_config, parse_config
from storefront.errors import BuildFailed
from storefront.forms.messages import Messages, language_keys
from storefront.forms.origin import OriginPolicy, origin_of
from storefront.forms.request import BadRequest, parse_form, parse_header_value
from storefront.forms.spam import (
    RateLimiter,
    TokenSigner,
    TokenState,
    derive_key,
    hash_ip,
    rate_limit_key,
)
from storefront.forms.validation import is_email, validate_submission


def test_token_states() -> None:
    clock = FakeClock()
    signer = TokenSigner(b"k" * 32, clock)
    token = signer.issue("contact")
    assert signer.check("contact", token, 3) is TokenState.TOO_FAST
    clock.advance(3)
    assert signer.check("contact", token, 3) is TokenState.OK
    assert signer.check("newsletter", token, 3) is TokenState.INVALID
    assert TokenSigner(b"j" * 32, clock).check("contact", token, 3) is TokenState.INVALID
    issued, nonce, mac = token.split(".")
    assert signer.check("contact", f"{int(issued) - 100}.{nonce}.{mac}", 3) is TokenState.INVALID
    assert signer.check("contact", "", 3) is TokenState.MISSING
    clock.advance(24 * 3600)
    assert signer.check("contact", token, 3) is TokenState.EXPIRED


def test_keys_and_ip_hashes_differ_by_purpose() -> None:
    secret = b"s" * 32
    assert derive_key(secret, "token") != derive_key(secret, "ip")
    salt = derive_key(secret, "ip")
    assert hash_ip(salt, "1.2.3.4") == hash_ip(salt, "1.2.3.4")
    assert hash_ip(salt, "1.2.3.4") != hash_ip(derive_key(b"t" * 32, "ip"), "1.2.3.4")


def test_rate_limiter_sliding_window() -> None:
    clock = FakeClock(1000.0 * 600)  # at the start of a window
    limiter = RateLimiter(limit=3, window=600, clock=clock)
    assert [limiter.hit("a") for _ in range(3)] == [None, None, None]
    retry = limiter.hit("a")
    assert retry is not None and 590 < retry <= 601
    assert limiter.hit("b") is None
    clock.advance(600)  # next window: the previous one still weighs fully at its start
    assert limiter.hit("a") is not None
    clock.advance(300)  # half way: previous weighs 1.5, so one more fits
    assert limiter.hit("a") is None
    assert limiter.hit("a") is not None
    clock.advance(1200)  # two windows later: forgotten
    assert [limiter.hit("a") for _ in range(3)] == [None, None, None]


@pytest.mark.parametrize(("address", "key"), [
    ("203.0.113.7", "203.0.113.7"), ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"), ("::ffff:203.0.113.7", "203.0.113.7"),
    ("not an address", "invalid-address"), ("garbage-17", "invalid-address"),
])
def test_rate_limit_key_groups_ipv6_by_64_and_junk_in_one_bucket(address: str, key: str) -> None:
    assert rate_limit_key(address) == key


def test_rate_limiter_memory_is_bounded() -> None:
    limiter = RateLimiter(limit=1, window=60, clock=FakeClock(), max_keys=100)
    for n in range(1000):
        limiter.hit(str(n))
    assert len(limiter._counts) == 100


@pytest.mark.parametrize(("address", "ok"), [
    ("maria@example.com", True), ("maria.rossi+shop@sub.example.it", True),
    ("o'neil@example.ie", True), ("a@b.co", True),
    ("maria@", False), ("@example.com", False), ("maria@example", False),
    ("maria@@example.com", False), ("ma ria@example.com", False), (".maria@example.com", False),
    ("maria.@example.com", False), ("maria..r@example.com", False), ("maria@-example.com", False),
    ("mària@example.com", False), ("x" * 65 + "@example.com", False),
    ("maria@example.com\n", False), ("=?utf-8?q?x?=@example.com", False),
])
def test_email_syntax(address: str, ok: bool) -> None:
    assert is_email(address) is ok


def test_consent_field_is_required_even_if_not_marked_required() -> None:
    config = make_config()
    form = config.forms["contact"]  # privacy: consent true, required not set
    result = validate_submission(form, {"name": ["a"], "email": ["a@example.com"],
                                        "message": ["m"]}, Messages("en"))
    assert result.errors == {"privacy": ["Privacy: your consent is needed to send this form."]}


def test_text_is_normalised_and_trimmed() -> None:
    form = make_config().forms["contact"]
    raw = {"name": ["  Cafe\u0301  "], "email": ["a@example.com"], "message": [" a\r\nb\rc "],
           "privacy": ["on"]}
    result = validate_submission(form, raw, Messages("it"))
    assert result.ok
    assert result.values["name"] == "Café"
    assert result.values["message"] == "a\nb\nc"


def test_config_checks_for_the_new_form_options() -> None:
    base = "title: t\nforms:\n  f:\n    fields:\n"
    with pytest.raises(BuildFailed, match='"min" and "max" apply to number fields'):
        parse_config(base + "      - {name: a, type: text, min: 1}\n")
    with pytest.raises(BuildFailed, match='"min" is larger than "max"'):
        parse_config(base + "      - {name: a, type: number, min: 5, max: 1}\n")
    with pytest.raises(BuildFailed, match="require_one_of"):
        parse_config(base + "      - {name: a}\n    require_one_of: [a, b]\n")
    config = parse_config(base + "      - {name: a, type: number, min: 1, max: 9}\n")
    assert (config.forms["f"].fields[0].min_value, config.forms["f"].fields[0].max_value) == (1, 9)


def test_header_value_parameters() -> None:
    assert parse_header_value('multipart/form-data; boundary="a b;c"; x=1') == (
        "multipart/form-data", {"boundary": "a b;c", "x": "1"})
    assert parse_header_value("Application/X-WWW-Form-Urlencoded; charset=UTF-8") == (
        "application/x-www-form-urlencoded", {"charset": "UTF-8"})


def test_urlencoded_parsing_keeps_blanks_and_repeats() -> None:
    assert parse_form("application/x-www-form-urlencoded", b"a=&b=1&b=2&c=%C3%A8+x") == {
        "a": [""], "b": ["1", "2"], "c": ["è x"]}
    with pytest.raises(BadRequest):
        parse_form("application/x-www-form-urlencoded", b"&".join([b"a=1"] * 300))


def test_multipart_with_preamble_and_part_without_headers_value() -> None:
    body = (b"preamble\r\n--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
            b"--XX\r\ncontent-disposition: form-data; name=b\r\n\r\n\r\n--XX--\r\nepilogue")
    assert parse_form("multipart/form-data; boundary=XX", body) == {"a": ["1"], "b": [""]}


@pytest.mark.parametrize(("url", "origin"), [
    ("https://Example.com/x/", "https://example.com"), ("http://a.b:80/", "http://a.b"),
    ("https://a.b:8443", "https://a.b:8443"), ("http://[::1]:8000/", "http://[::1]:8000"),
    ("ftp://a.b/", None), ("/relative", None), ("https://a.b:99999/", None), ("null", None),
])
def test_origin_of(url: str, origin: str | None) -> None:
    assert origin_of(url) == origin


def test_endpoint_on_its_own_host_is_an_allowed_origin() -> None:
    policy = OriginPolicy("https://shop.example/", (), "https://forms.shop.example/api/forms/")
    assert policy.origins == {"https://shop.example", "https://forms.shop.example"}
    assert policy.allows("https://forms.shop.example", {})  # its own confirm page
    # ...but a redirect after success goes to the site, not to the endpoint's host
    own = {"wsgi.url_scheme": "https", "HTTP_HOST": "forms.shop.example"}
    assert not policy.is_site_origin("https://forms.shop.example", own)
    assert policy.is_site_origin("https://shop.example", own)
    assert not policy.is_site_origin("http://127.0.0.1:8000", own)  # a public site


def test_same_host_origin_must_match_scheme_and_port() -> None:
    policy = OriginPolicy("https://shop.example/", (), "/api/forms/")
    environ = {"wsgi.url_scheme": "https", "HTTP_HOST": "shop.example"}
    assert policy.allows("https://shop.example", environ)
    assert not policy.allows("http://shop.example", environ)
    preview = {"wsgi.url_scheme": "http", "HTTP_HOST": "127.0.0.1:8000"}
    assert policy.allows("http://127.0.0.1:8000", preview)  # the page and endpoint share a host
    assert policy.is_site_origin("http://127.0.0.1:8000", preview)
    assert not policy.allows("http://127.0.0.1:8001", preview)


def test_a_shop_on_a_unicode_host_takes_its_own_forms() -> None:
    """A browser sends the host of https://caffè.it/ as xn--caff-8oa.it in its Origin header."""
    base_url = parse_config("title: Caffè\nbase_url: https://caffè.it/\n").base_url
    policy = OriginPolicy(base_url, (), "https://moduli.example/api/forms/")
    endpoint = {"wsgi.url_scheme": "https", "HTTP_HOST": "moduli.example"}
    assert policy.allows("https://xn--caff-8oa.it", endpoint)
    assert policy.is_site_origin("https://xn--caff-8oa.it", endpoint)


def test_message_tables_have_the_same_keys() -> None:
    assert language_keys("it") == language_keys("en")
    assert Messages("fr").language == "it"  # unknown languages fall back to the site default


# -- form_endpoint.database ----------------------------------------------------------------------


@pytest.mark.parametrize("setting", [
    "data/forms.sqlite3", "/srv/bottega/data/forms.sqlite3",
    "postgresql://storefront@db.example.it:5432/bottega?sslmode=verify-full",
    "postgres://storefront@localhost/bottega", "postgresql:///bottega?service=bottega",
])
def test_a_database_is_a_path_or_a_url_without_password(setting: str) -> None:
    yaml = make_config_text(setting)
    assert parse_config(yaml).form_endpoint.database == setting


@pytest.mark.parametrize("setting", [
    "postgresql://storefront:s3greta@db.example.it/bottega",
    "postgresql://db.example.it/bottega?user=storefront&password=s3greta",
])
def test_a_password_in_the_database_url_is_a_config_error(setting: str) -> None:
    with pytest.raises(BuildFailed) as failure:
        parse_config(make_config_text(setting))
    [error] = failure.value.errors
    assert error.format().startswith(
        "storefront.yaml:9: form_endpoint.database must not contain the database password")
    assert "PGPASSWORD" in error.format()
    assert "s3greta" not in error.format()  # never repeated in a message (CI logs)


def test_another_url_scheme_is_a_config_error() -> None:
    with pytest.raises(BuildFailed, match="must be a file path or a postgresql:// URL"):
        parse_config(make_config_text("mysql://shop@db/bottega"))


def make_config_text(database: str) -> str:
    return ("title: Mini\nbase_url: https://mini.example/\nforms:\n  contact:\n    fields:\n"
            "      - {name: message, type: textarea, required: true}\nlanguage: it\nform_endpoint:\n"
            f"  database: {database}\n")


@pytest.mark.parametrize("setting", [
    "output/forms.sqlite3", "./content/../output/leads.db", "content/assets/contatti.sqlite3",
    "themes/bottega/static/forms.sqlite3", ".storefront-preview/forms.sqlite3", "output",
    "{root}/output/forms.sqlite3", "dati/forms.sqlite3",  # dati is a link to output/dati
])
def test_a_database_the_site_would_publish_is_refused_at_its_line(
        setting: str, tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    """Every lead would be public (or deleted by storefront clean): the build and the endpoint's
    commands refuse it at its line, with the way out."""
    root = tmp_path / "site"
    (root / "output" / "dati").mkdir(parents=True)
    (root / "dati").symlink_to(root / "output" / "dati")
    (root / "storefront.yaml").write_text(make_config_text(setting.format(root=root)),
                                          encoding="utf-8")
    with pytest.raises(BuildFailed) as failure:
        load_config(root)
    [error] = failure.value.errors
    assert error.format().startswith(
        f'storefront.yaml:9: form_endpoint.database "{setting.format(root=root)}" is inside '), \
        error.format()
    assert "hint: keep the submissions outside the site's published folders" in error.format()
    for command in (("build",), ("forms", "list"), ("forms", "export", "--form", "contact")):
        result = run_cli("--root", root, *command)
        assert result.code == 1 and "is inside" in result.err, (command, result.err)
    assert not list((root / "output").rglob("*.sqlite3"))  # no command made it


def test_a_database_in_a_builds_own_output_folder_is_refused(tmp_path: Path,
                                                             run_cli: Callable[..., Any]) -> None:
    root = tmp_path / "site"
    root.mkdir()
    for setting in ("data/forms.sqlite3", "../forms.sqlite3", "outputs/forms.sqlite3",
                    "contents.sqlite3", "postgresql://storefront@localhost/bottega"):
        (root / "storefront.yaml").write_text(make_config_text(setting), encoding="utf-8")
        assert load_config(root).form_endpoint.database == setting
    (root / "storefront.yaml").write_text(make_config_text("public/forms.sqlite3"),
                                          encoding="utf-8")
    assert load_config(root).form_endpoint.database == "public/forms.sqlite3"
    result = run_cli("--root", root, "build", "--output", root / "public")
    assert result.code == 1, result.err
    assert result.err.startswith(
        f'storefront.yaml:9: form_endpoint.database "public/forms.sqlite3" is inside the output '
        f"folder {root / 'public'}, which is uploaded with the site"), result.err


def test_without_the_postgres_extra_a_url_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from storefront.forms.backends import open_postgres
    from storefront.forms.database import StorageError

    monkeypatch.delitem(sys.modules, "storefront.forms.postgres_store", raising=False)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if it were not installed
    with pytest.raises(StorageError, match=r"pip install 'storefront\[postgres\]'"):
        open_postgres("postgresql://storefront@localhost/bottega")
