"""Posts' bodies kept in a file while a build runs (storefront.bodystore)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import jinja2
import pytest
from markupsafe import Markup

from storefront.bodystore import BodyStore, StoredBody

BODY = '<p>Il pane “vero” di Lucca 🍞 <a href="/blog/">blog</a> <img src="/assets/forno.jpg" alt="forno"></p>'


@pytest.fixture
def store(tmp_path: Path):
    made = BodyStore(tmp_path)
    yield made
    made.close()


def test_a_body_reads_back_as_the_markup_it_was(store: BodyStore, tmp_path: Path) -> None:
    bodies = [store.put(BODY), store.put(""), store.put("è" * (BodyStore.BATCH + 7)), store.put("x")]
    assert [body.markup() for body in bodies] == [BODY, "", "è" * (BodyStore.BATCH + 7), "x"]
    assert all(isinstance(body.markup(), Markup) for body in bodies)
    assert str(bodies[0]) == BODY and bodies[0].__html__() == BODY
    assert list(tmp_path.iterdir()) == []  # the file has no name: a killed build leaves nothing


def test_templates_show_a_stored_body_as_html_not_as_escaped_text(store: BodyStore) -> None:
    template = jinja2.Environment(autoescape=True).from_string("{{ body }}")
    assert template.render(body=store.put(BODY)) == BODY


def test_a_template_that_meets_a_stored_body_finds_the_markup_s_length_and_methods(
        store: BodyStore) -> None:
    """A theme that reaches a post another way than its page's view (walking structured data)
    gets the stored value: the filters and tests a theme uses on markup work on it."""
    template = jinja2.Environment(autoescape=True).from_string(
        "{{ body|length }}|{{ body|wordcount }}|{{ body|truncate(12, leeway=0) }}|"
        "{{ 'Lucca' in body }}|{{ body.striptags() }}|{{ body|striptags|upper }}")
    shown = template.render(body=store.put(BODY))
    assert shown == template.render(body=Markup(BODY))  # as the markup itself would
    assert shown.startswith(f"{len(BODY)}|19|<p>Il...|True|Il pane")
    assert store.put(BODY).below("/negozio/").startswith("<p>")
    with pytest.raises(AttributeError):
        store.put(BODY).no_such_method


def test_below_a_base_path_the_links_are_prefixed_as_they_are_read(store: BodyStore) -> None:
    body = store.put(BODY)
    shop = body.below("/negozio/")
    assert 'href="/negozio/blog/"' in str(shop) and 'src="/negozio/assets/forno.jpg"' in str(shop)
    assert str(body) == BODY  # the body itself is unchanged
    assert shop != body and shop == body.below("/negozio/")
    assert hash(shop) == hash(body.below("/negozio/"))


def test_equal_only_when_it_is_the_same_stored_body(store: BodyStore, tmp_path: Path) -> None:
    first = store.put(BODY)
    assert first == StoredBody(store, 0, len(BODY.encode()))
    assert first != store.put(BODY)  # the same text elsewhere: not known to be equal, so unequal
    other = BodyStore(tmp_path)
    try:
        assert first != other.put(BODY)
    finally:
        other.close()
    assert first != Markup(BODY)


def test_pickled_it_is_the_markup_it_stands_for(store: BodyStore) -> None:
    # sent to a worker that was not forked (it cannot read the file)
    loaded = pickle.loads(pickle.dumps(store.put(BODY).below("/negozio/")))
    assert type(loaded) is Markup and 'href="/negozio/blog/"' in loaded


def test_a_forked_worker_reads_a_body_put_just_before_the_fork(store: BodyStore) -> None:
    body = store.put(BODY)  # pending: fewer bytes than a batch, not in the file yet
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker
        try:
            os.write(writer, str(body).encode("utf-8"))
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        seen = pipe.read().decode("utf-8")
    os.waitpid(pid, 0)
    assert seen == BODY


def test_a_store_nobody_closed_closes_its_file_when_it_is_collected(tmp_path: Path) -> None:
    # a preview session that is dropped without close() (a test, a caller's mistake) must not
    # keep a descriptor open nor warn of an unclosed file
    import gc

    store = BodyStore(tmp_path)
    store.put(BODY)
    number = store._fd
    os.fstat(number)
    del store
    gc.collect()
    with pytest.raises(OSError):
        os.fstat(number)


def test_a_body_put_again_unchanged_takes_no_more_room(store: BodyStore) -> None:
    # a session that reads a post again (storefront.yaml changed) gives the body it held
    first = store.put(BODY)
    size = store.size
    again = store.put(BODY, first)
    assert again == first and store.size == size
    other = store.put(BODY.replace("pane", "vino"), first)  # the same length, other bytes
    assert other != first and "vino" in str(other) and store.size > size
    assert store.put(BODY, Markup(BODY)) != first  # not a stored body: stored anew


def test_a_body_read_after_its_store_closed_fails_and_reads_no_other_file(tmp_path: Path) -> None:
    store = BodyStore(tmp_path)
    body = store.put(BODY)
    store.flush()
    number = store._fd
    store.close()
    other = tmp_path / "other.txt"
    other.write_bytes(b"x" * 4096)
    with other.open("rb") as handle:
        os.dup2(handle.fileno(), number)  # another file opened since took the number
        try:
            with pytest.raises(OSError):
                str(body)
        finally:
            os.close(number)
