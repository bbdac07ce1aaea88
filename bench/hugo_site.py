"""The benchmark corpus as a Hugo site, with small layouts written here (no theme download).

A fair peer of the storefront build: the same posts and products with the same URLs, a home page
(latest posts, featured products), post pages (date, reading time, tags, cover image, previous/
next, 3 related posts by shared tags, JSON-LD), the blog listing and tag pages paginated by 5
like the example shop, a tag index, the catalogue grouped by category, product pages (price,
SKU, image, JSON-LD), one RSS feed, a sitemap, robots.txt and a 404 page. The Markdown is Hugo's
Goldmark with its typographer (typographic quotes) and heading ids, and raw HTML kept, as
storefront does.
"""

from __future__ import annotations

from pathlib import Path

from corpus import Corpus, Post, Product, quoted, write_images

CONFIG = """\
baseURL = "https://www.bottega-aurora.example/"
title = "Bottega Ceramica Aurora"
languageCode = "it"
defaultContentLanguage = "it"
timeZone = "Europe/Rome"
paginate = 5
enableRobotsTXT = true
disableKinds = []

[params]
description = "Ceramiche fatte a mano a Montelupo Fiorentino."

[permalinks]
blog = "/blog/:year/:month/:slug/"
prodotti = "/prodotti/:slug/"
tags = "/tag/:slug/"

[taxonomies]
tag = "tags"

[outputs]
home = ["HTML", "RSS"]
section = ["HTML"]
taxonomy = ["HTML"]
term = ["HTML"]

[services.rss]
limit = 20

[markup.goldmark.renderer]
unsafe = true

[[menu.main]]
name = "Prodotti"
url = "/prodotti/"
weight = 1
[[menu.main]]
name = "Blog"
url = "/blog/"
weight = 2
"""

LAYOUTS = {
    "_default/baseof.html": """\
<!doctype html>
<html lang="{{ site.LanguageCode }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ if not .IsHome }}{{ .Title }} · {{ end }}{{ site.Title }}</title>
<meta name="description" content="{{ with .Description }}{{ . }}{{ else }}{{ .Summary | plainify \
| truncate 200 }}{{ end }}">
<link rel="canonical" href="{{ .Permalink }}">
<meta property="og:title" content="{{ .Title }}">
<meta property="og:url" content="{{ .Permalink }}">
<meta property="og:type" content="{{ if .IsPage }}article{{ else }}website{{ end }}">
<link rel="alternate" type="application/rss+xml" href="{{ "index.xml" | absURL }}">
<link rel="stylesheet" href="{{ "css/site.css" | relURL }}">
</head>
<body>
<header><a href="{{ "/" | relURL }}">{{ site.Title }}</a>
<nav><ul>{{ range site.Menus.main }}<li><a href="{{ .URL }}">{{ .Name }}</a></li>{{ end }}</ul></nav>
</header>
<main>{{ block "main" . }}{{ end }}</main>
<footer><p>{{ site.Title }} · Via dei Vasai 14, 50056 Montelupo Fiorentino (FI) · P. IVA IT01234567890\
</p><p><a href="{{ "index.xml" | absURL }}">RSS</a></p></footer>
</body>
</html>
""",
    "partials/card.html": """\
<article class="card">
<h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2>
<p><time datetime="{{ .Date.Format "2006-01-02T15:04:05-07:00" }}">{{ .Date.Format "2 January 2006" }}\
</time></p>
{{ .Summary }}
{{ if .Truncated }}<p><a href="{{ .RelPermalink }}">Continua a leggere</a></p>{{ end }}
</article>
""",
    "_default/single.html": """\
{{ define "main" }}<article><h1>{{ .Title }}</h1>{{ .Content }}</article>{{ end }}
""",
    "blog/single.html": """\
{{ define "main" }}
<article>
<h1>{{ .Title }}</h1>
<p><time datetime="{{ .Date.Format "2006-01-02T15:04:05-07:00" }}">{{ .Date.Format "2 January 2006" }}\
</time> · {{ .ReadingTime }} min</p>
{{ with .Params.image }}<img src="{{ . | relURL }}" alt="{{ $.Params.image_alt }}">{{ end }}
{{ .Content }}
<ul class="tags">{{ range .GetTerms "tags" }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a>\
</li>{{ end }}</ul>
<nav class="prevnext">{{ with .NextInSection }}<a rel="prev" href="{{ .RelPermalink }}">{{ .Title }}\
</a>{{ end }} {{ with .PrevInSection }}<a rel="next" href="{{ .RelPermalink }}">{{ .Title }}</a>\
{{ end }}</nav>
{{ with first 3 (site.RegularPages.Related .) }}<h2>Articoli correlati</h2><ul>{{ range . }}
<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>{{ end }}
</article>
<script type="application/ld+json">{{ dict "@context" "https://schema.org" "@type" "BlogPosting" \
"headline" .Title "datePublished" (.Date.Format "2006-01-02T15:04:05-07:00") "url" .Permalink \
| jsonify | safeJS }}</script>
{{ end }}
""",
    "_default/list.html": """\
{{ define "main" }}<h1>{{ .Title }}</h1>
{{ range .Paginator.Pages }}{{ partial "card.html" . }}{{ end }}
{{ template "_internal/pagination.html" . }}
{{ end }}
""",
    "_default/term.html": """\
{{ define "main" }}<h1>Tag: {{ .Title }}</h1>
{{ range .Paginator.Pages }}{{ partial "card.html" . }}{{ end }}
{{ template "_internal/pagination.html" . }}
{{ end }}
""",
    "_default/taxonomy.html": """\
{{ define "main" }}<h1>Tag</h1>
<ul>{{ range .Data.Terms.Alphabetical }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.Title }}</a>\
 ({{ .Count }})</li>{{ end }}</ul>
{{ end }}
""",
    "prodotti/list.html": """\
{{ define "main" }}<h1>{{ .Title }}</h1>
{{ range .Pages.GroupByParam "category" }}<section><h2 id="{{ .Key | urlize }}">{{ .Key }}</h2><ul>
{{ range .Pages.ByParam "order" }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> \
{{ lang.FormatCurrency 2 "EUR" .Params.price }}</li>{{ end }}</ul></section>{{ end }}
{{ end }}
""",
    "prodotti/single.html": """\
{{ define "main" }}
<article class="product">
<h1>{{ .Title }}</h1>
{{ range .Params.images }}<img src="{{ . | relURL }}" alt="{{ $.Params.image_alt }}">{{ end }}
<p class="price">{{ lang.FormatCurrency 2 "EUR" .Params.price }}</p>
<p>Codice: {{ .Params.sku }} · {{ .Params.category }}</p>
{{ .Content }}
<p><a href="mailto:info@bottega-aurora.example?subject={{ .Title | urlquery }}">Ordina per e-mail</a></p>
</article>
<script type="application/ld+json">{{ dict "@context" "https://schema.org" "@type" "Product" "name" \
.Title "sku" .Params.sku "offers" (dict "@type" "Offer" "price" .Params.price "priceCurrency" "EUR") \
| jsonify | safeJS }}</script>
{{ end }}
""",
    "index.html": """\
{{ define "main" }}<h1>{{ site.Title }}</h1><p>{{ site.Params.description }}</p>
<section><h2>Dal blog</h2>{{ range first 3 (where site.RegularPages "Section" "blog") }}\
{{ partial "card.html" . }}{{ end }}</section>
<section><h2>In vetrina</h2><ul>{{ range first 3 (where site.RegularPages "Section" "prodotti") }}
<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul></section>
{{ end }}
""",
    "404.html": """\
{{ define "main" }}<h1>Pagina non trovata</h1><p><a href="{{ "/" | relURL }}">Torna alla home</a></p>\
{{ end }}
""",
}

CSS = "body{font:1rem/1.5 system-ui,sans-serif;max-width:44rem;margin:auto;padding:1rem}\n"


def hugo_post(post: Post) -> str:
    lines = ["---", f"title: {quoted(post.title)}", f"date: {post.date.isoformat()}",
             f"slug: {post.slug}", f"tags: [{', '.join(post.tags)}]"]
    if post.image:
        lines += [f"image: {post.image}", f"image_alt: {quoted('Copertina: ' + post.title)}"]
    return "\n".join([*lines, "---", "", post.body])


def hugo_product(product: Product) -> str:
    lines = ["---", f"title: {quoted(product.title)}", f"slug: {product.slug}",
             f"price: {product.price:.2f}", f"sku: {product.sku}",
             f"category: {product.category}", f"order: {product.number}"]
    if product.image:
        lines += ["images:", f"  - {product.image}", f"image_alt: {quoted(product.title)}"]
    return "\n".join([*lines, "---", "", product.body])


def write_hugo_site(corpus: Corpus, site: Path) -> None:
    """The corpus as a Hugo site in the new folder ``site``."""
    site.mkdir(parents=True)
    (site / "config.toml").write_text(CONFIG, encoding="utf-8")
    for name, layout in LAYOUTS.items():
        target = site / "layouts" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(layout, encoding="utf-8")
    (site / "static" / "css").mkdir(parents=True)
    (site / "static" / "css" / "site.css").write_text(CSS, encoding="utf-8")
    write_images(corpus, site / "static")
    blog, catalogue = site / "content" / "blog", site / "content" / "prodotti"
    blog.mkdir(parents=True)
    catalogue.mkdir()
    (blog / "_index.md").write_text("---\ntitle: Blog\n---\n", encoding="utf-8")
    (catalogue / "_index.md").write_text("---\ntitle: Prodotti\n---\n", encoding="utf-8")
    for post in corpus.posts:
        (blog / post.file_name).write_text(hugo_post(post), encoding="utf-8")
    for product in corpus.products:
        (catalogue / f"{product.slug}.md").write_text(hugo_product(product), encoding="utf-8")
