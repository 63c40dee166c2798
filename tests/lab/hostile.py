#!/usr/bin/env python3
"""tests/lab/hostile.py - a farm of hostile servers for vigil's robustness
tests (issue 5: vigil never crashes, never hangs, never lets a remote server
grow its memory without bound, never loses stored results).

Python 3 asyncio, standard library only (plus `ssl`; the `openssl` command
generates the certificates at start-up). It is meant to run inside the lab's
TARGET network namespace (tests/lab/lab.sh), where it listens on 0.0.0.0 on
every port of the table below. The lab's nftables rules only touch ports 80
and 443, so every port here answers on every 198.19.x.y address of the lab
(and on the veth address 198.18.0.2); tests/e2e/hostile.sh scans 198.19.7.0.
Nothing here ever sends a packet anywhere: it only answers connections.

One hostile behaviour per port. "first" says which probe vigil starts with on
that port (src/probe/probe.c): http = GET / at once; tls = ClientHello at
once; banner = wait 2 s for a greeting, then GET / if the server is silent.

  port  first   case             behaviour
  ----  ------  ---------------  ----------------------------------------------
  8000  http    control          normal HTTP/1.1 keep-alive server: 200, title
                                 "vigil hostile control", 404 for /favicon.ico
  10000 banner  control_late     the same control on a port where vigil first
                                 waits for a greeting, then sends GET /
  81    http    endless_headers  "200 OK" then header lines as fast as the peer
                                 reads, never ending the header section
  591   http    tarpit           status line and headers one byte per second,
                                 forever (defeats an idle read timeout)
  3000  http    chunked_forever  Transfer-Encoding: chunked, 4 KiB chunks forever
  5000  http    cl_huge_stream   Content-Length: 9223372036854775807, body
                                 streamed forever
  5985  http    body_50mb        200 with a 50 MB body (Content-Length 52428800)
  7001  http    big_header_line  one 1 MiB header line, then a normal end
  8008  http    many_headers     10,000 headers ("X:1", 50 KB: under the 64 KiB
                                 header byte cap, far over the 100-header cap)
  8080  http    nul_utf8         NUL bytes and invalid UTF-8 in the status
                                 reason, header values, Server and <title>
  8081  http    escape_title     terminal escapes (ESC]0;pwned BEL ESC[2J ESC[31m)
                                 in <title>, Server and another header
  8088  http    reset_mid        half of the headers, then close with
                                 SO_LINGER 0 (TCP RST)
  8888  http    chunk_2p60       chunked with a chunk size of 2^60
                                 (1000000000000000 hex), then data forever
  9000  http    cl_more          Content-Length 100000, sends 10 bytes, then
                                 holds the connection open silently
  9200  http    cl_less          Content-Length 5, sends 60 bytes (the extra
                                 bytes poison a keep-alive connection)
  22    banner  escape_ssh       SSH-like greeting with terminal escapes and a
                                 NUL, then silence
  2222  banner  silent           accepts, never speaks, never closes (120 s)
  10001 banner  cl_negative      Content-Length: -1
  10002 banner  cl_nonnumeric    Content-Length: abc
  10003 banner  cl_conflict      two Content-Length headers (5 and 500)
  10004 banner  chunk_badhex     chunked, chunk size "zz"
  10005 banner  chunk_nocrlf     chunked, chunk data not followed by CRLF
  10006 banner  nul_names        NUL, 0xff and escapes inside header NAMES
  8443  tls     tls_garbage      answers the ClientHello with 8 KiB of random
                                 bytes (no ServerHello)
  9443  tls     tls_alert        answers the ClientHello with a fatal TLS alert
                                 (handshake_failure)
  10443 tls     tls_sans         real TLS (self-signed, generated with openssl
                                 at start-up) whose certificate carries 4000
                                 SANs, then a normal HTTP 200

Every connection ends after at most --lifetime seconds (default 120) so the
farm never accumulates state either; it logs one line per connection on
stderr (port, case, bytes sent, how it ended).

Usage (inside the target namespace):
  hostile.py [--dir DIR] [--ready-file FILE] [--only NAME,...]
  hostile.py --list            print "port first case" lines and exit
"""
import argparse
import asyncio
import os
import socket
import ssl
import struct
import subprocess
import sys
import time

LIFETIME = 120.0

ESC = b"\x1b]0;pwned\x07\x1b[2J\x1b[31m"
CONTROL_TITLE = b"vigil hostile control"


def log(*a):
    print("hostile:", *a, file=sys.stderr, flush=True)


async def read_request(reader, timeout=15.0):
    """Read one request head (up to the blank line); None on EOF/timeout."""
    try:
        return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    except (asyncio.TimeoutError, asyncio.IncompleteReadError,
            asyncio.LimitOverrunError, ConnectionError, OSError):
        return None


class Conn:
    """A connection with a byte counter."""

    def __init__(self, reader, writer):
        self.reader, self.writer, self.sent = reader, writer, 0

    async def send(self, data):
        self.writer.write(data)
        self.sent += len(data)
        await self.writer.drain()


def head(status=b"200 OK", headers=(), length=None, chunked=False, close=True):
    h = b"HTTP/1.1 " + status + b"\r\n"
    for k, v in headers:
        h += k + b": " + v + b"\r\n"
    if length is not None:
        h += b"Content-Length: " + str(length).encode() + b"\r\n"
    if chunked:
        h += b"Transfer-Encoding: chunked\r\n"
    if close:
        h += b"Connection: close\r\n"
    return h + b"\r\n"


def page(title):
    return b"<html><head><title>" + title + b"</title></head><body>hostile</body></html>\n"


# ---------------------------------------------------------------- behaviours

async def control(c):
    while True:
        req = await read_request(c.reader)
        if req is None:
            return "client closed"
        path = req.split(b" ")[1] if req.count(b" ") >= 2 else b"/"
        if path == b"/":
            body = page(CONTROL_TITLE)
            await c.send(head(b"200 OK", [(b"Server", b"vigil-hostile-control"),
                                          (b"Content-Type", b"text/html")], len(body), close=False) + body)
        else:
            body = b"not found\n"
            await c.send(head(b"404 Not Found", [(b"Server", b"vigil-hostile-control")],
                              len(body), close=False) + body)


async def endless_headers(c):
    await read_request(c.reader)
    await c.send(b"HTTP/1.1 200 OK\r\nServer: endless\r\n")
    batch = b"X-Endless: " + b"a" * 100 + b"\r\n"
    batch *= 64 * 1024 // len(batch)
    while True:
        await c.send(batch)


async def tarpit(c):
    await read_request(c.reader)
    line = b"HTTP/1.1 200 OK\r\nServer: tarpit\r\n"
    i = 0
    while True:
        for b in line:
            await c.send(bytes([b]))
            await asyncio.sleep(1.0)
        line = b"X-Tarpit-%d: slow\r\n" % i
        i += 1


async def chunked_forever(c):
    await read_request(c.reader)
    await c.send(head(chunked=True))
    chunk = (b"1000\r\n" + b"c" * 4096 + b"\r\n") * 16
    while True:
        await c.send(chunk)


async def cl_huge_stream(c):
    await read_request(c.reader)
    await c.send(head(length=9223372036854775807))
    block = b"h" * 65536
    while True:
        await c.send(block)


async def body_50mb(c):
    await read_request(c.reader)
    size = 50 * 1024 * 1024
    await c.send(head(headers=[(b"Content-Type", b"text/html")], length=size))
    block = (b"<html><head><title>fifty megabytes</title></head>" + b"x" * 65536)[:65536]
    left = size
    while left > 0:
        n = min(left, len(block))
        await c.send(block[:n])
        left -= n
    return "sent whole body"


async def big_header_line(c):
    await read_request(c.reader)
    body = page(b"after a big header")
    await c.send(b"HTTP/1.1 200 OK\r\nX-Big: " + b"B" * (1024 * 1024) + b"\r\n"
                 + b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    return "sent"


async def many_headers(c):
    await read_request(c.reader)
    body = page(b"ten thousand headers")
    await c.send(b"HTTP/1.1 200 OK\r\n" + b"X:1\r\n" * 10000
                 + b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    return "sent"


async def nul_utf8(c):
    await read_request(c.reader)
    body = (b"<html><head><title>nul\x00 \xff\xfe \xc3\x28 \xed\xa0\x80 \xc0\xaf end</title>"
            b"</head><body>\x00\xff</body></html>\n")
    await c.send(b"HTTP/1.1 200 O\x00K \xff\xfe\xc3\x28\r\n"
                 b"Server: ev\x00il \xff\xfe \xc0\xaf\r\n"
                 b"X-Value: a\x00b\xffc\xed\xa0\x80d\r\n"
                 b"Content-Type: text/html\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    return "sent"


async def escape_title(c):
    await read_request(c.reader)
    body = b"<html><head><title>" + ESC + b"owned</title></head><body>" + ESC + b"</body></html>\n"
    await c.send(b"HTTP/1.1 200 OK\x1b[2J\r\n"
                 b"Server: " + ESC + b"evil\r\n"
                 b"X-Term: \x07\x07\x1b[5m" + ESC + b"\r\n"
                 b"Content-Type: text/html\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    return "sent"


async def reset_mid(c):
    await read_request(c.reader)
    await c.send(b"HTTP/1.1 200 OK\r\nServer: reset\r\nX-Half: one\r\nX-Ha")
    await asyncio.sleep(0.2)
    sock = c.writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.writer.transport.abort()
    return "reset (SO_LINGER 0)"


async def chunk_2p60(c):
    await read_request(c.reader)
    await c.send(head(chunked=True) + b"1000000000000000\r\n")
    block = b"z" * 65536
    while True:
        await c.send(block)


async def cl_more(c):
    await read_request(c.reader)
    await c.send(head(length=100000) + b"0123456789")
    await asyncio.sleep(LIFETIME)
    return "held"


async def cl_less(c):
    await read_request(c.reader)
    await c.send(head(length=5, close=False) + b"hello" + b" EXTRA HTTP/1.1 999 junk\r\n" * 2)
    await asyncio.sleep(LIFETIME)
    return "held"


async def cl_negative(c):
    await read_request(c.reader)
    await c.send(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\nConnection: close\r\n\r\n" + page(b"negative"))
    return "sent"


async def cl_nonnumeric(c):
    await read_request(c.reader)
    await c.send(b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\nConnection: close\r\n\r\n" + page(b"non-numeric"))
    return "sent"


async def cl_conflict(c):
    await read_request(c.reader)
    await c.send(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 500\r\n"
                 b"Connection: close\r\n\r\n" + page(b"conflict"))
    return "sent"


async def chunk_badhex(c):
    await read_request(c.reader)
    await c.send(head(chunked=True) + b"zz\r\nhello\r\n0\r\n\r\n")
    return "sent"


async def chunk_nocrlf(c):
    await read_request(c.reader)
    await c.send(head(chunked=True) + b"5\r\nhelloXX6\r\nworld!0\r\n\r\n")
    return "sent"


async def nul_names(c):
    await read_request(c.reader)
    body = page(b"bad names")
    await c.send(b"HTTP/1.1 200 OK\r\n"
                 b"X-N\x00ame: v\r\n"
                 b"\xff\xfe: w\r\n"
                 b"X-\x1b]0;pwned\x07: x\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    return "sent"


async def escape_ssh(c):
    await c.send(b"SSH-2.0-OpenSSH_9.9 " + ESC + b"\x00pwned\r\n")
    await asyncio.sleep(LIFETIME)
    return "held"


async def silent(c):
    await asyncio.sleep(LIFETIME)
    return "held"


async def tls_garbage(c):
    try:
        await asyncio.wait_for(c.reader.read(4096), 10)
    except (asyncio.TimeoutError, ConnectionError, OSError):
        pass
    await c.send(os.urandom(8192))
    await asyncio.sleep(5)
    return "sent garbage"


async def tls_alert(c):
    try:
        await asyncio.wait_for(c.reader.read(4096), 10)
    except (asyncio.TimeoutError, ConnectionError, OSError):
        pass
    # TLS 1.2 record, content type alert (21), level fatal (2), handshake_failure (40)
    await c.send(b"\x15\x03\x03\x00\x02\x02\x28")
    return "sent alert"


async def tls_sans(c):
    # the handshake is done by asyncio (start_server(ssl=...)); answer like the control
    return await control(c)


# port, first probe, case, coroutine, uses TLS
CASES = [
    (8000, "http", "control", control, False),
    (10000, "banner", "control_late", control, False),
    (81, "http", "endless_headers", endless_headers, False),
    (591, "http", "tarpit", tarpit, False),
    (3000, "http", "chunked_forever", chunked_forever, False),
    (5000, "http", "cl_huge_stream", cl_huge_stream, False),
    (5985, "http", "body_50mb", body_50mb, False),
    (7001, "http", "big_header_line", big_header_line, False),
    (8008, "http", "many_headers", many_headers, False),
    (8080, "http", "nul_utf8", nul_utf8, False),
    (8081, "http", "escape_title", escape_title, False),
    (8088, "http", "reset_mid", reset_mid, False),
    (8888, "http", "chunk_2p60", chunk_2p60, False),
    (9000, "http", "cl_more", cl_more, False),
    (9200, "http", "cl_less", cl_less, False),
    (22, "banner", "escape_ssh", escape_ssh, False),
    (2222, "banner", "silent", silent, False),
    (10001, "banner", "cl_negative", cl_negative, False),
    (10002, "banner", "cl_nonnumeric", cl_nonnumeric, False),
    (10003, "banner", "cl_conflict", cl_conflict, False),
    (10004, "banner", "chunk_badhex", chunk_badhex, False),
    (10005, "banner", "chunk_nocrlf", chunk_nocrlf, False),
    (10006, "banner", "nul_names", nul_names, False),
    (8443, "tls", "tls_garbage", tls_garbage, False),
    (9443, "tls", "tls_alert", tls_alert, False),
    (10443, "tls", "tls_sans", tls_sans, True),
]

NSANS = 4000


def make_cert(d):
    """Self-signed EC certificate with NSANS subjectAltNames (openssl CLI)."""
    os.makedirs(d, exist_ok=True)
    cert, key, cnf = (os.path.join(d, n) for n in ("sans.crt", "sans.key", "sans.cnf"))
    if os.path.exists(cert) and os.path.exists(key):
        return cert, key
    with open(cnf, "w") as f:
        f.write("[req]\ndistinguished_name=dn\nx509_extensions=ext\nprompt=no\n"
                "[dn]\nCN=hostile-sans.lab.test\n"
                "[ext]\nsubjectAltName=@alt\nbasicConstraints=CA:FALSE\n[alt]\n")
        for i in range(NSANS):
            f.write("DNS.%d=s%d.h.test\n" % (i + 1, i))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-keyout", key, "-out", cert, "-config", cnf],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def make_handler(port, name, fn):
    async def handler(reader, writer):
        c = Conn(reader, writer)
        peer = writer.get_extra_info("peername")
        t0 = time.monotonic()
        try:
            how = await asyncio.wait_for(fn(c), LIFETIME)
        except asyncio.TimeoutError:
            how = "lifetime over"
        except (ConnectionError, OSError) as e:
            how = "peer gone (%s)" % e.__class__.__name__
        except ssl.SSLError as e:
            how = "tls error (%s)" % e
        except Exception as e:  # never let one connection kill the farm
            how = "error %r" % e
        try:
            writer.close()
        except Exception:
            pass
        log("port=%d case=%s peer=%s sent=%d secs=%.1f end=%s"
            % (port, name, peer[0] if peer else "?", c.sent, time.monotonic() - t0, how))
    return handler


async def main_async(args):
    only = set(args.only.split(",")) if args.only else None
    servers = []
    for port, first, name, fn, use_tls in CASES:
        if only and name not in only:
            continue
        ctx = None
        if use_tls:
            cert, key = make_cert(args.dir)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
        srv = await asyncio.start_server(make_handler(port, name, fn), "0.0.0.0", port,
                                         ssl=ctx, reuse_address=True, backlog=1024,
                                         limit=1 << 20)
        servers.append(srv)
    log("listening on %d ports" % len(servers))
    if args.ready_file:
        with open(args.ready_file + ".tmp", "w") as f:
            f.write("ready %d\n" % os.getpid())
        os.rename(args.ready_file + ".tmp", args.ready_file)
    await asyncio.gather(*(s.serve_forever() for s in servers))


def main():
    global LIFETIME
    ap = argparse.ArgumentParser(description="hostile server farm (see the table atop this file)")
    ap.add_argument("--dir", default="/tmp/vigil-hostile", help="where the certificate is generated")
    ap.add_argument("--ready-file", help="written once every port listens")
    ap.add_argument("--only", help="comma-separated case names")
    ap.add_argument("--lifetime", type=float, default=LIFETIME, help="max seconds per connection")
    ap.add_argument("--list", action="store_true", help="print 'port first case' lines and exit")
    args = ap.parse_args()
    LIFETIME = args.lifetime
    if args.list:
        for port, first, name, _, _ in CASES:
            print(port, first, name)
        return 0
    try:
        asyncio.run(main_async(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
