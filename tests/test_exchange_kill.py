"""A sync or receive killed (SIGKILL) at any moment leaves everything consistent."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_exchange_sync import World, joint_view, new_summit

from agenda import detached
from agenda.exchange import packets, sync
from agenda.integrity import check
from agenda.workspace import Workspace


def _fsck(repo: Path) -> None:
    subprocess.run(["git", f"--git-dir={repo}", "fsck", "--no-progress"], check=True,
                   capture_output=True)


def _two_delegations(world: World) -> tuple[Workspace, Workspace, str]:
    """India and Russia, trusting each other, and India's new summit with one item."""
    india, russia = world.delegation("in", "IN"), world.delegation("ru", "RU")
    world.trust_all()
    slug = new_summit(india, "IN", "RU")
    india.add_item(slug, section="Trade", title="Ports", text="Ports.", delegation="IN")
    return india, russia, slug


class _Killer:
    """Runs a command and kills it (SIGKILL) at a random moment of its run. The moments are
    drawn within how long a whole run takes on this machine: the first run is let finish and
    timed, and so is any run that ends before its moment, so that the kills land mid-run on a
    fast machine as on a slow one (fixed delays of 0.05 to 1.5 s killed nothing on a machine
    where a whole receive took less than the shortest)."""

    def __init__(self, seed: int) -> None:
        self.chance = random.Random(seed)
        self.whole: float | None = None

    def run(self, argv: list[str]) -> bool:
        """True if the run was killed before it ended. Only the command is killed: the git
        processes it started go on (or stop) by themselves, as on a user's machine, and this
        returns once none of them is running, so that what is checked next is the state
        they leave, not a repository in the middle of a receive."""
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        moment = None if self.whole is None else start + self.chance.uniform(0.1, 1.0) * self.whole
        while process.poll() is None and (moment is None or time.perf_counter() < moment):
            time.sleep(0.001)
        if process.poll() is None:
            process.kill()
            process.wait()
            _wait_for_session(process.pid)
            return True
        self.whole = time.perf_counter() - start
        return False


def _wait_for_session(session: int, timeout: float = 60.0) -> None:
    """Until no process of the session (the killed command's children) is alive (Linux)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = False
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            fields = detached._stat(int(entry))
            if fields is None:
                continue  # it ended meanwhile
            if int(fields[3]) == session and fields[0] != b"Z":
                alive = True
                break
        if not alive:
            return
        time.sleep(0.01)
    raise AssertionError(f"the killed command's children still run after {timeout} s")


def _trials(tmp_path: Path, count: int) -> None:
    world = World(tmp_path)
    try:
        india, russia, slug = _two_delegations(world)
        world.drain()
        (rslug,) = [e.slug for e in russia.summits()]
        killer = _Killer(14)
        killed = 0
        for trial in range(count):
            for n in range(8):
                india.table(slug, "1.1", delegation="IN", text=f"Trial {trial} text {n}.")
            russia.table(rslug, "1.1", delegation="RU", text=f"Russia {trial}.")
            killed += killer.run([sys.executable, "-m", "agenda", "--db", str(india.path),
                                  "sync"])
            # Whatever the moment: the workspace checks out, both repositories are sound ...
            assert check(india) == []
            _fsck(world.joint)
            _fsck(india.path.with_name("ws.exchange") / "local.git")
        assert killed, "no trial was killed mid-sync"
        # ... and the next syncs finish the job.
        world.drain()
        assert joint_view(india) == joint_view(russia)
        assert check(russia) == []
    finally:
        world.close()


def test_killed_syncs_leave_everything_consistent(tmp_path: Path) -> None:
    _trials(tmp_path, 5)


@pytest.mark.slow
def test_killed_syncs_many_trials(tmp_path: Path) -> None:
    _trials(tmp_path, 100)


def _receive_trials(tmp_path: Path, count: int) -> None:
    world = World(tmp_path)
    try:
        india, russia, slug = _two_delegations(world)
        killer = _Killer(7)
        killed = 0
        for trial in range(count):
            for n in range(8):
                india.table(slug, "1.1", delegation="IN", text=f"Trial {trial} text {n}.")
            packet = tmp_path / f"p{trial}.summit"
            packets.send(india, "RU", packet)
            killed += killer.run([sys.executable, "-m", "agenda", "--db", str(russia.path),
                                  "receive", str(packet)])
            assert check(russia) == []
            report = packets.receive(russia, packet)  # finishes the job, or changes nothing
            assert not report.refused and not report.waiting
            assert joint_view(russia) == joint_view(india)
        assert killed, "no trial was killed mid-receive"
    finally:
        world.close()


def test_killed_receives_leave_everything_consistent(tmp_path: Path) -> None:
    _receive_trials(tmp_path, 5)


@pytest.mark.slow
def test_killed_receives_many_trials(tmp_path: Path) -> None:
    _receive_trials(tmp_path, 100)


# Killed at every commit, in turn: deterministic, whatever the machine's load -------------

# A child that runs one receive or sync and dies (os._exit: no rollback, no tidying, as a
# SIGKILL) right after the workspace's `stop`-th commit; it exits 0 if the operation ends first.
_CHILD = """
import os, sys
from pathlib import Path
from agenda.exchange import packets, sync
from agenda.workspace import Workspace

stop, done, real = int(sys.argv[1]), [0], Workspace._commit

def commit(self):
    real(self)
    done[0] += 1
    if done[0] == stop:
        os._exit(9)

Workspace._commit = commit
ws = Workspace(Path(sys.argv[2]))
if sys.argv[3] == "receive":
    packets.receive(ws, Path(sys.argv[4]))
else:
    sync.sync(ws)
"""


def _copy_delegation(world: World, name: str, into: str) -> Workspace:
    """A copy of a delegation's machine (workspace, keys, exchange folder) and of the joint
    remote, so that each killed run starts from the same state."""
    shutil.copytree(world.root / name, world.root / into / name)
    shutil.copytree(world.joint, world.root / into / "joint.git")
    ws = Workspace(world.root / into / name / "ws.json")
    ws.exchange_put("remotes", {"joint": {"url": (world.root / into / "joint.git").as_uri(),
                                          "team": False}})
    return ws


def _kill_at_every_commit(tmp_path: Path, how: str) -> int:
    """Run a first receive (or sync) of a summit new to Russia, killed after its 1st, 2nd ...
    commit until one runs to its end; after each kill `check` accepts the workspace and the
    next run finishes the job. Returns how many kill points there were."""
    world = World(tmp_path)
    try:
        india, russia, slug = _two_delegations(world)
        india.table(slug, "1.1", delegation="IN", text="A text.")
        packet = tmp_path / "p.summit"
        packets.send(india, "RU", packet)
        world.sync("in")
        russia.close()
        for stop in range(1, 50):
            copy = _copy_delegation(world, "ru", f"kill{stop}")
            copy.close()
            child = subprocess.run(
                [sys.executable, "-c", _CHILD, str(stop), str(copy.path), how, str(packet)],
                capture_output=True, text=True, check=False)
            assert child.returncode in (0, 9), child.stderr
            copy = Workspace(copy.path)
            try:
                assert [str(p) for p in check(copy)] == [], f"killed after commit {stop}"
                if how == "receive":
                    report = packets.receive(copy, packet)
                    assert not report.refused and not report.waiting
                else:
                    for _ in range(2):
                        assert not sync.sync(copy).refused
                assert check(copy) == []
                assert joint_view(copy) == joint_view(india)
            finally:
                copy.close()
            if child.returncode == 0:
                return stop - 1
        raise AssertionError("the run never finished")
    finally:
        world.close()


@pytest.mark.parametrize("how", ["receive", "sync"])
def test_a_first_exchange_killed_after_any_commit_checks_out(tmp_path: Path,
                                                             how: str) -> None:
    assert _kill_at_every_commit(tmp_path, how) >= 2  # the join, then the records at least
