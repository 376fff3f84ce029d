"""Raw HTTP clients for test_exporter_http.py, run inside the test's namespace.

usage: exporter_http_client.py MODE PORT [ARGS]; prints one JSON object.
Each mode is a client behaviour a user would notice: keep-alive, pipelining,
HEAD, malformed requests, slowloris, a reader that stops reading.
"""
import json
import socket
import sys
import time


def read_response(f, head_only=False):
    """(status, headers, body) of one response from file-like f."""
    line = f.readline()
    if not line:
        return None
    status = int(line.split()[1])
    headers = {}
    while True:
        h = f.readline()
        if h in (b"\r\n", b""):
            break
        k, _, v = h.decode().partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    body = b"" if head_only else f.read(n)
    return status, headers, body


def closed_within(s, seconds):
    """True when the server closes s (EOF or reset) within seconds."""
    s.settimeout(0.05)
    end = time.time() + seconds
    while time.time() < end:
        try:
            if s.recv(65536) == b"":
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


def conn(port, src="127.0.0.1", timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                 source_address=(src, 0))
    return s


def keepalive(port):
    s = conn(port)
    f = s.makefile("rb")
    out = []
    for _ in range(3):
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
        st, h, body = read_response(f)
        out.append([st, h.get("content-type"), len(body), h.get("date") is not None,
                    body.count(b"smokeping_requests_total")])
    s.close()
    return {"scrapes": out}


def pipelined(port):
    s = conn(port)
    s.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: t\r\n\r\n"
              b"GET /metrics?x=1&y=2 HTTP/1.1\r\nHost: t\r\n\r\n"
              b"HEAD /metrics HTTP/1.1\r\nHost: t\r\n\r\n"
              b"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"
              b"GET /-/ready HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    f = s.makefile("rb")
    res = []
    for head_only in (False, False, True, False, False):
        st, h, body = read_response(f, head_only)
        res.append({"status": st, "length": int(h["content-length"]), "body": body[:40].decode(),
                    "connection": h.get("connection")})
    rest = f.read()  # the server closes after the last: nothing more, no HEAD body
    s.close()
    return {"responses": res, "rest": len(rest)}


def raw(port, payload, src="127.0.0.1"):
    """Status line of the answer to payload, and whether the server then closes."""
    s = conn(port, src)
    try:
        s.sendall(payload)
    except OSError:
        pass  # a big head may be cut short by the answer and the close
    f = s.makefile("rb")
    r = read_response(f)
    closed = closed_within(s, 3)
    s.close()
    return {"status": r[0] if r else None, "body": r[2].decode() if r else "",
            "connection": r[1].get("connection") if r else None, "closed": closed}


def bad(port):
    big = b"GET /metrics HTTP/1.1\r\nHost: t\r\nX-Pad: " + b"a" * 40000 + b"\r\n\r\n"
    return {
        "garbage": raw(port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n"),
        "bare_words": raw(port, b"hello there\r\n\r\n"),
        "big_header": raw(port, big),
        "chunked": raw(port, b"POST /-/reload HTTP/1.1\r\nHost: t\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        "no_host": raw(port, b"GET /metrics HTTP/1.1\r\n\r\n"),
        "http2_preface": raw(port, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
        "http2": raw(port, b"GET /metrics HTTP/2.0\r\nHost: t\r\n\r\n"),
        "bad_target": raw(port, b"GET metrics HTTP/1.1\r\nHost: t\r\n\r\n"),
        "reload_get": raw(port, b"GET /-/reload HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
    }


def limits(port):
    """--max-connections 4: one per client address, four in all."""
    held = [conn(port, "127.0.0.1")]
    time.sleep(0.2)
    second = conn(port, "127.0.0.1")
    t0 = time.time()
    per_client_closed = closed_within(second, 2)
    per_client_s = time.time() - t0
    for a in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
        held.append(conn(port, a))
    time.sleep(0.2)
    fifth = conn(port, "127.0.0.5")
    t0 = time.time()
    total_closed = closed_within(fifth, 2)
    total_s = time.time() - t0
    # the held ones still serve
    held[1].sendall(b"GET /-/healthy HTTP/1.1\r\nHost: t\r\n\r\n")
    st = read_response(held[1].makefile("rb"))[0]
    for s in held:
        s.close()
    return {"per_client_closed": per_client_closed, "per_client_s": per_client_s,
            "total_closed": total_closed, "total_s": total_s, "held_status": st}


def hostile(port):
    """A slowloris and a reader that never reads a large /metrics, while a
    third client scrapes; then how long until the server dropped each."""
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.bind(("127.0.0.2", 0))
    stuck.connect(("127.0.0.1", port))
    stuck.sendall(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
    slow = conn(port, "127.0.0.3")
    slow.sendall(b"GET /metrics HTTP/1.1\r\n")
    t0 = time.time()
    scrapes = []
    slow_closed_at = None
    i = 0
    while time.time() - t0 < 7.5:
        if slow_closed_at is None:
            try:
                slow.sendall(b"X-Slow-%d: 1\r\n" % i)  # a field every 0.5 s, never the end
                i += 1
            except OSError:
                slow_closed_at = time.time() - t0
        if slow_closed_at is None:
            slow.settimeout(0.01)
            try:
                if slow.recv(1) == b"":
                    slow_closed_at = time.time() - t0
            except socket.timeout:
                pass
            except OSError:
                slow_closed_at = time.time() - t0
        a = time.time()
        s = conn(port, "127.0.0.4", timeout=10)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        st, _, body = read_response(s.makefile("rb"))
        s.close()
        scrapes.append([st, len(body), time.time() - a])
        time.sleep(0.5)
    stuck.close()
    slow.close()
    return {"scrapes": scrapes, "slow_closed_at": slow_closed_at}


if __name__ == "__main__":
    mode, port = sys.argv[1], int(sys.argv[2])
    print(json.dumps({"keepalive": keepalive, "pipelined": pipelined, "bad": bad,
                      "limits": limits, "hostile": hostile}[mode](port)))
