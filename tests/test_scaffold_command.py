"""``storefront init`` and ``storefront new`` as an owner meets them."""

from __future__ import annotations

import shlex


def test_init_tells_the_next_command_so_that_it_can_be_pasted(run_cli, tmp_path,
                                                               monkeypatch) -> None:
    """``init "negozio di Anna"`` said "next: cd negozio di Anna && storefront build": pasted
    into a terminal, cd got three words (bash: too many arguments)."""
    monkeypatch.chdir(tmp_path)
    result = run_cli("init", "negozio di Annà")
    assert result.code == 0, result.err
    assert "cd 'negozio di Annà' && storefront build" in result.out
    assert shlex.split(result.out.split("next: ")[1].split("&&")[0])[1] == "negozio di Annà"


def test_new_with_a_very_long_title_makes_a_short_file_name(run_cli, copy_site) -> None:
    """A 300-character title ended with "error: File name too long" and no file: the name is
    cut at a word, the whole title kept in the front matter, on one line."""
    site = copy_site("basic")
    title = " ".join(["Perché il pane di casa nostra è buono"] * 7)  # 265 characters
    result = run_cli("--root", site, "new", "page", title)
    assert result.code == 0, result.err
    created = next(site.glob("content/pages/perche-il-pane*.md"))
    assert len(created.name) <= 83 and not created.stem.endswith("-")
    assert f"title: {title}\n" in created.read_text(encoding="utf-8")  # one line to edit
    built = run_cli("--root", site, "build", "--drafts")
    assert built.code == 0, built.err


def test_new_with_a_title_longer_than_a_build_takes_is_refused_and_makes_no_file(
        run_cli, copy_site) -> None:
    """A title the build would refuse (over 300 characters) is refused by new, not written
    into a file the next build stops at."""
    site = copy_site("basic")
    before = sorted(site.rglob("*"))
    title = " ".join(["Perché il pane di casa nostra è buono"] * 8)  # 303 characters
    result = run_cli("--root", site, "new", "page", title)
    assert result.code == 1
    assert "the title is 303 characters long; storefront allows at most 300" in result.err
    assert sorted(site.rglob("*")) == before
