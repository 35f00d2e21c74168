"""A sync or receive killed (SIGKILL) at any moment leaves everything consistent."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_exchange_sync import World, joint_view, new_summit

from agenda.integrity import check


def _fsck(repo: Path) -> None:
    subprocess.run(["git", f"--git-dir={repo}", "fsck", "--no-progress"], check=True,
                   capture_output=True)


def _trials(tmp_path: Path, count: int) -> None:
    world = World(tmp_path)
    try:
        india, russia = world.delegation("in", "IN"), world.delegation("ru", "RU")
        world.trust_all()
        slug = new_summit(india, "IN", "RU")
        india.add_item(slug, section="Trade", title="Ports", text="Ports.", delegation="IN")
        world.drain()
        (rslug,) = [e.slug for e in russia.summits()]
        chance = random.Random(14)
        killed = 0
        for trial in range(count):
            for n in range(8):
                india.table(slug, "1.1", delegation="IN", text=f"Trial {trial} text {n}.")
            russia.table(rslug, "1.1", delegation="RU", text=f"Russia {trial}.")
            process = subprocess.Popen(
                [sys.executable, "-m", "agenda", "--db", str(india.path), "sync"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(chance.uniform(0.05, 1.5))
            if process.poll() is None:
                process.kill()
                killed += 1
            process.wait()
            # Whatever the moment: the workspace checks out, both repositories are sound ...
            assert check(india) == []
            _fsck(world.joint)
            _fsck(india.path.with_name("ws.exchange") / "local.git")
        assert killed, "no trial was killed mid-sync; the delays are too long for this machine"
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
    from agenda.exchange import packets

    world = World(tmp_path)
    try:
        india, russia = world.delegation("in", "IN"), world.delegation("ru", "RU")
        world.trust_all()
        slug = new_summit(india, "IN", "RU")
        india.add_item(slug, section="Trade", title="Ports", text="Ports.", delegation="IN")
        chance = random.Random(7)
        killed = 0
        for trial in range(count):
            for n in range(8):
                india.table(slug, "1.1", delegation="IN", text=f"Trial {trial} text {n}.")
            packet = tmp_path / f"p{trial}.summit"
            packets.send(india, "RU", packet)
            process = subprocess.Popen(
                [sys.executable, "-m", "agenda", "--db", str(russia.path), "receive",
                 str(packet)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(chance.uniform(0.05, 1.2))
            if process.poll() is None:
                process.kill()
                killed += 1
            process.wait()
            assert check(russia) == []
            report = packets.receive(russia, packet)  # finishes the job, or changes nothing
            assert not report.refused and not report.waiting
            assert joint_view(russia) == joint_view(india)
        assert killed, "no trial was killed mid-receive; the delays are too long here"
    finally:
        world.close()


def test_killed_receives_leave_everything_consistent(tmp_path: Path) -> None:
    _receive_trials(tmp_path, 5)


@pytest.mark.slow
def test_killed_receives_many_trials(tmp_path: Path) -> None:
    _receive_trials(tmp_path, 100)
