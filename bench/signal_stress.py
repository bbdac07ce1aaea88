"""Send SIGTERM or SIGINT to a real ``storefront serve`` or ``storefront build`` at random moments
and check that it stops cleanly: the process and every process it started (render workers, the
fork server, multiprocessing's resource tracker) gone within a couple of seconds, the port free,
no temporary files (``.tmp-PID-N``, the writer's mark, staging folders, the workers' state folder)
left behind, the exit code 128 + the signal's number (143 for SIGTERM, 130 for SIGINT), and, for a
build, the output folder holding one whole build (the previous one, or the new one when the build
ended first).

Run on demand (minutes), not by the test suite::

    python bench/signal_stress.py serve --tries 40
    python bench/signal_stress.py build --tries 40 --signal INT

It prints one line per try and a summary; exit code 1 when any try failed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EPOCH = str(int(time.time()))  # a fixed build time: two builds of one site are equal
GRACE = 3.0  # seconds a stopped process (and its children) may take to be gone
LEFTOVER = re.compile(r"\.tmp-[0-9]+-[0-9]+.*|\.storefront-writing|.*\.staging-.*")


@dataclass
class Outcome:
    moment: str
    delay: float
    code: int | None = None
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def session_processes(sid: int) -> list[int]:
    """The processes of session ``sid`` (the stopped program started it with setsid), zombies
    left out."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:
            found.append(int(entry))
    return found


def leftovers(*folders: Path) -> list[str]:
    found = []
    for folder in folders:
        for parent, names, files in os.walk(folder):
            for name in [*names, *files]:
                if LEFTOVER.fullmatch(name):
                    found.append(os.path.relpath(os.path.join(parent, name), folder))
    return sorted(found)


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the preview binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tree(root: Path) -> dict[str, str]:
    if not root.is_dir():
        return {}
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file() and p.name not in (".storefront-manifest.json", ".storefront-serve.lock")}


def make_site(folder: Path, posts: int) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name in ("content", "themes"):
        shutil.copytree(REPO / name, folder / name)
    shutil.copy(REPO / "storefront.yaml", folder / "storefront.yaml")
    for n in range(posts):
        (folder / f"content/posts/2024-04-{n % 28 + 1:02d}-extra-{n}.md").write_text(
            f"---\ntitle: Extra {n}\ntags: [pane, t{n % 5}]\n---\n\nTesto {n}.\n", encoding="utf-8")
    return folder


class Program:
    """One ``storefront`` process in its own session, its output read as it comes."""

    def __init__(self, site: Path, tmp: Path, *args: str) -> None:
        env = {**os.environ, "TMPDIR": str(tmp), "PYTHONUNBUFFERED": "1",
               "SOURCE_DATE_EPOCH": EPOCH}
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "storefront", "--root", str(site), *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
            start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def said(self, start: str) -> bool:
        return any(line.startswith(start) for line in self.lines)

    def stop(self, signum: int, group: bool, outcome: Outcome) -> None:
        """Send the signal (to the process, or to its whole group as a terminal's Ctrl-C does)
        and check that everything ends in time."""
        pid = self.process.pid
        sent = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(pid, signum)
            else:
                os.kill(pid, signum)
        try:
            outcome.code = self.process.wait(GRACE)
        except subprocess.TimeoutExpired:
            outcome.problems.append(f"still running {GRACE} s after the signal")
        # 128 + the signal's number, as a shell reports a command that signal ended (143 for
        # SIGTERM, 130 for Ctrl-C); -signum: ended by it before its handler was set (as the
        # program starts); 0: it had ended its work first
        if outcome.code not in (None, 0, 128 + signum, -signum):
            outcome.problems.append(f"exit code {outcome.code}, not {128 + signum} "
                                    f"(128 + {signal.Signals(signum).name})")
        while session_processes(pid) and time.monotonic() - sent < GRACE:
            time.sleep(0.02)
        outcome.seconds = time.monotonic() - sent
        left = session_processes(pid)
        if left:
            names = []
            for child in left:
                with contextlib.suppress(OSError):
                    names.append(Path(f"/proc/{child}/cmdline").read_text().replace("\0", " ")[:80])
            outcome.problems.append(f"processes left {GRACE} s after the signal: {names}")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            for child in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGKILL)
            self.process.wait()
        self.reader.join(5)
        text = "\n".join(self.lines)
        if "Traceback" in text or "leaked" in text or "internal error" in text:
            outcome.problems.append("said: " + text[-1500:])


def get(port: int, path: str, timeout: float = 10) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().read()
    finally:
        connection.close()


def wait_for(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return False


def serve_try(base: Path, moment: str, signum: int, group: bool, cold: bool,
              rng: random.Random) -> Outcome:
    site = base / "site"
    if cold or not site.exists():
        make_site(site, 60)
    tmp = base / "tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    port = free_port()
    before = set(leftovers(site))
    program = Program(site, tmp, "serve", "--port", str(port))
    outcome = Outcome(moment + (" cold" if cold else " warm"), 0.0)
    held: list[socket.socket] = []
    try:
        if moment == "starting":
            outcome.delay = rng.uniform(0, 0.8)
            time.sleep(outcome.delay)
        elif moment == "first build":
            lock = site / ".storefront-preview/.storefront-serve.lock"

            def announced() -> bool:  # the port is bound: the first build comes next
                with contextlib.suppress(OSError):
                    return f" {program.process.pid}" in lock.read_text()
                return False

            if not wait_for(announced, 30):
                outcome.problems.append("the preview never took its lock")
            outcome.delay = rng.uniform(0, 4.0 if cold else 0.6)
            time.sleep(outcome.delay)
            if program.said("serving the preview"):
                outcome.moment += " (after it)"
        else:
            if not wait_for(lambda: program.said("serving the preview"), 60):
                outcome.problems.append("never served: " + "\n".join(program.lines[-5:]))
            page = get(port, "/")
            if moment == "rebuild":
                what = rng.choice(["post", "config", "css"])
                outcome.moment += f" ({what})"
                if what == "post":
                    post = site / "content/posts/2024-04-01-extra-0.md"
                    post.write_text(post.read_text() + f"\nAncora {rng.random()}.\n")
                elif what == "config":
                    config = site / "storefront.yaml"
                    text = config.read_text()
                    config.write_text(re.sub(r"^title: .*$", f"title: Bottega {rng.random()}",
                                             text, count=1, flags=re.M))
                else:
                    for css in site.glob("themes/*/static/**/*.css"):
                        css.write_text(css.read_text() + f"\n/* {rng.random()} */\n")
                        break
                outcome.delay = rng.uniform(0, 0.8)
                time.sleep(outcome.delay)
            elif moment == "event stream":
                found = re.search(rb'var epoch = (\d+), server = "(\w+)"', page)
                assert found is not None
                epoch, server = found.group(1).decode(), found.group(2).decode()
                for _ in range(rng.randint(1, 3)):
                    held.append(socket.create_connection(("127.0.0.1", port)))
                    held[-1].sendall(f"GET /__storefront/wait?since={epoch}&server={server} "
                                     f"HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
                outcome.delay = rng.uniform(0, 1.0)
                time.sleep(outcome.delay)
            else:  # idle
                outcome.delay = rng.uniform(0, 2.5)
                time.sleep(outcome.delay)
    except Exception as exc:
        outcome.problems.append(f"the try itself failed: {exc!r}")
    program.stop(signum, group, outcome)
    for connection in held:
        connection.close()
    if not wait_for(lambda: port_free(port), 1.0):
        outcome.problems.append(f"port {port} still taken")
    left = [name for name in leftovers(site) if name not in before]
    left += [f"TMPDIR/{p.name}" for p in tmp.iterdir()]
    if left:
        outcome.problems.append(f"left behind: {left[:10]}")
    preview = site / ".storefront-preview"
    manifest = preview / ".storefront-manifest.json"
    if manifest.exists():  # what the manifest says of a file holds (no half-written file)
        files = json.loads(manifest.read_text())["files"]
        wrong = [name for name, (sha, *_) in files.items()
                 if sha and (preview / name).is_file()
                 and hashlib.sha256((preview / name).read_bytes()).hexdigest() != sha]
        if wrong:
            outcome.problems.append(f"files unlike the manifest: {wrong[:5]}")
    return outcome


def build_try(base: Path, state: dict[str, object], signum: int, group: bool,
              rng: random.Random) -> Outcome:
    """Flip the site's title between two values and build; interrupted, the output must be the
    previous build's whole, or (when the build ended first) the new one's."""
    site = base / "site"
    trees: dict[str, dict[str, str]] = state["trees"]  # type: ignore[assignment]
    current: str = state["current"]  # type: ignore[assignment]
    other = "B" if current == "A" else "A"
    config = site / "storefront.yaml"
    config.write_text(re.sub(r"^title: .*$", f"title: Bottega {other}", config.read_text(),
                             count=1, flags=re.M))
    tmp = base / "tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    outcome = Outcome("build", rng.uniform(0, float(state["seconds"])))  # type: ignore[arg-type]
    before = set(leftovers(site))
    program = Program(site, tmp, "build", "--jobs", "2")
    time.sleep(outcome.delay)
    program.stop(signum, group, outcome)
    now = tree(site / "output")
    if now == trees[current]:
        outcome.moment += " (output as before)"
    elif now == trees[other]:
        outcome.moment += " (output the new build)"
        state["current"] = other
    else:
        changed = sorted(k for k in set(now) | set(trees[current])
                         if now.get(k) != trees[current].get(k))
        outcome.problems.append(f"output is neither build: {len(changed)} files differ from "
                                f"before, e.g. {changed[:3]}")
        # start the next try from a whole build
        subprocess.run([sys.executable, "-m", "storefront", "--root", str(site), "build"],
                       capture_output=True, check=True,
                       env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})
        state["current"] = other
    if outcome.code == 0 and "(output as before)" in outcome.moment:
        outcome.problems.append("exit code 0 but the output is the previous build")
    if outcome.code is not None and outcome.code != 0 and "(output the new build)" in outcome.moment:
        outcome.moment += " [non-zero after a whole write]"
    left = [whose(name, program.process.pid) for name in leftovers(site) if name not in before]
    left += [f"TMPDIR/{p.name}" for p in tmp.iterdir()]
    if left:
        outcome.problems.append(f"left behind: {left[:10]}")
    return outcome


def whose(name: str, pid: int) -> str:
    """``name``, with the process that wrote it when it is a temporary file (its name holds
    the writer's id): the build's own process (its main thread, or its feeds' thread), or
    another (a render or image worker)."""
    found = re.fullmatch(r"\.tmp-([0-9]+)-[0-9]+.*", os.path.basename(name))
    if found is None:
        return name
    return f"{name} (by {'the build' if int(found.group(1)) == pid else 'a worker'})"


def prepare_build(base: Path, posts: int) -> dict[str, object]:
    site = make_site(base / "site", posts)
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    trees = {}
    seconds = 0.0
    for title in ("A", "B", "A"):
        config = site / "storefront.yaml"
        config.write_text(re.sub(r"^title: .*$", f"title: Bottega {title}", config.read_text(),
                                 count=1, flags=re.M))
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "storefront", "--root", str(site), "build",
                        "--jobs", "2"], check=True, capture_output=True, env=env)
        seconds = time.monotonic() - started
        trees[title] = tree(site / "output")
    print(f"a build that renders every page takes {seconds:.1f} s", flush=True)
    return {"trees": trees, "current": "A", "seconds": seconds * 1.2}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["serve", "build"])
    parser.add_argument("--tries", type=int, default=40)
    parser.add_argument("--signal", choices=["TERM", "INT", "both"], default="both")
    parser.add_argument("--moment", action="append",
                        choices=["starting", "first build", "rebuild", "event stream", "idle"])
    parser.add_argument("--posts", type=int, default=1500, help="extra posts (build)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"seed {seed}", flush=True)
    base = Path(tempfile.mkdtemp(prefix=f"sig3-stress-{args.command}-"))
    signals = {"TERM": [signal.SIGTERM], "INT": [signal.SIGINT],
               "both": [signal.SIGTERM, signal.SIGINT]}[args.signal]
    moments = args.moment or ["starting", "first build", "rebuild", "event stream", "idle"]
    failed = 0
    state = prepare_build(base, args.posts) if args.command == "build" else {}
    for attempt in range(args.tries):
        signum = rng.choice(signals)
        # Ctrl-C in a terminal reaches the whole foreground group; kill/systemd the process
        group = signum == signal.SIGINT and rng.random() < 0.5
        if args.command == "serve":
            moment = moments[attempt % len(moments)]
            outcome = serve_try(base, moment, signum, group, cold=rng.random() < 0.3, rng=rng)
        else:
            outcome = build_try(base, state, signum, group, rng)
        name = signal.Signals(signum).name + (" to the group" if group else "")
        status = "FAIL" if outcome.problems else "ok"
        print(f"{attempt:3d} {status:4s} {name:20s} {outcome.moment:40s} after "
              f"{outcome.delay:.2f} s: exit {outcome.code} in {outcome.seconds:.2f} s"
              + "".join(f"\n      {problem}" for problem in outcome.problems), flush=True)
        failed += bool(outcome.problems)
    print(f"{failed} of {args.tries} tries failed (seed {seed}, work folder {base})")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
