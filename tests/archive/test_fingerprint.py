"""Body fingerprints stay comparable with every signature already stored in an archive."""

from __future__ import annotations

import random

import numpy as np
from datasketch import MinHash

from archive import fingerprint

WORDS = "the shares rose fell after chip demand Nvidia guidance quarter revenue analysts Fed rate Café naïve".split()


def reference(body: str) -> np.ndarray:
    """What datasketch computes itself (its default SHA-1 hash per shingle): what archives hold."""
    words = fingerprint._WORD.findall(body.casefold())
    minhash = MinHash(num_perm=fingerprint.NUM_PERM, seed=1, scheme=fingerprint.SCHEME)
    minhash.update_batch([" ".join(words[i:i + fingerprint.SHINGLE]).encode()
                          for i in range(len(words) - fingerprint.SHINGLE + 1)])
    return minhash.hashvalues.astype(np.uint32)


def test_signature_is_datasketchs_own() -> None:
    rng = random.Random(5)
    for _ in range(50):
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(fingerprint.MIN_WORDS, 600)))
        signature = fingerprint.signature(body)
        assert signature is not None
        assert np.array_equal(signature, reference(body))


def test_short_bodies_have_no_signature() -> None:
    assert fingerprint.signature(" ".join(["word"] * (fingerprint.MIN_WORDS - 1))) is None
