"""The one door to git: plumbing commands run through the git command-line tool.

Everything the exchange asks of git goes through `Git`, so that ssh, https, credential
helpers and shared drives behave exactly as the user's git does, and so that a unit test can
put a fake runner in its place. Porcelain output is never parsed: only plumbing commands
whose formats git keeps stable.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from agenda.model import AgendaError

MINIMUM = (2, 25)
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
# Fixed identity and environment: commits carry no personal name, host or time zone, and
# the user's own git configuration (hooks, signing, editors) never joins in.
_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "TZ": "UTC",
        "GIT_AUTHOR_NAME": "summit", "GIT_COMMITTER_NAME": "summit",
        "GIT_AUTHOR_EMAIL": "summit@summit.invalid",
        "GIT_COMMITTER_EMAIL": "summit@summit.invalid"}


class GitError(AgendaError):
    """git is missing, too old, or a git command failed (one line, for the user)."""


@dataclass(frozen=True)
class Result:
    code: int
    out: bytes
    err: bytes


Runner = Callable[[Sequence[str], bytes | None, dict[str, str]], Result]


def run_process(argv: Sequence[str], stdin: bytes | None, env: dict[str, str]) -> Result:
    try:
        done = subprocess.run(list(argv), input=stdin, capture_output=True, env=env,
                              check=False)
    except FileNotFoundError:
        raise GitError("git is not installed: summit sync needs git 2.25 or later (every "
                       "other command works without it)") from None
    return Result(done.returncode, done.stdout, done.stderr)


class Git:
    """git plumbing on one bare repository (`git_dir`), through a replaceable runner."""

    def __init__(self, git_dir: Path, runner: Runner = run_process,
                 executable: str = "git") -> None:
        self.git_dir = git_dir
        self.runner = runner
        self.executable = executable
        self._checked = False

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(_ENV)
        return env

    def raw(self, *args: str, stdin: bytes | None = None, repo: bool = True) -> Result:
        argv = [self.executable]
        if repo:
            argv.append(f"--git-dir={self.git_dir}")
        return self.runner([*argv, *args], stdin, self._env())

    def __call__(self, *args: str, stdin: bytes | None = None) -> bytes:
        """Run a git command in the repository; its stdout, or GitError with git's reason."""
        self.check_version()
        result = self.raw(*args, stdin=stdin)
        if result.code != 0:
            raise GitError(f"git {args[0]} failed: {reason(result.err)}")
        return result.out

    def check_version(self) -> None:
        if self._checked:
            return
        result = self.raw("--version", repo=False)
        found = re.search(rb"(\d+)\.(\d+)", result.out)
        if result.code != 0 or found is None:
            raise GitError("git does not answer `git --version`; summit sync needs git 2.25 "
                           "or later")
        version = (int(found[1]), int(found[2]))
        if version < MINIMUM:
            raise GitError(f"git {version[0]}.{version[1]} is too old: summit sync needs "
                           f"git {MINIMUM[0]}.{MINIMUM[1]} or later")
        self._checked = True

    # Repository -----------------------------------------------------------------------------

    def init(self) -> None:
        """Create the bare repository once, with the settings a replica needs."""
        if (self.git_dir / "HEAD").exists():
            return
        self.check_version()
        # A local repository holds internal drafts too: only its owner may enter its folder.
        self.git_dir.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        result = self.raw("init", "--bare", "-q", str(self.git_dir), repo=False)
        if result.code != 0:
            raise GitError(f"git init failed: {reason(result.err)}")
        for key, value in (("receive.denyNonFastForwards", "true"),
                           ("receive.denyDeletes", "true"), ("receive.fsckObjects", "true"),
                           ("pack.useBitmaps", "false"), ("core.logAllRefUpdates", "false")):
            self("config", key, value)

    def refs(self, prefix: str) -> dict[str, str]:
        """ref name -> commit, for every ref under `prefix`."""
        out = self("for-each-ref", "--format=%(refname) %(objectname)", prefix)
        pairs = (line.split(" ", 1) for line in out.decode().splitlines() if line)
        return {name: sha for name, sha in pairs}

    def tree_files(self, commit: str) -> dict[str, str]:
        """file name -> blob id in a commit's tree (flat)."""
        out = self("ls-tree", "-z", "--full-tree", commit)
        files = {}
        for entry in out.split(b"\0"):
            if not entry:
                continue
            meta, _, name = entry.partition(b"\t")
            mode, kind, sha = meta.split(b" ")
            if kind == b"blob":
                files[name.decode("utf-8", "replace")] = sha.decode()
        return files

    def read_blobs(self, shas: Iterable[str]) -> dict[str, bytes]:
        """Blob contents in one `cat-file --batch` run."""
        wanted = list(dict.fromkeys(shas))
        if not wanted:
            return {}
        out = self("cat-file", "--batch", stdin="".join(s + "\n" for s in wanted).encode())
        found: dict[str, bytes] = {}
        pos = 0
        for sha in wanted:
            end = out.index(b"\n", pos)
            header = out[pos:end].split(b" ")
            pos = end + 1
            if len(header) < 3 or header[1] == b"missing":
                continue
            size = int(header[2])
            found[sha] = out[pos:pos + size]
            pos += size + 1
        return found

    def is_ancestor(self, old: str, new: str) -> bool:
        return self.raw("merge-base", "--is-ancestor", old, new).code == 0

    def update_ref(self, ref: str, new: str, old: str | None) -> None:
        """Move a ref, but only from the value we read (a compare-and-swap)."""
        self("update-ref", ref, new, old or "0" * 40)

    def append_commit(self, ref: str, parent: str | None, files: dict[str, bytes],
                      author: str, device: str, when: int) -> str:
        """One commit on `ref` adding `files` to the parent's tree, in one fast-import run."""
        lines = [f"commit {ref}\n".encode(),
                 f"committer {author} <{device}@summit.invalid> {when} +0000\n".encode(),
                 b"data 7\nrecords\n"]
        if parent:
            lines.append(f"from {parent}\n".encode())
        for name, payload in sorted(files.items()):
            lines.append(f"M 100644 inline {name}\ndata {len(payload)}\n".encode())
            lines.append(payload + b"\n")
        lines.append(b"done\n")
        self("fast-import", "--quiet", "--done", stdin=b"".join(lines))
        return self("rev-parse", ref).decode().strip()

    def fetch(self, url: str, refspecs: Sequence[str]) -> Result:
        self.check_version()
        return self.raw("fetch", "--quiet", "--no-tags", url,
                        *refspecs)

    def push(self, url: str, refspecs: Sequence[str]) -> Result:
        self.check_version()
        return self.raw("push", "--quiet", "--atomic", "--porcelain", url, *refspecs)

    def objects_between(self, tips: Iterable[str], exclude: Iterable[str]) -> list[tuple[str,
                                                                                         str]]:
        """(object id, path) of everything reachable from `tips` but not from `exclude`."""
        args = ["rev-list", "--objects", *tips]
        excluded = list(exclude)
        if excluded:
            args += ["--not", *excluded]
        out = self(*args)
        found = []
        for line in out.decode().splitlines():
            sha, _, path = line.partition(" ")
            found.append((sha, path))
        return found

    def object_types(self, shas: Sequence[str]) -> dict[str, str]:
        if not shas:
            return {}
        out = self("cat-file", "--batch-check=%(objectname) %(objecttype)",
                   stdin="".join(s + "\n" for s in shas).encode())
        return dict(line.split(" ", 1) for line in out.decode().splitlines() if " " in line)


def reason(err: bytes) -> str:
    lines = [line.strip() for line in err.decode("utf-8", "replace").splitlines()
             if line.strip()]
    fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return (fatal or lines or ["no reason given"])[-1]
