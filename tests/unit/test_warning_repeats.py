"""storefront.errors.limit_repeats: a warning many files have is shown a few times, then counted."""

from __future__ import annotations

from storefront.errors import Repeated, error_at, limit_repeats


def test_a_warning_is_shown_up_to_the_limit_and_the_rest_counted_with_its_first_instance() -> None:
    photo = [error_at(f"content/products/p{n}.md", 1, "needs a photo", "add images") for n in range(4)]
    other = error_at("content/posts/a.md", 3, "a link has no text")
    shown, repeated = limit_repeats([photo[0], other, *photo[1:]], shown=2)
    assert shown == [photo[0], other, photo[1]]
    assert repeated == [Repeated(photo[0], 2)]


def test_as_many_as_the_limit_are_all_shown_and_a_different_hint_is_another_warning() -> None:
    same = [error_at(f"p{n}.md", 1, "needs a photo", "add images") for n in range(2)]
    hinted = error_at("p9.md", 1, "needs a photo", "a JPEG, not an SVG")
    shown, repeated = limit_repeats([*same, hinted], shown=2)
    assert shown == [*same, hinted]
    assert repeated == []
