"""Shared thread pools: one per name and size in a process, and fresh ones in a forked child."""

import os
import threading
import time

import pytest

from metademo import pools


def test_one_pool_per_name_and_size():
    a = pools.pool("test-pools", 2)
    assert pools.pool("test-pools", 2) is a
    assert pools.pool("test-pools", 3) is not a and pools.pool("test-pools-other", 2) is not a
    assert a.submit(lambda: threading.current_thread().name).result(timeout=10).startswith("test-pools")


def wait_for_child(pid: int, timeout: float = 60.0) -> int:
    """The child's exit code; a child still running after ``timeout`` seconds is killed and fails the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail("the forked child hung")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_a_fresh_pool_that_works():
    parent = pools.pool("test-fork", 2)
    # The parent's workers exist and are idle: in a child they would not exist, and an idle pool starts none.
    assert parent.submit(lambda: 1).result(timeout=10) == 1
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report on the pipe, and leave without running pytest's exit handlers
        code = 1
        try:
            os.close(read)
            fresh = pools.pool("test-fork", 2)
            name = fresh.submit(lambda: threading.current_thread().name).result(timeout=10)
            os.write(write, f"{fresh is parent} {fresh is pools.pool('test-fork', 2)} {name}".encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    code = wait_for_child(pid)
    with os.fdopen(read) as f:
        report = f.read()
    assert code == 0, report or "the child's pool ran nothing in 10 s"
    is_parent, is_kept, name = report.split()
    assert (is_parent, is_kept) == ("False", "True") and name.startswith("test-fork")
    # The parent's pool is untouched and still works.
    assert pools.pool("test-fork", 2) is parent and parent.submit(lambda: 2).result(timeout=10) == 2
