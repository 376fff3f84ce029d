"""--impair: 20 % loss on the stack's output drops exactly what the seed says, the same way every run."""
import re

import pytest

from netns import Netns
from stackutil import Stack, c, ping

N = 400
M64 = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def expected_lost(seed, n, ppm):
    """The impairment layer draws six values per packet; the first decides loss."""
    st, lost = seed, set()
    for k in range(n):
        draws = []
        for _ in range(6):
            st, v = splitmix64(st)
            draws.append(v)
        if draws[0] % 1000000 < ppm:
            lost.add(k + 1)  # ping's icmp_seq starts at 1
    return lost


def run(seed):
    with Netns() as ns, Stack(ns, "--impair", f"out:loss=20%,seed={seed}") as st:
        r = ping(ns, 4, "-c", str(N), "-i", "0.002", "-W", "1", check=False)
        got = {int(m) for m in re.findall(r"icmp_seq=(\d+)", r.stdout)}
        s = st.stats()
        return set(range(1, N + 1)) - got, s


@pytest.mark.timeout(90)
def test_stack_impair_loss_matches_seed_and_repeats():
    want = expected_lost(7, N, 200000)
    lost1, s1 = run(7)
    lost2, _ = run(7)
    assert lost1 == want
    assert lost2 == lost1
    assert c(s1, "impair_out_loss") == len(want)
    # and the seed's expectation is what 20 % means: binomial(400, 0.2), 4 sd
    assert 80 - 32 <= len(want) <= 80 + 32
    lost3, _ = run(8)
    assert lost3 == expected_lost(8, N, 200000) and lost3 != lost1


@pytest.mark.timeout(60)
def test_stack_impair_delay_and_duplicates_in_both_directions():
    with Netns() as ns, Stack(ns, "--impair", "delay=20,jitter=2,dup=50%,seed=3") as st:
        r = ping(ns, 4, "-c", "20", "-i", "0.01", "-W", "2", check=False)
        rtts = [float(x) for x in re.findall(r"time=([\d.]+) ms", r.stdout)]
        assert rtts and min(rtts) >= 40.0, r.stdout   # 20 ms each way
        assert "DUP!" in r.stdout
        s = st.stats()
        assert c(s, "impair_in_dup") > 0 and c(s, "impair_out_dup") > 0
        assert c(s, "impair_in_delayed") >= 20
