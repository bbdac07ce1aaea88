"""The benchmark corpus as a Pelican site, with a small Jinja theme written here (no theme download).

A fair peer of the storefront build, like :mod:`hugo_site`'s: the same posts and products with the
same URLs, dates, tags, Markdown bodies and photos (:func:`corpus.write_images`, copied by
Pelican as static files), and the pages of the Hugo peer: a home page (latest posts, featured
products), post pages (date, reading time, tags, cover image, previous/next, 3 related posts by
shared tags, JSON-LD), the blog listing and tag pages paginated by 5 like the example shop, a tag
index, an archive of all posts, the catalogue grouped by category, product pages (price, SKU,
image, JSON-LD), one Atom feed of the latest 20 posts, a sitemap, robots.txt and a 404 page.
Templates autoescape, as storefront's and Hugo's do. The Markdown is Python-Markdown with the
extensions storefront uses (tables, fenced code, footnotes, heading ids by ``toc``, attribute
lists, Markdown in HTML, sane lists, and ``smarty`` for typographic quotes) and Pelican's ``meta``
for the front matter, which Pelican always adds. ``smarty`` is not in Pelican's default Markdown
set and is its largest cost: on this 2-core machine one cold build of 1,000 posts took 9.3-10.3 s
with it and 6.6-6.8 s without it (two runs each, alternating), so "half of Pelican's" depends on
whether the peer makes typographic quotes, as storefront does.

What Pelican does differently, or not at all:

- previous/next, related posts and the sitemap come from Pelican's own plugins
  (pelican-neighbors, pelican-related-posts, pelican-sitemap, in the ``bench`` extra of
  pyproject.toml): Pelican's core has none of them. Related posts count shared tags, as Hugo's do;
- no ``<!--more-->``: a summary is the post's first paragraph (``SUMMARY_MAX_PARAGRAPHS = 1``),
  which is what storefront shows for most posts of the corpus (their marker follows it);
- the reading time is counted in the template (Pelican has none without a plugin);
- products are Pelican pages (``/prodotti/{slug}/``), their price, SKU and category plain metadata
  strings; the price is shown with a decimal comma, not formatted by a locale;
- dates are printed with ``strftime`` in the process's locale (no Italian month names unless
  the machine has that locale), as Hugo's peer prints English ones;
- the photos are copied as they are: no resized copies, WebP or AVIF (neither does Hugo's peer);
- no FAQ or example-shop pages, no JSON feed, no merchant feed, no contact form (Hugo's peer has
  none of them either).
"""

from __future__ import annotations

from pathlib import Path

from corpus import Corpus, Post, Product, write_images

CONFIG = """\
AUTHOR = "Chiara Bellandi"
SITENAME = "Bottega Ceramica Aurora"
SITE_DESCRIPTION = "Ceramiche fatte a mano a Montelupo Fiorentino."
SITEURL = "https://www.bottega-aurora.example"
RELATIVE_URLS = False
PATH = "content"
THEME = "theme"
TIMEZONE = "Europe/Rome"
DEFAULT_LANG = "it"
DEFAULT_DATE_FORMAT = "%d %B %Y"

ARTICLE_PATHS = ["blog"]
PAGE_PATHS = ["prodotti"]
STATIC_PATHS = ["assets"]
ARTICLE_URL = "blog/{date:%Y}/{date:%m}/{slug}/"
ARTICLE_SAVE_AS = "blog/{date:%Y}/{date:%m}/{slug}/index.html"
PAGE_URL = "prodotti/{slug}/"
PAGE_SAVE_AS = "prodotti/{slug}/index.html"
# the posts' folder is their one category: its paginated listing is the blog, /blog/
CATEGORY_URL = "{slug}/"
CATEGORY_SAVE_AS = "{slug}/index.html"
TAG_URL = "tag/{slug}/"
TAG_SAVE_AS = "tag/{slug}/index.html"
TAGS_URL = "tag/"
TAGS_SAVE_AS = "tag/index.html"
ARCHIVES_URL = "blog/archivio/"
ARCHIVES_SAVE_AS = "blog/archivio/index.html"
AUTHOR_SAVE_AS = ""
CATALOGO_URL = "prodotti/"
CATALOGO_SAVE_AS = "prodotti/index.html"
ROBOTS_SAVE_AS = "robots.txt"
NOTFOUND_SAVE_AS = "404.html"
DIRECT_TEMPLATES = ["index", "tags", "archives", "catalogo", "robots", "notfound"]

DEFAULT_PAGINATION = 5
PAGINATED_TEMPLATES = {"category": None, "tag": None}
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/page/{number}/", "{base_name}/page/{number}/index.html"),
)
SUMMARY_MAX_PARAGRAPHS = 1
SUMMARY_MAX_LENGTH = None

FEED_ALL_ATOM = "feeds/all.atom.xml"
FEED_MAX_ITEMS = 20
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None

MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.tables": {},
        "markdown.extensions.fenced_code": {},
        "markdown.extensions.footnotes": {},
        "markdown.extensions.toc": {},
        "markdown.extensions.attr_list": {},
        "markdown.extensions.md_in_html": {},
        "markdown.extensions.sane_lists": {},
        "markdown.extensions.smarty": {},
    },
    "output_format": "html",
}
JINJA_ENVIRONMENT = {"trim_blocks": True, "lstrip_blocks": True, "autoescape": True}

PLUGINS = ["pelican.plugins.neighbors", "pelican.plugins.related_posts",
           "pelican.plugins.sitemap"]
RELATED_POSTS_MAX = 3
SITEMAP = {"format": "xml"}

MENUITEMS = (("Prodotti", "/prodotti/"), ("Blog", "/blog/"))
"""

TEMPLATES = {
    "base.html": """\
<!doctype html>
<html lang="{{ DEFAULT_LANG }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}{{ SITENAME }}{% endblock %}</title>
{% block meta %}
<meta name="description" content="{{ SITE_DESCRIPTION }}">
<link rel="canonical" href="{{ SITEURL }}/{{ url or '' }}">
<meta property="og:title" content="{{ SITENAME }}">
<meta property="og:type" content="website">
{% endblock %}
<link rel="alternate" type="application/atom+xml" href="{{ SITEURL }}/{{ FEED_ALL_ATOM }}">
<link rel="stylesheet" href="{{ SITEURL }}/theme/css/site.css">
</head>
<body>
<header><a href="{{ SITEURL }}/">{{ SITENAME }}</a>
<nav><ul>{% for title, link in MENUITEMS %}<li><a href="{{ link }}">{{ title }}</a></li>{% endfor %}\
</ul></nav>
</header>
<main>{% block content %}{% endblock %}</main>
<footer><p>{{ SITENAME }} · Via dei Vasai 14, 50056 Montelupo Fiorentino (FI) · P. IVA IT01234567890\
</p><p><a href="{{ SITEURL }}/{{ FEED_ALL_ATOM }}">Atom</a></p></footer>
</body>
</html>
""",
    "card.html": """\
<article class="card">
<h2><a href="{{ SITEURL }}/{{ article.url }}">{{ article.title }}</a></h2>
<p><time datetime="{{ article.date.isoformat() }}">{{ article.locale_date }}</time></p>
{{ article.summary|safe }}
<p><a href="{{ SITEURL }}/{{ article.url }}">Continua a leggere</a></p>
</article>
""",
    "pagination.html": """\
{% if articles_paginator.num_pages > 1 %}
<nav class="pagination">
{% if articles_page.has_previous() %}<a rel="prev" href="{{ SITEURL }}/{{ articles_previous_page.url }}">\
«</a>{% endif %}
Pagina {{ articles_page.number }} di {{ articles_paginator.num_pages }}
{% if articles_page.has_next() %}<a rel="next" href="{{ SITEURL }}/{{ articles_next_page.url }}">»</a>\
{% endif %}
</nav>
{% endif %}
""",
    "article.html": """\
{% extends "base.html" %}
{% block title %}{{ article.title }} · {{ SITENAME }}{% endblock %}
{% block meta %}
<meta name="description" content="{{ article.summary|striptags|truncate(200) }}">
<link rel="canonical" href="{{ SITEURL }}/{{ article.url }}">
<meta property="og:title" content="{{ article.title }}">
<meta property="og:url" content="{{ SITEURL }}/{{ article.url }}">
<meta property="og:type" content="article">
{% endblock %}
{% block content %}
<article>
<h1>{{ article.title }}</h1>
<p><time datetime="{{ article.date.isoformat() }}">{{ article.locale_date }}</time> · \
{{ ((article.content|striptags|wordcount) / 213)|round(0, "ceil")|int }} min</p>
{% if article.image %}<img src="{{ SITEURL }}{{ article.image }}" alt="{{ article.image_alt }}">{% endif %}
{{ article.content|safe }}
<ul class="tags">{% for tag in article.tags %}<li><a href="{{ SITEURL }}/{{ tag.url }}">{{ tag }}</a></li>\
{% endfor %}</ul>
<nav class="prevnext">{% if article.prev_article %}<a rel="prev" \
href="{{ SITEURL }}/{{ article.prev_article.url }}">{{ article.prev_article.title }}</a>{% endif %} \
{% if article.next_article %}<a rel="next" href="{{ SITEURL }}/{{ article.next_article.url }}">\
{{ article.next_article.title }}</a>{% endif %}</nav>
{% if article.related_posts %}<h2>Articoli correlati</h2><ul>{% for related in article.related_posts %}
<li><a href="{{ SITEURL }}/{{ related.url }}">{{ related.title }}</a></li>{% endfor %}</ul>{% endif %}
</article>
<script type="application/ld+json">{{ {"@context": "https://schema.org", "@type": "BlogPosting", \
"headline": article.title, "datePublished": article.date.isoformat(), \
"url": SITEURL + "/" + article.url}|tojson }}</script>
{% endblock %}
""",
    "category.html": """\
{% extends "base.html" %}
{% block title %}Blog · {{ SITENAME }}{% endblock %}
{% block content %}<h1>Blog</h1>
{% for article in articles_page.object_list %}{% include "card.html" %}{% endfor %}
{% include "pagination.html" %}
<p><a href="{{ SITEURL }}/{{ ARCHIVES_URL }}">Archivio</a></p>
{% endblock %}
""",
    "tag.html": """\
{% extends "base.html" %}
{% block title %}Tag: {{ tag }} · {{ SITENAME }}{% endblock %}
{% block content %}<h1>Tag: {{ tag }}</h1>
{% for article in articles_page.object_list %}{% include "card.html" %}{% endfor %}
{% include "pagination.html" %}
{% endblock %}
""",
    "tags.html": """\
{% extends "base.html" %}
{% block title %}Tag · {{ SITENAME }}{% endblock %}
{% block content %}<h1>Tag</h1>
<ul>{% for tag, articles in tags|sort %}<li><a href="{{ SITEURL }}/{{ tag.url }}">{{ tag }}</a> \
({{ articles|count }})</li>{% endfor %}</ul>
{% endblock %}
""",
    "archives.html": """\
{% extends "base.html" %}
{% block title %}Archivio · {{ SITENAME }}{% endblock %}
{% block content %}<h1>Archivio</h1>
<ul>{% for article in dates %}
<li><time datetime="{{ article.date.isoformat() }}">{{ article.locale_date }}</time> \
<a href="{{ SITEURL }}/{{ article.url }}">{{ article.title }}</a></li>{% endfor %}</ul>
{% endblock %}
""",
    "index.html": """\
{% extends "base.html" %}
{% block content %}<h1>{{ SITENAME }}</h1><p>{{ SITE_DESCRIPTION }}</p>
<section><h2>Dal blog</h2>{% for article in articles[:3] %}{% include "card.html" %}{% endfor %}\
</section>
<section><h2>In vetrina</h2><ul>{% for page in pages[:3] %}
<li><a href="{{ SITEURL }}/{{ page.url }}">{{ page.title }}</a></li>{% endfor %}</ul></section>
{% endblock %}
""",
    "page.html": """\
{% extends "base.html" %}
{% block title %}{{ page.title }} · {{ SITENAME }}{% endblock %}
{% block meta %}
<meta name="description" content="{{ page.summary|striptags|truncate(200) }}">
<link rel="canonical" href="{{ SITEURL }}/{{ page.url }}">
<meta property="og:title" content="{{ page.title }}">
<meta property="og:type" content="website">
{% endblock %}
{% block content %}
<article class="product">
<h1>{{ page.title }}</h1>
{% if page.image %}<img src="{{ SITEURL }}{{ page.image }}" alt="{{ page.image_alt }}">{% endif %}
<p class="price">{{ page.prezzo|replace(".", ",") }} €</p>
<p>Codice: {{ page.sku }} · {{ page.categoria }}</p>
{{ page.content|safe }}
<p><a href="mailto:info@bottega-aurora.example?subject={{ page.title|urlencode }}">Ordina per e-mail</a>\
</p>
</article>
<script type="application/ld+json">{{ {"@context": "https://schema.org", "@type": "Product", \
"name": page.title, "sku": page.sku, "offers": {"@type": "Offer", "price": page.prezzo, \
"priceCurrency": "EUR"}}|tojson }}</script>
{% endblock %}
""",
    "catalogo.html": """\
{% extends "base.html" %}
{% block title %}Prodotti · {{ SITENAME }}{% endblock %}
{% block content %}<h1>Prodotti</h1>
{% for categoria, prodotti in pages|groupby("categoria") %}<section><h2 id="{{ categoria|lower }}">\
{{ categoria }}</h2><ul>
{% for page in prodotti|sort(attribute="ordine") %}<li><a href="{{ SITEURL }}/{{ page.url }}">\
{{ page.title }}</a> {{ page.prezzo|replace(".", ",") }} €</li>{% endfor %}</ul></section>{% endfor %}
{% endblock %}
""",
    "robots.html": """\
User-agent: *
Sitemap: {{ SITEURL }}/sitemap.xml
""",
    "notfound.html": """\
{% extends "base.html" %}
{% block content %}<h1>Pagina non trovata</h1><p><a href="{{ SITEURL }}/">Torna alla home</a></p>\
{% endblock %}
""",
}

CSS = "body{font:1rem/1.5 system-ui,sans-serif;max-width:44rem;margin:auto;padding:1rem}\n"


def _meta(value: str) -> str:
    """A value on one line of Python-Markdown's ``meta`` front matter."""
    return " ".join(value.split())


def pelican_post(post: Post) -> str:
    lines = [f"Title: {_meta(post.title)}", f"Date: {post.date.isoformat()}", f"Slug: {post.slug}",
             f"Tags: {', '.join(post.tags)}"]
    if post.image:
        lines += [f"Image: {post.image}", f"Image_alt: {_meta('Copertina: ' + post.title)}"]
    return "\n".join([*lines, "", post.body])


def pelican_product(product: Product) -> str:
    # the order zero-padded: the catalogue sorts these strings
    lines = [f"Title: {_meta(product.title)}", f"Slug: {product.slug}",
             f"Prezzo: {product.price:.2f}", f"Sku: {product.sku}",
             f"Categoria: {product.category}", f"Ordine: {product.number:06d}"]
    if product.image:
        lines += [f"Image: {product.image}", f"Image_alt: {_meta(product.title)}"]
    return "\n".join([*lines, "", product.body])


def write_pelican_site(corpus: Corpus, site: Path) -> None:
    """The corpus as a Pelican site in the new folder ``site`` (build it with ``pelicanconf.py``)."""
    site.mkdir(parents=True)
    (site / "pelicanconf.py").write_text(CONFIG, encoding="utf-8")
    templates = site / "theme" / "templates"
    templates.mkdir(parents=True)
    for name, template in TEMPLATES.items():
        (templates / name).write_text(template, encoding="utf-8")
    (site / "theme" / "static" / "css").mkdir(parents=True)
    (site / "theme" / "static" / "css" / "site.css").write_text(CSS, encoding="utf-8")
    content = site / "content"
    write_images(corpus, content)
    blog, catalogue = content / "blog", content / "prodotti"
    blog.mkdir(parents=True)
    catalogue.mkdir()
    for post in corpus.posts:
        (blog / post.file_name).write_text(pelican_post(post), encoding="utf-8")
    for product in corpus.products:
        (catalogue / f"{product.slug}.md").write_text(pelican_product(product), encoding="utf-8")
