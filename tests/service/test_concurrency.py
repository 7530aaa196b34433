"""Concurrent changes to one account, and a crash inside the write transaction."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

import engine
from engine.service import (
    Database,
    SignatureExists,
    SignatureNotFound,
    SignatureService,
)
from engine.service.errors import InternalError
from engine.service.models import Account, EventRow, SignatureRow

# Outcomes a racing call may legitimately meet: the signature it wanted to
# change was deleted first, or the one it wanted to add was added first.
EXPECTED_RACE_ERRORS = (SignatureNotFound, SignatureExists)


def assert_consistent(database: Database, account_id: str, successes: int) -> None:
    """Check that the stored state and the history of an account agree with each other."""
    with database.read_session() as session:
        events = session.scalars(
            select(EventRow).where(EventRow.account_id == account_id).order_by(EventRow.seq)
        ).all()
        signature = session.get(SignatureRow, account_id)
        account = session.get(Account, account_id)

    assert len(events) == successes
    assert [e.seq for e in events] == list(range(1, successes + 1))
    assert account.event_count == successes
    assert account.head_hash == events[-1].hash
    if events[-1].event_type == "signature_deleted":
        assert signature is None
    else:
        assert signature is not None
        assert signature.image_sha256 == events[-1].image_sha256
    # No two deletions or two additions in a row: each event saw the state left by the previous one.
    for previous, current in itertools.pairwise(events):
        assert (previous.event_type == "signature_deleted") == (
            current.event_type == "signature_added"
        )


def run_race(services: list[SignatureService], auth, signature_jpeg, calls: int) -> int:
    """Send ``calls`` modify, delete and add calls to one account from 8 threads.

    Returns the number of calls that succeeded.
    """
    barrier = threading.Barrier(8)
    successes = 0
    failures: list[BaseException] = []
    lock = threading.Lock()

    def one_call(index: int) -> None:
        nonlocal successes
        service = services[index % len(services)]
        if index < 8:
            # Start the first eight calls together; the timeout only guards against a hang.
            barrier.wait(timeout=60)
        try:
            kind = index % 3
            if kind == 0:
                service.modify("acc-1", signature_jpeg(10 + index % 5), auth=auth, consent=True)
            elif kind == 1:
                service.delete("acc-1", auth=auth, confirm=True)
            else:
                service.add("acc-1", signature_jpeg(20 + index % 5), auth=auth, consent=True)
        except EXPECTED_RACE_ERRORS:
            return
        except BaseException as error:
            with lock:
                failures.append(error)
            return
        with lock:
            successes += 1

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one_call, range(calls)))

    assert failures == []
    return successes


def test_parallel_modify_delete_consistent(service, cps, signature_jpeg):
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)

    successes = run_race([service], cps, signature_jpeg, calls=30)

    assert_consistent(service.database, "acc-1", successes + 1)
    assert service.verify_history().intact


def test_parallel_two_service_instances_consistent(database_url, cps, signature_jpeg):
    # Two services with their own connection pools stand for two server processes.
    services = [SignatureService.from_url(database_url, workers=2) for _ in range(2)]
    try:
        services[0].add("acc-1", signature_jpeg(1), auth=cps, consent=True)

        successes = run_race(services, cps, signature_jpeg, calls=24)

        assert_consistent(services[0].database, "acc-1", successes + 1)
        assert services[1].verify_history().intact
    finally:
        for service in services:
            service.close()


def test_parallel_adds_only_one_wins(service, cps, signature_jpeg):
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def add(seed: int) -> None:
        barrier.wait(timeout=60)
        try:
            service.add("acc-1", signature_jpeg(seed), auth=cps, consent=True)
            outcomes.append("added")
        except SignatureExists:
            outcomes.append("exists")

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(add, range(30, 36)))

    assert sorted(outcomes) == ["added"] + ["exists"] * 5
    assert_consistent(service.database, "acc-1", 1)


def test_failure_inside_transaction_rolls_back(service, cps, signature_jpeg, monkeypatch):
    service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)
    before = service.read("acc-1", auth=cps)

    def broken_append(*args, **kwargs):
        raise RuntimeError("simulated failure after the signature row was written")

    monkeypatch.setattr(SignatureService, "_append_event", staticmethod(broken_append))

    with pytest.raises(InternalError):
        service.modify("acc-1", signature_jpeg(2), auth=cps, consent=True)
    with pytest.raises(InternalError):
        service.add("acc-2", signature_jpeg(3), auth=cps, consent=True)

    assert service.read("acc-1", auth=cps) == before
    assert service.signature_for_document("acc-2", auth=cps) is None
    with service.database.read_session() as session:
        assert session.get(Account, "acc-2") is None
    assert_consistent(service.database, "acc-1", 1)


CRASHING_CLIENT = textwrap.dedent(
    """
    import os, sys
    from engine.service import AuthContext, SignatureService

    url, png_path = sys.argv[1], sys.argv[2]
    service = SignatureService.from_url(url, workers=1)
    original = SignatureService._append_event

    def append_then_die(*args, **kwargs):
        original(*args, **kwargs)  # the signature row and its event are flushed, not committed
        os._exit(17)

    SignatureService._append_event = staticmethod(append_then_die)
    auth = AuthContext("cps", "actor-1", "session-1")
    service.modify("acc-1", open(png_path, "rb").read(), auth=auth, consent=True)
    """
)


def test_process_crash_leaves_nothing_half_written(database_url, cps, signature_jpeg, tmp_path):
    with SignatureService.from_url(database_url, workers=1) as service:
        service.add("acc-1", signature_jpeg(1), auth=cps, consent=True)
        before = service.read("acc-1", auth=cps)
    upload = tmp_path / "upload.jpg"
    upload.write_bytes(signature_jpeg(2))

    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_CLIENT, database_url, str(upload)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )

    assert crashed.returncode == 17, crashed.stderr
    with SignatureService.from_url(database_url, workers=1) as service:
        assert service.read("acc-1", auth=cps) == before
        assert len(service.history("acc-1", auth=cps).events) == 1
        assert service.verify_history().intact
        # The database is writable again: the dead process's lock is gone.
        service.modify("acc-1", signature_jpeg(3), auth=cps, consent=True)
        assert len(service.history("acc-1", auth=cps).events) == 2


def test_image_processing_bounded_by_workers(sqlite_service, cps, signature_jpeg, monkeypatch):
    service = sqlite_service
    real_process = engine.process
    active = 0
    peak = 0
    lock = threading.Lock()

    def counting_process(*args, **kwargs):
        # The real engine runs; the wrapper only counts how many runs overlap.
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        try:
            return real_process(*args, **kwargs)
        finally:
            with lock:
                active -= 1

    monkeypatch.setattr(engine, "process", counting_process)

    def preview(seed: int):
        return service.preview("acc-1", signature_jpeg(seed), auth=cps)

    with ThreadPoolExecutor(max_workers=8) as pool:
        previews = list(pool.map(preview, range(8)))

    assert len({p.image_sha256 for p in previews}) == 8
    assert 1 <= peak <= service.workers
