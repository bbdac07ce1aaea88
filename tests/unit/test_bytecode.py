"""The signed store of compiled templates (storefront.bytecode): what it loads, what it refuses."""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
import pytest

from storefront.bytecode import SignedBytecodeCache, signed_cache, signing_key, state_folder

KEY = b"k" * 32


@pytest.fixture(autouse=True)
def _fresh_keys() -> None:
    signing_key.cache_clear()


def environment(templates: Path, kept: SignedBytecodeCache | None) -> tuple[jinja2.Environment,
                                                                             list[str]]:
    """An environment over ``templates`` whose compilations are listed."""
    compiled: list[str] = []

    class Watched(jinja2.Environment):
        def compile(self, source, name=None, filename=None, raw=False, defer_init=False):  # type: ignore[no-untyped-def, override]
            compiled.append(name)
            return super().compile(source, name, filename, raw, defer_init)

    return Watched(loader=jinja2.FileSystemLoader(str(templates)), bytecode_cache=kept,
                   autoescape=True), compiled


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "page.html").write_text("Ciao {{ name }}!", encoding="utf-8")
    return folder


def test_a_template_compiled_once_is_loaded_by_the_next_environment(templates, tmp_path) -> None:
    store = tmp_path / "compiled"
    env, compiled = environment(templates, SignedBytecodeCache(store, KEY, "code-1"))
    assert env.get_template("page.html").render(name="Ada") == "Ciao Ada!"
    assert compiled == ["page.html"] and len(list(store.iterdir())) == 1
    env, compiled = environment(templates, SignedBytecodeCache(store, KEY, "code-1"))
    assert env.get_template("page.html").render(name="Bea") == "Ciao Bea!"
    assert compiled == []


@pytest.mark.parametrize("damage", ["another key", "another code", "edited source", "truncated",
                                    "a byte changed", "empty", "not a file"])
def test_a_stored_template_that_is_not_this_users_and_this_sources_is_compiled_again(
        templates, tmp_path, damage) -> None:
    store = tmp_path / "compiled"
    environment(templates, SignedBytecodeCache(store, KEY, "code-1"))[0].get_template("page.html")
    [stored] = store.iterdir()
    data = stored.read_bytes()
    key, code = KEY, "code-1"
    if damage == "another key":
        key = b"o" * 32
    elif damage == "another code":
        code = "code-2"
    elif damage == "edited source":
        (templates / "page.html").write_text("Salve {{ name }}!", encoding="utf-8")
    elif damage == "truncated":
        stored.write_bytes(data[:len(data) // 2])
    elif damage == "a byte changed":
        stored.write_bytes(data[:-3] + bytes([data[-3] ^ 1]) + data[-2:])
    elif damage == "empty":
        stored.write_bytes(b"")
    else:
        stored.unlink()
        stored.mkdir()
    env, compiled = environment(templates, SignedBytecodeCache(store, key, code))
    expected = "Salve Ada!" if damage == "edited source" else "Ciao Ada!"
    assert env.get_template("page.html").render(name="Ada") == expected
    assert compiled == ["page.html"]


def test_a_store_that_cannot_be_written_still_renders(templates, tmp_path) -> None:
    store = tmp_path / "compiled"
    store.write_text("a file where the folder would be", encoding="utf-8")
    env, compiled = environment(templates, SignedBytecodeCache(store, KEY, "code-1"))
    assert env.get_template("page.html").render(name="Ada") == "Ciao Ada!"
    assert compiled == ["page.html"]


def test_the_key_is_made_once_for_the_user_alone(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    folder = state_folder()
    assert folder == tmp_path / "state" / "storefront"
    key = signing_key(folder)
    assert key is not None and len(key) == 32
    assert (folder / "template-key").stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700
    assert [p.name for p in folder.iterdir()] == ["template-key"]  # no temporary file left
    signing_key.cache_clear()
    assert signing_key(folder) == key  # read again, not made again
    assert signed_cache(tmp_path / "compiled", "code") is not None


def test_the_state_folder_follows_the_home_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert state_folder() == tmp_path / ".local" / "state" / "storefront"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/ignored")  # the XDG rules: absolute only
    assert state_folder() == tmp_path / ".local" / "state" / "storefront"
    monkeypatch.delenv("HOME")
    monkeypatch.delenv("XDG_STATE_HOME")
    assert state_folder() is None
    assert signed_cache(tmp_path / "compiled", "code") is None  # templates compiled every time


@pytest.mark.parametrize("problem", ["readable by others", "folder writable by others",
                                     "a link", "short", "cannot be made"])
def test_a_key_that_is_not_the_users_alone_is_not_used(tmp_path, monkeypatch, problem) -> None:
    folder = tmp_path / "state" / "storefront"
    folder.mkdir(parents=True, mode=0o700)
    key = folder / "template-key"
    key.write_bytes(KEY)
    key.chmod(0o600)
    assert signing_key(folder) == KEY
    signing_key.cache_clear()
    if problem == "readable by others":
        key.chmod(0o644)
    elif problem == "folder writable by others":
        folder.chmod(0o777)
    elif problem == "a link":  # to a key that would pass every other check
        (tmp_path / "elsewhere").write_bytes(KEY)
        (tmp_path / "elsewhere").chmod(0o600)
        key.unlink()
        key.symlink_to(tmp_path / "elsewhere")
    elif problem == "short":
        key.write_bytes(KEY[:16])
    else:
        key.unlink()
        folder.chmod(0o500)
        if os.access(folder, os.W_OK):
            folder.chmod(0o700)
            folder.rmdir()
            folder.write_text("a file where the folder would be", encoding="utf-8")
    assert signing_key(folder) is None


@pytest.mark.parametrize("planted", ["a FIFO", "a link to a device", "a link to a signed file",
                                     "too big"])
def test_what_is_not_a_regular_file_of_ours_is_passed_over_never_waited_on(
        templates, tmp_path, planted) -> None:
    """Whoever can write the cache folder must not be able to hang or exhaust a build: a FIFO
    would block a read for ever, a link to /dev/zero never end."""
    store = tmp_path / "compiled"
    environment(templates, SignedBytecodeCache(store, KEY, "code-1"))[0].get_template("page.html")
    [stored] = store.iterdir()
    if planted == "a FIFO":
        stored.unlink()
        os.mkfifo(stored)
    elif planted == "a link to a device":
        stored.unlink()
        stored.symlink_to("/dev/zero")
    elif planted == "a link to a signed file":
        stored.rename(tmp_path / "elsewhere")
        stored.symlink_to(tmp_path / "elsewhere")
    else:
        with stored.open("ab") as handle:
            handle.truncate(9 << 20)
    env, compiled = environment(templates, SignedBytecodeCache(store, KEY, "code-1"))
    assert env.get_template("page.html").render(name="Ada") == "Ciao Ada!"
    assert compiled == ["page.html"]


def test_a_signed_file_moved_to_another_templates_place_is_not_used(templates, tmp_path) -> None:
    """The signature covers which template a file is for: two templates with the same source
    (a child theme's copy of its parent's) compile to code that names each its own file."""
    (templates / "copy.html").write_text("Ciao {{ name }}!", encoding="utf-8")
    store = tmp_path / "compiled"
    env, _ = environment(templates, SignedBytecodeCache(store, KEY, "code-1"))
    env.get_template("page.html")
    [page_file] = store.iterdir()
    env.get_template("copy.html")
    [copy_file] = [p for p in store.iterdir() if p != page_file]
    copy_file.write_bytes(page_file.read_bytes())
    env, compiled = environment(templates, SignedBytecodeCache(store, KEY, "code-1"))
    assert env.get_template("copy.html").render(name="Ada") == "Ciao Ada!"
    assert compiled == ["copy.html"]


_MAKE_KEY = """
import sys
from pathlib import Path
from storefront.bytecode import signing_key
sys.stdout.write(signing_key(Path(sys.argv[1])).hex())
"""


def test_processes_that_make_the_key_at_once_all_get_the_same_one(tmp_path) -> None:
    import subprocess
    import sys

    folder = tmp_path / "state" / "storefront"
    makers = [subprocess.Popen([sys.executable, "-c", _MAKE_KEY, str(folder)],
                               stdout=subprocess.PIPE, text=True) for _ in range(8)]
    keys = {maker.communicate(timeout=60)[0] for maker in makers}
    assert len(keys) == 1 and len(keys.pop()) == 64
    assert [p.name for p in folder.iterdir()] == ["template-key"]
