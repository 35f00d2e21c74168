"""digest: the same SHA-256 and HMAC as hashlib and hmac, whichever module computes them."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agenda import digest


@pytest.fixture(params=["own", "openssl"])
def regime(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Hash with Python's own module (budget left) or with OpenSSL's (budget spent)."""
    if request.param == "own":
        if digest._own is None:
            pytest.skip("this Python has no SHA-256 module of its own")
        monkeypatch.setattr(digest, "_openssl", None)
        monkeypatch.setattr(digest, "_left", 1 << 40)
    else:
        monkeypatch.setattr(digest, "_openssl", hashlib.sha256)
    return str(request.param)


# The fixture only sets which module hashes: the same for every example.
SAME = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@SAME
@given(data=st.binary(max_size=3000), more=st.lists(st.binary(max_size=300), max_size=4))
def test_sha256_is_hashlibs(regime: str, data: bytes, more: list[bytes]) -> None:
    ours = digest.sha256(data)
    theirs = hashlib.sha256(data)
    assert ours.hexdigest() == theirs.hexdigest()
    copy = ours.copy()
    for chunk in more:
        copy.update(chunk)
        theirs.update(chunk)
    assert copy.digest() == theirs.digest()
    assert ours.hexdigest() == hashlib.sha256(data).hexdigest()  # the copy left it alone
    assert digest.sha256(memoryview(data)[1:]).hexdigest() == hashlib.sha256(data[1:]).hexdigest()


@SAME
@given(key=st.binary(max_size=200), message=st.binary(max_size=3000))
def test_hmac_sha256_is_hmacs(regime: str, key: bytes, message: bytes) -> None:
    assert digest.hmac_sha256(key, message) == hmac.new(key, message, hashlib.sha256).hexdigest()


def test_the_own_module_serves_until_the_budget_is_spent(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    if digest._own is None:
        pytest.skip("this Python has no SHA-256 module of its own")
    monkeypatch.setattr(digest, "_openssl", None)
    monkeypatch.setattr(digest, "_left", 100)
    assert type(digest.sha256(b"x" * 60)) is type(digest._own())
    assert digest._openssl is None
    big = digest.sha256(b"x" * 60)  # past the 40 bytes left: OpenSSL's from now on
    assert digest._openssl is hashlib.sha256 and type(big) is type(hashlib.sha256())
    assert type(digest.sha256(b"")) is type(hashlib.sha256())


@given(a=st.binary(max_size=40), b=st.binary(max_size=40))
def test_compare_digest_answers_as_hmacs(a: bytes, b: bytes) -> None:
    assert digest.compare_digest(a, b) == hmac.compare_digest(a, b) == (a == b)
    assert digest.compare_digest(a.hex(), a.hex())


def test_settled_names_openssl_only_once_it_serves_for_good(monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    # records.decode_all calls what `settled` names straight, and `sha256` until then.
    if digest._own is None:
        pytest.skip("this Python has no SHA-256 module of its own")
    monkeypatch.setattr(digest, "_openssl", None)
    monkeypatch.setattr(digest, "_left", 100)
    digest.sha256(b"x" * 60)
    assert digest.settled() is None
    digest.sha256(b"x" * 60)
    assert digest.settled() is hashlib.sha256
    assert digest.settled()(b"abc").hexdigest() == digest.sha256(b"abc").hexdigest()
