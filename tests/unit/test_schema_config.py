"""storefront.schema.Mapper and storefront.config.parse_config: typed config, every problem at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

import pytest

from storefront.config import Address, SiteConfig, parse_config
from storefront.errors import BuildFailed
from storefront.formconfig import FormDefinition
from storefront.schema import Mapper, compose_yaml
from storefront.urls import UrlBuilder

FIELDS = "fields: [{name: email, type: email}]"


def problems(text: str) -> list[str]:
    """The formatted errors ``parse_config`` raises for ``text`` (it must raise)."""
    with pytest.raises(BuildFailed) as caught:
        parse_config(text)
    return [error.format() for error in caught.value.errors]


def config(text: str) -> SiteConfig:
    return parse_config("title: Bottega\n" + text)


# -- the Mapper on its own ---------------------------------------------------------------------


@dataclass(frozen=True)
class Inner:
    size: int = 1


@dataclass(frozen=True)
class Sample:
    name: str
    flag: bool = False
    count: int = 0
    ratio: float = 0.5
    amount: Decimal = Decimal("0")
    mode: Literal["fast", "slow"] = "fast"
    tags: tuple[str, ...] = ()
    inner: Inner = field(default_factory=Inner)
    maybe: str | None = None


def map_sample(text: str, line_offset: int = 0) -> tuple[Sample | None, list[str]]:
    mapper = Mapper("content/x.md", line_offset=line_offset)
    result = mapper.build(Sample, compose_yaml(text))
    return result, [error.format() for error in mapper.errors]


def test_mapper_builds_typed_values() -> None:
    sample, errors = map_sample(
        "name: vaso\nflag: true\ncount: 3\nratio: 2.5\namount: 12.50\nmode: slow\n"
        "tags: [a, b]\ninner: {size: 4}\nmaybe: ~\n"
    )
    assert errors == []
    assert sample == Sample("vaso", True, 3, 2.5, Decimal("12.50"), "slow", ("a", "b"), Inner(4), None)
    assert str(sample.amount) == "12.50"


@dataclass(frozen=True)
class Named:
    prices: dict[str, int] = field(default_factory=dict)


def test_a_key_in_brackets_is_named_in_words_not_as_the_parser_nodes() -> None:
    sample, errors = map_sample("name: vaso\n[tags]: [a]\n? {x: 1}\n: 2\n")
    assert sample is None
    assert errors == [
        "content/x.md:2: a key is written in brackets, which make it a list or a mapping\n"
        "  hint: write the key alone before the colon, like tags: [a, b]",
        "content/x.md:3: a key is written in brackets, which make it a list or a mapping\n"
        "  hint: write the key alone before the colon, like tags: [a, b]"]
    mapper = Mapper("storefront.yaml")
    assert mapper.build(Named, compose_yaml("prices:\n  small: 1\n  [big]: 2\n")) is None
    assert [error.format().splitlines()[0] for error in mapper.errors] == [
        "storefront.yaml:3: a key of prices is written in brackets, which make it a list or a "
        "mapping"]


def test_mapper_fills_defaults_and_turns_a_single_tag_into_a_list() -> None:
    sample, errors = map_sample("name: vaso\ntags: solo\n")
    assert errors == []
    assert sample == Sample("vaso", tags=("solo",))


def test_mapper_reports_every_problem_with_its_line_shifted_by_the_offset() -> None:
    sample, errors = map_sample(
        "flag: forse\ncount: 2.5\nratio: tanto\namount: dodici\nmode: medium\ntags: {a: 1}\n"
        "inner: {size: tre, colour: red}\nnome: x\n",
        line_offset=1,
    )
    assert sample is None
    assert errors == [
        'content/x.md:2: flag must be true or false, got "forse"',
        'content/x.md:3: count must be a whole number, got "2.5"',
        'content/x.md:4: ratio must be a number, got "tanto"',
        'content/x.md:5: amount must be a number like 12.50, got "dodici"',
        'content/x.md:6: mode must be one of fast, slow, got "medium"',
        "content/x.md:7: tags must be a list\n  hint: write it as [a, b]",
        'content/x.md:8: inner.size must be a whole number, got "tre"',
        'content/x.md:8: unknown key "inner.colour"\n  hint: allowed keys: size',
        'content/x.md:9: unknown key "nome"\n  hint: did you mean "name"?',
        'content/x.md:2: missing required field "name"',
    ]


def test_mapper_refuses_quoted_numbers_and_booleans() -> None:
    _, errors = map_sample('name: x\ncount: "3"\nflag: "true"\n')
    assert errors == [
        'content/x.md:2: count must be a whole number, got "3"\n  hint: write it without quotes',
        'content/x.md:3: flag must be true or false, got "true"\n  hint: write it without quotes',
    ]


def test_mapper_refuses_a_list_where_one_value_belongs() -> None:
    _, errors = map_sample("name: [a, b]\n")
    assert errors == ["content/x.md:1: name must be a single value, not a list or mapping"]


def test_mapper_reports_a_key_given_twice() -> None:
    _, errors = map_sample("name: a\ncount: 1\nname: b\n")
    assert errors == ['content/x.md:3: name is given twice\n  hint: keep only one of them']


def test_mapper_refuses_a_non_mapping_document() -> None:
    _, errors = map_sample("- a\n- b\n")
    assert errors == ["content/x.md:1: this must be a mapping of keys to values"]


def test_mapper_on_an_empty_document_reports_the_missing_field_on_line_one() -> None:
    mapper = Mapper("content/x.md", line_offset=1)
    assert mapper.build(Sample, None) is None
    assert [e.format() for e in mapper.errors] == ['content/x.md:1: missing required field "name"']


@pytest.mark.parametrize("text", ["name: ~\n", "name: null\n", "name:\n"])
def test_mapper_never_turns_null_into_the_text_null(text: str) -> None:
    # a str field written as null/~/nothing must not become the literal "null" or "~" on the site
    sample, errors = map_sample(text)
    assert sample is None
    assert errors == ['content/x.md:1: name is empty\n  hint: write a value, or remove the line']


@pytest.mark.parametrize("text", ['name: ""\n', "name: '   '\n"])
def test_mapper_refuses_blank_text_for_a_required_field(text: str) -> None:
    # title: "" passed as a title: a post's feed entry then stopped the build with an internal error
    sample, errors = map_sample(text)
    assert sample is None
    assert errors == ["content/x.md:1: name is empty\n  hint: write a value"]


def test_mapper_keeps_blank_text_for_a_field_with_a_default() -> None:
    sample, errors = map_sample('name: x\nmaybe: ""\n')
    assert errors == []
    assert sample is not None and sample.maybe == ""


def test_a_blank_site_title_is_an_error_at_its_line() -> None:
    assert problems("base_url: https://example.com/\ntitle: ''\n") == [
        "storefront.yaml:2: title is empty\n  hint: write a value"]


def test_mapper_refuses_non_finite_floats() -> None:
    _, errors = map_sample("name: x\nratio: nan\n")
    assert errors == ['content/x.md:2: ratio must be a number, got "nan"']


# -- parse_config ------------------------------------------------------------------------------


def test_a_minimal_config_gets_the_documented_defaults() -> None:
    site = parse_config("title: Bottega\n")
    assert site.title == "Bottega"
    assert site.base_url == ""
    assert (site.language, site.currency, site.timezone, site.page_size) == ("it", "EUR", "Europe/Rome", 6)
    assert site.effective_locale == "it_IT"
    assert site.permalinks.post == "/blog/{year}/{month}/{slug}/"
    assert site.business.address == Address()
    assert dict(site.forms) == {}
    assert site.form_endpoint.url == "/api/forms/"


def test_base_url_gets_one_trailing_slash() -> None:
    assert config("base_url: https://example.com/shop\n").base_url == "https://example.com/shop/"
    assert config("base_url: https://example.com//\n").base_url == "https://example.com/"


def test_a_base_url_with_a_query_or_fragment_is_refused() -> None:
    """Every address is the base URL and a path: https://example.com/?x=1 made
    https://example.com/?x=1/blog/ (the query was the site's folder)."""
    for url in ("https://example.com/?x=1", "https://example.com/shop#top"):
        assert problems(f"title: Bottega\nbase_url: {url}\n") == [
            "storefront.yaml:2: base_url must be the address of the site's folder, without ? or #, "
            f'such as https://example.com/shop/, got "{url}"']


def test_a_base_url_with_an_empty_or_dot_folder_is_refused() -> None:
    """https://example.com//shop/ made every link of the site start with //shop/, which a
    browser reads as an address on the host "shop" (no stylesheet, no link worked)."""
    for url in ("https://example.com//shop/", "https://example.com/shop//negozio",
                "https://example.com/./shop/", "https://example.com/shop/../"):
        assert problems(f"title: Bottega\nbase_url: {url}\n") == [
            'storefront.yaml:2: base_url must be the address of the site\'s folder, without "//", '
            f'"/./" or "/../" in it, such as https://example.com/shop/, got "{url}"']
    assert config("base_url: https://example.com/shop/negozio//\n").base_url == (
        "https://example.com/shop/negozio/")


def test_a_base_url_in_unicode_is_written_as_urls_are() -> None:
    """https://caffè.it/caffè/ went as it was into the sitemap, the feeds and og:url, which take
    only ASCII URLs, and the forms compared it with the Origin a browser sends (the host in its
    IDNA form), refusing every submission."""
    assert config("base_url: https://Caffè.IT/caffè/\n").base_url == (
        "https://xn--caff-8oa.it/caff%C3%A8/")
    assert config("base_url: https://straße.de:8443/a%20b/100%/\n").base_url == (
        "https://xn--strae-oqa.de:8443/a%20b/100%25/")  # as browsers make it (UTS #46)
    assert config("base_url: https://example.com/caff%C3%A8\n").base_url == (
        "https://example.com/caff%C3%A8/")
    assert UrlBuilder.from_base_url(config("base_url: https://caffè.it/caffè/\n").base_url
                                    ).base_path == "/caffè/"  # site paths stay decoded
    assert problems("title: Bottega\nbase_url: https://caffè\u200d.it/\n") == [
        'storefront.yaml:2: base_url must have a domain name that a browser can visit, got '
        '"https://caffè\u200d.it/"']
    assert problems("title: Bottega\nbase_url: https://example.com/%2e%2e/\n") == [
        'storefront.yaml:2: base_url must be the address of the site\'s folder, without "//", '
        '"/./" or "/../" in it, such as https://example.com/shop/, got "https://example.com/%2e%2e/"']


def test_every_problem_is_reported_at_once_with_its_line() -> None:
    assert problems(
        "titel: Bottega\n"
        "base_url: example.com\n"
        "language: fr\n"
        "currency: EURO\n"
        "timezone: Europe/Roma\n"
        "locale: xx_XX\n"
        "page_size: tanti\n"
        "business:\n"
        "  phone: '+39 055'\n"
        "  address:\n"
        "    strret: Via Roma 1\n"
        "  geo: {latitude: north, longitude: 11.2}\n"
        "menu:\n"
        "  - {title: Blog}\n"
    ) == [
        'storefront.yaml:1: missing required field "title"',
        'storefront.yaml:1: unknown key "titel"\n  hint: did you mean "title"?',
        'storefront.yaml:2: base_url must be an absolute http(s) URL such as https://example.com/, '
        'got "example.com"',
        'storefront.yaml:3: language must be one of it, en, got "fr"',
        'storefront.yaml:4: currency must be an ISO 4217 currency code such as EUR or USD, got "EURO"',
        'storefront.yaml:5: timezone must be a time zone name such as Europe/Rome, got "Europe/Roma"',
        'storefront.yaml:6: locale must be a locale code such as it_IT or en_US, got "xx_XX"',
        'storefront.yaml:7: page_size must be a whole number, got "tanti"',
        'storefront.yaml:11: unknown key "business.address.strret"\n  hint: did you mean "street"?',
        'storefront.yaml:12: business.geo.latitude must be a number, got "north"\n'
        '  hint: the latitude goes from -90 (south) to 90 (north): copy it from a map, such as 43.8429',
        'storefront.yaml:14: missing required field "menu[1].url"',
    ]


def test_an_unknown_key_without_a_close_match_lists_the_allowed_keys() -> None:
    assert problems("title: x\nbusiness:\n  telefono: '1'\n") == [
        'storefront.yaml:3: unknown key "business.telefono"\n  hint: allowed keys: address, closures, '
        "email, geo, legal_name, map, name, opening_hours, phone, vat_number, whatsapp"
    ]


def test_wrong_types_name_the_type_expected() -> None:
    assert problems(
        "title: [a, b]\npage_size: 2.5\nmenu: {title: Blog, url: /blog/}\n"
        "forms:\n  contact:\n    fields: [{name: email, required: sì}]\n"
        "form_endpoint: {smtp: {port: '587'}}\n"
    ) == [
        "storefront.yaml:1: title must be a single value, not a list or mapping",
        'storefront.yaml:2: page_size must be a whole number, got "2.5"',
        "storefront.yaml:3: menu must be a list\n  hint: write it as [a, b]",
        'storefront.yaml:6: forms.contact.fields[1].required must be true or false, got "sì"',
        'storefront.yaml:7: form_endpoint.smtp.port must be a whole number, got "587"\n'
        "  hint: write it without quotes",
    ]


def test_literal_values_list_the_choices() -> None:
    assert problems("title: x\nforms:\n  c:\n    fields: [{name: a, type: date}]\n"
                    "form_endpoint: {smtp: {security: tls}}\n") == [
        'storefront.yaml:4: forms.c.fields[1].type must be one of text, email, tel, textarea, number, '
        'checkbox, select, hidden, got "date"',
        'storefront.yaml:5: form_endpoint.smtp.security must be one of starttls, ssl, none, got "tls"',
    ]


def test_duplicate_keys_are_errors_at_any_depth() -> None:
    assert problems("title: a\nbusiness:\n  name: b\n  name: c\ntitle: d\n") == [
        "storefront.yaml:4: business.name is given twice\n  hint: keep only one of them",
        "storefront.yaml:5: title is given twice\n  hint: keep only one of them",
    ]


def test_a_form_defined_twice_is_an_error_not_silently_the_last_one() -> None:
    assert problems(f"title: a\nforms:\n  contact: {{{FIELDS}}}\n  contact: {{{FIELDS}}}\n") == [
        "storefront.yaml:4: forms.contact is given twice\n  hint: keep only one of them"
    ]


@pytest.mark.parametrize("name", ["Contact Us", "a/b", "../x", "contatti?"])
def test_form_names_must_be_usable_in_a_url(name: str) -> None:
    # the name becomes the last segment of the form's action URL and part of an HTML id
    errors = problems(f"title: a\nforms:\n  '{name}': {{{FIELDS}}}\n")
    assert errors == [
        f'storefront.yaml:3: forms."{name}" must be a name of lowercase letters, digits, "-" and "_" '
        'such as "contact"'
    ]


def test_forms_get_their_name_from_their_key_and_keep_their_fields() -> None:
    site = config(
        "forms:\n"
        "  contact:\n"
        "    success_page: /grazie/\n"
        "    require_one_of: [email, phone]\n"
        "    fields:\n"
        "      - {name: email, type: email, required: true}\n"
        "      - {name: phone, type: tel}\n"
        "      - {name: topic, type: select, choices: [ordini, altro]}\n"
        "      - {name: qty, type: number, min: 1, max: 9}\n"
        "      - {name: privacy, type: checkbox, consent: true}\n"
    )
    form = site.forms["contact"]
    assert isinstance(form, FormDefinition)
    assert form.name == "contact"
    assert [f.name for f in form.fields] == ["email", "phone", "topic", "qty", "privacy"]
    assert form.fields[2].choices == ("ordini", "altro")
    assert (form.fields[3].min_value, form.fields[3].max_value) == (1, 9)
    assert form.consent_field is form.fields[4]
    assert form.success_page == "/grazie/"
    assert site.form_action("contact") == "/api/forms/contact"


def test_valid_places_countries_addresses_and_origins_are_kept() -> None:
    site = config(
        "business:\n"
        "  address: {city: Sydney, country: au}\n"
        "  geo: {latitude: -33.8688, longitude: 151.2093}\n"
        "forms:\n"
        "  contact:\n"
        "    notify: ordini@negozio.it\n"
        "    fields: [{name: privacy, type: checkbox, consent: true}, {name: nota, consent: false}]\n"
        "  newsletter:\n"
        "    notify: ''\n"
        f"    {FIELDS}\n"
        "form_endpoint:\n"
        "  url: https://forms.example:8443/api/forms/\n"
        "  allowed_origins: ['https://www.forno.it:8443', 'http://127.0.0.1:8000', https://caffè.it,\n"
        "                    'http://[::1]:8000', https://forno.it/negozio/]\n"
    )
    assert site.business.address.country == "AU"
    assert site.business.geo is not None
    assert (site.business.geo.latitude, site.business.geo.longitude) == (-33.8688, 151.2093)
    assert (site.forms["contact"].notify, site.forms["newsletter"].notify) == ("ordini@negozio.it", "")
    assert site.form_action("contact") == "https://forms.example:8443/api/forms/contact"
    assert site.form_endpoint.allowed_origins == (
        "https://www.forno.it:8443/", "http://127.0.0.1:8000/", "https://xn--caff-8oa.it/",
        "http://[::1]:8000/", "https://forno.it/negozio/")
    for edge in ("{latitude: -90, longitude: 180}", "{latitude: 90, longitude: -180}",
                 "{latitude: 0, longitude: 0}"):
        assert config(f"business: {{geo: {edge}}}\n").business.geo is not None


@pytest.mark.parametrize(("line", "message"), [
    ("business: {geo: {latitude: 90.5, longitude: 10}}",
     'business.geo.latitude must be between -90 and 90, got "90.5"\n  hint: the latitude goes '
     "from -90 (south) to 90 (north): copy it from a map, such as 43.8429"),
    ("business: {geo: {latitude: 43, longitude: .inf}}",
     'business.geo.longitude must be a number, got ".inf"\n  hint: the longitude goes from -180 '
     "(west) to 180 (east): copy it from a map, such as 10.5027"),
    ("business: {address: {country: Germania}}",
     'business.address.country must be a two-letter ISO 3166 country code such as IT or DE, got '
     '"Germania"; the code of Germania is DE\n  hint: write the two-letter code, e.g. IT'),
    ("business: {address: {country: ITA}}",
     'business.address.country must be a two-letter ISO 3166 country code such as IT or DE, got '
     '"ITA"\n  hint: write the two-letter code, e.g. IT'),
    ("forms: {c: {notify: ordini, fields: [{name: a}]}}",
     'forms.c.notify must be an e-mail address such as ciao@negozio.it, got "ordini"\n  hint: '
     "write one address, such as ordini@negozio.it, or remove the line to get no e-mail"),
    ("form_endpoint: {allowed_origins: [forno.it:8443]}",
     'form_endpoint.allowed_origins[1] must start with https://, like https://forno.it:8443, got '
     '"forno.it:8443"'),
    ("form_endpoint: {allowed_origins: [localhost:8000]}",
     'form_endpoint.allowed_origins[1] must start with http://, like http://localhost:8000, got '
     '"localhost:8000"'),
    ("form_endpoint: {allowed_origins: ['*']}",
     'form_endpoint.allowed_origins[1] must be an address that starts with https://, such as '
     'https://www.example.com, got "*"'),
    ("form_endpoint: {allowed_origins: ['https://forno.it:99999']}",
     "form_endpoint.allowed_origins[1] must be an absolute http(s) URL such as https://example.com/, "
     'got "https://forno.it:99999"'),
    ("form_endpoint: {url: 'https://forms.example:65536/api/'}",
     "form_endpoint.url must be an absolute http(s) URL such as https://example.com/, got "
     '"https://forms.example:65536/api/"'),
    ("form_endpoint: {url: 'https://forms example.it/api/'}",
     "form_endpoint.url must be an absolute http(s) URL such as https://example.com/, got "
     '"https://forms example.it/api/"'),
    ("form_endpoint: {url: 'https://[::1/submit'}",
     "form_endpoint.url must be an absolute http(s) URL such as https://example.com/, got "
     '"https://[::1/submit"'),
])
def test_impossible_places_countries_addresses_and_origins_are_refused(line: str, message: str) -> None:
    [error] = problems(f"title: x\n{line}\n")
    shown = error if "\n  hint: " in message else error.split("\n")[0]  # the hint when given
    assert shown == f"storefront.yaml:2: {message}"


def test_mail_addresses_are_kept_as_the_mails_need_them() -> None:
    """smtp.sender may carry a name (the notifications' From: shows it whole); the newsletter's
    addresses are addresses alone. A domain in Unicode is kept in its ASCII form, which every
    mail server takes; "" is no address."""
    for written, kept in [
        ("sito@forno.it", "sito@forno.it"),
        ("Forno Rossi <sito@forno.it>", "Forno Rossi <sito@forno.it>"),
        ('"Bottega Aurora" <sito@forno.it>', "Bottega Aurora <sito@forno.it>"),
        ("Rossi, Forno <sito@forno.it>", '"Rossi, Forno" <sito@forno.it>'),
        ("Caffè Rossi <info@caffè.it>", "Caffè Rossi <info@xn--caff-8oa.it>"),
        ("info@caffè.it", "info@xn--caff-8oa.it"),
        ("<sito@forno.it>", "sito@forno.it"),
        ("", ""),
    ]:
        smtp = config(f"form_endpoint: {{smtp: {{sender: '{written}'}}}}\n").form_endpoint.smtp
        assert smtp.sender == kept
        assert smtp.sender_address == kept.rpartition("<")[2].rstrip(">")
    newsletter = config(
        "newsletter:\n"
        "  sender: lettera@caffè.it\n"
        "  reply_to: ' info@forno.it '\n"
        "  unsubscribe_mailto: ''\n").newsletter
    assert (newsletter.sender, newsletter.reply_to, newsletter.unsubscribe_mailto) == (
        "lettera@xn--caff-8oa.it", "info@forno.it", "")


@pytest.mark.parametrize(("line", "message"), [
    ("form_endpoint: {smtp: {sender: ciao at forno}}",
     'form_endpoint.smtp.sender must be an e-mail address such as ciao@negozio.it, got "ciao at '
     'forno"\n  hint: write the address mails are sent from, such as sito@negozio.it, or a name '
     "and the address: Forno Rossi <sito@negozio.it>"),
    ("form_endpoint: {smtp: {sender: Forno Rossi sito@forno.it}}",
     'form_endpoint.smtp.sender must be an e-mail address such as ciao@negozio.it, got "Forno '
     'Rossi sito@forno.it"'),
    ('form_endpoint: {smtp: {sender: "sito@forno.it\\r\\nBcc: tutti@example.com"}}',
     "form_endpoint.smtp.sender must be one address on one line: a line break would reach the "
     'headers of every mail, got "sito@forno.it\\r\\nBcc: tutti@example.com"'),
    ('form_endpoint: {smtp: {sender: "Forno\\tRossi <sito@forno.it>"}}',
     "form_endpoint.smtp.sender must be an e-mail address, or a name and the address such as "
     'Forno Rossi <ciao@negozio.it>, got "Forno\\tRossi <sito@forno.it>"'),
    ("newsletter: {sender: Forno Rossi <lettera@forno.it>}",
     'newsletter.sender must be the address alone, lettera@forno.it, without a name, got "Forno '
     'Rossi <lettera@forno.it>"\n  hint: write one address, such as lettera@negozio.it; the '
     "newsletter's mails show the shop's name (business.name) as the sender's name"),
    ("newsletter: {sender: caffè@forno.it}",
     'newsletter.sender must have only plain letters, digits and signs such as . - _ before the '
     '"@" (most mail servers refuse accented letters there), got "caffè@forno.it"'),
    ('newsletter: {reply_to: "info@forno.it\\n"}',
     "newsletter.reply_to must be one address on one line: a line break would reach the headers "
     'of every mail, got "info@forno.it\\n"\n  hint: write one address, such as info@negozio.it, '
     "or remove the line: replies then go to the sender"),
    ("newsletter: {reply_to: info@forno}",
     'newsletter.reply_to must be an e-mail address such as ciao@negozio.it, got "info@forno"'),
    ("newsletter: {unsubscribe_mailto: info@☃.it}",
     'newsletter.unsubscribe_mailto must have a domain name that mail can be sent to, got '
     '"info@☃.it"\n  hint: write one address, such as info@negozio.it, or remove the line: '
     "requests then go to reply_to, else to the sender"),
    ("newsletter: {unsubscribe_mailto: 'info@forno.it (Forno)'}",
     "newsletter.unsubscribe_mailto must be an e-mail address such as ciao@negozio.it, got "
     '"info@forno.it (Forno)"'),
])
def test_addresses_the_mails_cannot_carry_are_refused(line: str, message: str) -> None:
    [error] = problems(f"title: x\n{line}\n")
    shown = error if "\n  hint: " in message else error.split("\n")[0]  # the hint when given
    assert shown == f"storefront.yaml:2: {message}"


@pytest.mark.parametrize(("line", "message"), [
    ("form_endpoint: {url: //forms.example.com/api/forms/}",
     "form_endpoint.url must start with https:// for an endpoint on another host, like "
     "https://forms.example.com/api/forms/ (a browser reads \"//\" as the start of a host's "
     'address), got "//forms.example.com/api/forms/"\n  hint: a path of the site such as '
     "/api/forms/, or the endpoint's address such as https://forms.example.com/api/forms/"),
    ("form_endpoint: {url: //api/forms/}",
     'form_endpoint.url must be a path that starts with one "/", like /api/forms/ (a browser '
     'reads "//" as the start of another host\'s address), got "//api/forms/"'),
    ("form_endpoint: {url: '/\\forms.example.com/'}",
     "form_endpoint.url must start with https:// for an endpoint on another host, like "
     "https://forms.example.com/ (a browser reads \"//\" as the start of a host's address), got "
     '"/\\forms.example.com/"'),
    ("form_endpoint: {url: /api/ forms/}",
     'form_endpoint.url must be a path without spaces, "\\", "?" or "#", such as /api/forms/, '
     'got "/api/ forms/"'),
    ("form_endpoint: {url: '/api/forms?x=1'}",
     'form_endpoint.url must be a path without spaces, "\\", "?" or "#", such as /api/forms/, '
     'got "/api/forms?x=1"'),
])
def test_an_endpoint_path_naming_another_host_or_holding_a_space_is_refused(
        line: str, message: str) -> None:
    [error] = problems(f"title: x\n{line}\n")
    shown = error if "\n  hint: " in message else error.split("\n")[0]  # the hint when given
    assert shown == f"storefront.yaml:2: {message}"


def test_endpoint_paths_of_the_site_are_kept() -> None:
    for path, action in [("/", "/contact"), ("/api/forms/", "/api/forms/contact"),
                         ("/moduli/invio-2024", "/moduli/invio-2024/contact"),
                         ("/caffè/forms/", "/caffè/forms/contact")]:
        assert config(f"form_endpoint: {{url: '{path}'}}\n").form_action("contact") == action


def test_form_action_joins_the_endpoint_url_with_one_slash() -> None:
    assert config("form_endpoint: {url: /api/forms}\n").form_action("x") == "/api/forms/x"
    assert config("form_endpoint: {url: 'https://forms.example/f/'}\n").form_action(
        "newsletter") == "https://forms.example/f/newsletter"


@pytest.mark.parametrize(
    ("field_yaml", "message"),
    [
        ("{name: website}", 'form field name "website" is reserved; choose another name'),
        ("{name: _ts}", 'form field name "_ts" is reserved; choose another name'),
        ("{name: _mine}", 'form field name "_mine" is reserved; choose another name'),
        ("{name: E-mail}", 'form field name "E-mail" must use lowercase letters, digits and _'),
        ("{name: topic, type: select}", 'form field "topic" is a select but has no "choices"'),
        ("{name: age, min: 1}", 'form field "age": "min" and "max" apply to number fields'),
        ("{name: age, type: number, min: 5, max: 1}", 'form field "age": "min" is larger than "max"'),
        ("{name: nome, consent: true}", 'form field "nome": "consent" applies to a checkbox, the box '
         "a visitor ticks to give consent; remove consent: true from this text field, or make it "
         "type: checkbox"),
        ("{name: ok, type: hidden, consent: true}", 'form field "ok": "consent" applies to a '
         "checkbox, the box a visitor ticks to give consent; remove consent: true from this hidden "
         "field, or make it type: checkbox"),
    ],
)
def test_form_field_rules(field_yaml: str, message: str) -> None:
    assert problems(f"title: x\nforms:\n  c:\n    fields:\n      - {field_yaml}\n") == [
        f"storefront.yaml:5: {message}"
    ]


def test_require_one_of_must_name_fields_of_the_form() -> None:
    assert problems(f"title: x\nforms:\n  c:\n    {FIELDS}\n    require_one_of: [phone]\n") == [
        "storefront.yaml:4: \"require_one_of\" names fields the form does not have: ['phone']"
    ]


def test_a_form_needs_fields_and_a_site_path_as_success_page() -> None:
    assert problems("title: x\nforms:\n  c:\n    success_page: grazie\n") == [
        'storefront.yaml:4: forms.c.success_page must start with "/" (a page of this site) or http(s)://, '
        'got "grazie"',
        'storefront.yaml:4: missing required field "forms.c.fields"',
    ]


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("/../../{slug}/", 'must be a path starting with "/" and without "..", got "/../../{slug}/"'),
        ("blog/{slug}/", 'must be a path starting with "/" and without "..", got "blog/{slug}/"'),
        ("/blog//{slug}/", 'must be a path starting with "/" and without "..", got "/blog//{slug}/"'),
        ("/blog\\{slug}/", 'must be a path starting with "/" and without "..", got "/blog\\{slug}/"'),
        ("/blog/{slug}", 'must end with "/" or ".html", got "/blog/{slug}"'),
        ("/blog/{title}/", 'may use only {year}, {month}, {day}, {slug} and {category}, '
                           'got "/blog/{title}/"'),
        ("/blog/{slug!r}/", 'may use only {year}, {month}, {day}, {slug} and {category}, '
                            'got "/blog/{slug!r}/"'),
        ("/blog/{slug/", 'has an unmatched "{" or "}", got "/blog/{slug/"'),
        ("/blog/}{slug}/", 'has an unmatched "{" or "}", got "/blog/}{slug}/"'),
    ],
)
def test_bad_permalinks_are_rejected(pattern: str, message: str) -> None:
    assert problems(f"title: x\npermalinks:\n  post: '{pattern}'\n") == [
        f"storefront.yaml:3: permalinks.post {message}"
    ]


@pytest.mark.parametrize(
    ("kind", "pattern", "allowed"),
    [
        ("post", "/{category}/{slug}/", "{year}, {month}, {day} and {slug}"),
        ("product", "/{year}/{slug}/", "{slug} and {category}"),
        ("page", "/{category}/{slug}/", "{slug}"),
        ("tag", "/tag/{year}/{slug}/", "{slug}"),
        ("blog", "/blog/{slug}/", "no placeholders"),
    ],
)
def test_permalinks_may_use_only_the_placeholders_their_kind_has(kind: str, pattern: str,
                                                                 allowed: str) -> None:
    # a product has no date: "/{year}/..." used to pass here and crash the build with a KeyError
    assert problems(f"title: x\npermalinks:\n  {kind}: '{pattern}'\n") == [
        f'storefront.yaml:3: permalinks.{kind} may use only {allowed}, got "{pattern}"'
    ]


def test_good_permalinks_are_kept() -> None:
    site = config("permalinks:\n  post: /{year}/{month}/{day}/{slug}.html\n  product: /{category}/{slug}/\n"
                  "  products: /negozio/\n")
    assert site.permalinks.post == "/{year}/{month}/{day}/{slug}.html"
    assert site.permalinks.product == "/{category}/{slug}/"
    assert site.permalinks.products == "/negozio/"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("post: /blog/{year}/", 'permalinks.post must contain {slug}, or every document would share one URL, '
                                'got "/blog/{year}/"'),
        ("faq: /domande#top", 'permalinks.faq must be a plain path without "#" or "?", got "/domande#top"'),
        ("category: /c/#{slug}", 'unknown key "permalinks.category"'),
    ],
)
def test_permalinks_need_a_slug_and_no_fragment(line: str, message: str) -> None:
    with pytest.raises(BuildFailed) as failed:
        config(f"permalinks:\n  {line}\n")
    assert [e.message for e in failed.value.errors] == [message]


def test_currency_is_normalised_and_locale_and_timezone_are_checked() -> None:
    site = config("currency: usd\nlocale: en_GB\ntimezone: America/New_York\nlanguage: en\n")
    assert (site.currency, site.effective_locale, site.timezone) == ("USD", "en_GB", "America/New_York")
    assert config("language: en\n").effective_locale == "en_US"


@pytest.mark.parametrize("zone", ["Europe", "europe/rome", "../etc/passwd", "/etc/localtime", "Mars/Olympus"])
def test_bad_timezones_are_config_errors_not_crashes(zone: str) -> None:
    # "Europe" names a folder of the tz database: ZoneInfo raises IsADirectoryError for it
    assert problems(f"title: x\ntimezone: '{zone}'\n") == [
        f'storefront.yaml:2: timezone must be a time zone name such as Europe/Rome, got "{zone}"'
    ]


@pytest.mark.parametrize("locale", ["it-IT", "zz", "it_XX"])
def test_bad_locales_are_rejected(locale: str) -> None:
    assert problems(f"title: x\nlocale: {locale}\n") == [
        f'storefront.yaml:2: locale must be a locale code such as it_IT or en_US, got "{locale}"'
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("page_size: 0", "page_size must be at least 1, got 0"),
        ("page_size: -3", "page_size must be at least 1, got -3"),
        ("home_posts: -1", "home_posts must be at least 0, got -1"),
        ("featured_products: -1", "featured_products must be at least 0, got -1"),
    ],
)
def test_counts_that_would_break_pagination_are_rejected(line: str, message: str) -> None:
    # page_size: 0 used to pass here and crash pagination with ZeroDivisionError; a negative
    # count silently dropped the last item of every listing
    assert problems(f"title: x\n{line}\n") == [f"storefront.yaml:2: {message}"]


def test_zero_home_posts_and_featured_products_are_allowed() -> None:
    site = config("home_posts: 0\nfeatured_products: 0\n")
    assert (site.home_posts, site.featured_products) == (0, 0)


def test_invalid_yaml_reports_where_the_list_opened() -> None:
    assert problems("title: x\nmenu: [a, b\nlanguage: it\n") == [
        "storefront.yaml:2: invalid YAML: the list opened with [ on this line is not closed with ] "
        "(or a comma is missing between two items)\n"
        "  hint: close the brackets, and separate the items with commas"
    ]


def test_invalid_yaml_reports_the_line_of_a_bad_indent() -> None:
    errors = problems("title: x\nbusiness:\n  name: a\n    phone: b\n")
    assert len(errors) == 1
    assert errors[0].startswith("storefront.yaml:4: invalid YAML: ")


@pytest.mark.parametrize("text", ['title: "Bottega\nlanguage: it\nmenu: [a, b]\n',
                                  "language: it\ntitle: 'Bottega\n\ncurrency: EUR\n",
                                  'title: "Bottega\n---\nlanguage: it\n'])
def test_an_unclosed_quote_is_reported_where_it_opens(text: str) -> None:
    # the scanner reads on to the end of the text (or to a ---) looking for the closing quote,
    # and said so at that line with the indentation hint: the owner needs the quote's own line
    line = text.count("\n", 0, text.index("Bottega")) + 1
    quote = text[text.index("Bottega") - 1]
    assert len(problems(text)) == 1
    assert problems(text)[0].startswith(
        f"storefront.yaml:{line}: invalid YAML: the quote {quote} opened on this line is never "
        "closed\n  hint: end the value with the same quote")


def test_a_quote_closed_on_a_later_line_is_one_value_not_an_error() -> None:
    # YAML lets a quoted value run over lines: only a quote never closed is the error above
    assert parse_config('title: "Bottega\n  del pane"\nlanguage: it\n').title == "Bottega del pane"


@pytest.mark.parametrize("text", ["title: x\nbusiness:\n\tname: a\n",
                                  "title: x\nsocial:\n\t- {name: a, url: /a/}\n", "\ttitle: x\n"])
def test_a_tab_that_starts_a_line_is_named_with_the_tabs_hint(text: str) -> None:
    # libyaml says "found character that cannot start any token" without naming the tab: the
    # hint was about the columns of keys, and the owner could not see what was wrong
    line = text.count("\n", 0, text.index("\t")) + 1
    assert problems(text) == [
        f"storefront.yaml:{line}: invalid YAML: found a tab character that cannot start any token\n"
        "  hint: indent with spaces, not tabs"]


def test_an_empty_config_needs_a_title() -> None:
    assert problems("") == ['storefront.yaml:1: missing required field "title"']
    assert problems("# only a comment\n") == ['storefront.yaml:1: missing required field "title"']


def test_the_computers_own_timezone_is_refused() -> None:
    # zoneinfo finds "localtime" (Debian links it to /etc/localtime): the output would depend on
    # the clock settings of whichever computer builds
    assert problems("title: x\ntimezone: localtime\n") == [
        'storefront.yaml:2: timezone must be a time zone name such as Europe/Rome, not '
        '"localtime": that is this computer\'s own setting, and a computer set otherwise (a CI '
        'server) would build other dates'
    ]


@pytest.mark.parametrize("loader", ["libyaml", "python"])
@pytest.mark.parametrize(("text", "quote"), [("title: 'L'arte del pane'\nlanguage: it\n", "'"),
                                             ('title: "Il "vero" pane"\nlanguage: it\n', '"')])
def test_a_quote_inside_a_quoted_value_is_named_whichever_yaml_parser_reads_it(
        text: str, quote: str, loader: str) -> None:
    # libyaml says "did not find expected key"; PyYAML without it "expected <block end>, but
    # found '<scalar>'": both stop just after the quote that closed the value too early
    import yaml

    from storefront.schema import _quote_closed_early

    parse = yaml.CSafeLoader if loader == "libyaml" else yaml.SafeLoader
    with pytest.raises(yaml.MarkedYAMLError) as caught:
        yaml.compose(text, Loader=parse)
    found = _quote_closed_early(caught.value, text)
    assert found is not None and found[0] == quote
    assert problems(text)[0].startswith(
        f"storefront.yaml:1: invalid YAML: the quotes around this value close too early, at the "
        f"{quote} just before")
