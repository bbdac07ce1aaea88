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

