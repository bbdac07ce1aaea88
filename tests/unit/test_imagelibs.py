"""What a build knows of Pillow without importing it (storefront.imagelibs): the stamp of the
installed files, and the versions kept in the cache under it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from storefront.cache import BuildCache
from storefront.fingerprints import code_fingerprint
from storefront.imagelibs import MEMO, image_libraries, installed_stamp
from storefront.imaging import library_versions, writable_formats

FAKE = (("fakepil", None, "fakepil.libs"), ("fakeheif", "_fakeheif", "fakeheif.libs"))


def _install(root: Path) -> None:
    for folder, files in {"fakepil": ["__init__.py", "_imaging.so"], "fakepil.libs": ["libjpeg.so"],
                          "fakeheif": ["__init__.py"], "fakeheif.libs": ["libheif.so"]}.items():
        (root / folder).mkdir(parents=True)
        for name in files:
            (root / folder / name).write_text(f"{folder}/{name}")
    (root / "_fakeheif.py").write_text("")


def test_the_stamp_changes_with_any_installed_file(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _install(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    first = installed_stamp(FAKE)
    assert first is not None
    assert installed_stamp(FAKE) == first  # stable, and nothing was imported
    assert "fakepil" not in sys.modules and "_fakeheif" not in sys.modules
    seen = {first}
    # an upgrade: a bundled codec, the compiled module, a module of the package, a new file
    for path, text in [("fakepil.libs/libjpeg.so", "libjpeg 9"), ("_fakeheif.py", "# 2"),
                       ("fakepil/_imaging.so", "other build"), ("fakeheif.libs/libde265.so", "x")]:
        (tmp_path / path).write_text(text)
        stamp = installed_stamp(FAKE)
        assert stamp is not None and stamp not in seen, path
        seen.add(stamp)


def test_a_pillow_without_bundled_codecs_gets_no_stamp(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # a system package's Pillow uses the system's codecs, which are upgraded apart from it
    _install(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "fakepil.libs" / "libjpeg.so").unlink()
    (tmp_path / "fakepil.libs").rmdir()
    assert installed_stamp(FAKE) is None
    assert installed_stamp((("no_such_package_here", None, "x.libs"),)) is None


def test_the_versions_are_kept_under_the_stamp_and_asked_again_when_it_or_the_memo_differ(
        tmp_path: Path) -> None:
    stamp = installed_stamp()
    if stamp is None:
        pytest.fail("this machine's Pillow is not a wheel with bundled codecs: the memo is unused")
    cache = BuildCache(tmp_path / "cache", code_fingerprint())
    try:
        real = image_libraries(cache)  # asked, and kept
        assert real.versions == library_versions()
        assert real.formats == writable_formats(("avif", "webp"))
        kept = json.loads(cache.memo(MEMO) or "")
        assert kept == {"stamp": stamp, "versions": real.versions, "formats": list(real.formats)}
        # what is kept is what a later build uses, without asking Pillow
        cache.save_memo(MEMO, json.dumps({**kept, "versions": "pillow=kept"}))
        assert image_libraries(cache).versions == "pillow=kept"
        for damaged in [{**kept, "versions": "pillow=kept", "stamp": "another install"},
                        {**kept, "versions": "pillow=kept", "formats": ["gif"]},
                        {**kept, "versions": 3}, {"stamp": stamp}]:
            cache.save_memo(MEMO, json.dumps(damaged))
            assert image_libraries(cache) == real, damaged
        cache.save_memo(MEMO, "not json")
        assert image_libraries(cache) == real
    finally:
        cache.close()


def test_a_build_whose_photos_are_cached_does_not_import_pillow(copy_site, tmp_path: Path) -> None:
    site = copy_site("basic")
    script = textwrap.dedent(f"""
        import sys
        from storefront.cli import main
        code = main(["--root", {str(site)!r}, "build", "--output", {str(tmp_path / "out")!r}])
        print(code, "PIL" in sys.modules, "pillow_heif" in sys.modules)
    """)
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1760000000"}

    def build() -> str:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              env=env, check=True)
        return done.stdout.strip().splitlines()[-1]

    assert build() == "0 True True"  # the first build makes the photos' copies
    post = next((site / "content" / "posts").glob("*.md"))
    post.write_text(post.read_text(encoding="utf-8") + "\nUna riga in più.\n", encoding="utf-8")
    assert build() == "0 False False"
