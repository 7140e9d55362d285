"""Body fingerprints for near-duplicates: MinHash over word shingles, banded for lookup in SQL.

Two copies of a syndicated story differ in chrome and a sentence or two; their shingle sets
overlap far above THRESHOLD, while distinct articles on the same topic stay far below it.
"""

from __future__ import annotations

import hashlib
import re

from functools import lru_cache
from typing import TYPE_CHECKING, Any

try:  # CPython's own SHA-1: the same digests as OpenSSL's, 40 % faster on inputs of a few words
    from _sha1 import sha1 as _sha1
except ImportError:  # an interpreter built without it
    _sha1 = hashlib.sha1

if TYPE_CHECKING:
    import numpy as np

NUM_PERM = 128
BANDS = 16            # 16 bands of 8 rows: candidates from a Jaccard similarity of about 0.7
ROWS = NUM_PERM // BANDS
THRESHOLD = 0.7       # estimated Jaccard similarity above which two bodies are the same story
SHINGLE = 3
#: datasketch's permutation scheme, named so that stored signatures stay comparable: datasketch
#: 2.0 changed its default (to affine32, which every archive so far was built with).
SCHEME = "affine32"
MIN_WORDS = 40        # shorter bodies are too small to fingerprint meaningfully

_WORD = re.compile(r"\w+", re.UNICODE)


def signature(body: str) -> np.ndarray | None:
    """MinHash signature of the body's word 3-grams, or None for bodies too short to compare."""
    words = _WORD.findall(body.casefold())
    if len(words) < MIN_WORDS:
        return None
    import numpy as np  # noqa: PLC0415 - numpy is imported with datasketch, on first use (see _template)
    sha1 = _sha1
    # datasketch's default hash (sha1_hash32: the first 4 bytes of SHA-1, little-endian), taken for
    # all shingles at once: its per-shingle struct.unpack was most of the cost of a signature.
    shingles = map(" ".join, zip(*(words[i:] for i in range(SHINGLE))))
    digests = b"".join([sha1(shingle.encode()).digest()[:4] for shingle in shingles])
    minhash = _minhash()
    minhash.update_batch(np.frombuffer(digests, dtype="<u4").tolist())
    return minhash.hashvalues.astype(np.uint32)


@lru_cache(maxsize=1)
def _template() -> Any:
    """Imported on first use: datasketch's package brings scipy and numpy, slow to import, which
    a crawl that finds no new article never needs; the permutations are drawn once, not per article."""
    from datasketch import MinHash  # noqa: PLC0415
    return MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME)


def prepare() -> None:
    """Import datasketch and draw the permutations now (half a second of CPU, mostly scipy's imports):
    a crawl asks while its extraction workers start, when the CPU has little else to do, rather
    than at its first new article, when every core is busy."""
    _template()


def _minhash() -> Any:
    """A MinHash fed hash values already computed (see signature)."""
    template = _template()
    return type(template)(num_perm=NUM_PERM, seed=1, hashfunc=_hashed, permutations=template.permutations,
                          scheme=SCHEME)


def _hashed(value: int) -> int:
    return value


def band_hashes(sig: np.ndarray) -> list[int]:
    """One signed 64-bit hash per band (fits a BIGINT column on every database)."""
    return [int.from_bytes(hashlib.blake2b(sig[b * ROWS:(b + 1) * ROWS].tobytes(), digest_size=8).digest(),
                           "big", signed=True) for b in range(BANDS)]


def to_bytes(sig: np.ndarray) -> bytes:
    return sig.astype("uint32").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    import numpy as np  # noqa: PLC0415 - see signature

    return np.frombuffer(data, dtype=np.uint32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity: the share of equal MinHash slots."""
    return float((a == b).sum()) / len(a)
