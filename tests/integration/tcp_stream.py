"""The /bytes/N stream of tundra stack's HTTP service (docs/tcp.md), for verification.

byte(i) = T[(j + 8k) mod 65536] XOR (k mod 256), k = i div 65536, j = i mod 65536,
T[x] = ((x * 2654435761) mod 2^32) div 2^24.
"""
import hashlib

_T = bytes(((x * 2654435761) & 0xFFFFFFFF) >> 24 for x in range(65536))
_T2 = _T + _T
_XOR = [bytes(b ^ x for b in range(256)) for x in range(256)]


def block(k):
    off = (8 * k) & 0xFFFF
    return _T2[off:off + 65536].translate(_XOR[k & 0xFF])


def stream(off, n):
    """Bytes [off, off+n) of the stream."""
    out = bytearray()
    k = off // 65536
    skip = off % 65536
    while len(out) < n + skip:
        out += block(k)
        k += 1
    return bytes(out[skip:skip + n])


def sha256(n):
    h = hashlib.sha256()
    k = 0
    left = n
    while left > 0:
        b = block(k)
        h.update(b[:left] if left < 65536 else b)
        left -= 65536
        k += 1
    return h.hexdigest()
