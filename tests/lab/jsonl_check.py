#!/usr/bin/env python3
"""Check vigil JSON Lines output against the lab's expected open set.

usage: jsonl_check.py LABEL PORTS FILE [FILE...]
  PORTS: comma list of ports, e.g. 80 or 80,443
  Lab truth: 198.19.x.y port 80 open iff y % 8 == 0, port 443 open iff y % 64 == 0.

Prints TAP-like lines ("ok - LABEL: ..." / "not ok - LABEL: ..."):
  * every line is a JSON object with ip, port (int), transport "tcp",
    timestamp RFC 3339 UTC ending in Z
  * no (ip, port) twice inside one file
  * no (ip, port) in two different files (only when more than one FILE)
  * union of FILES equals the expected set exactly
"""
import ipaddress
import json
import re
import sys

TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def expected(ports):
    out = set()
    for p in ports:
        step = {80: 8, 443: 64}.get(p)
        if step is None:
            continue
        for x in range(256):
            for y in range(0, 256, step):
                out.add((f"198.19.{x}.{y}", p))
    return out


def tap(ok, msg):
    print(("ok - " if ok else "not ok - ") + msg)


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    label, ports, files = sys.argv[1], [int(p) for p in sys.argv[2].split(",")], sys.argv[3:]
    exp = expected(ports)
    union = set()
    bad = []
    dup_in_file = []
    cross = []
    seen_by = {}
    nlines = 0
    for f in files:
        mine = set()
        try:
            fh = open(f, encoding="utf-8", errors="replace")
        except OSError as e:
            bad.append(f"{f}: {e}")
            continue
        with fh:
            for i, line in enumerate(fh, 1):
                line = line.rstrip("\n")
                if not line.strip():
                    continue
                nlines += 1
                try:
                    o = json.loads(line)
                except ValueError:
                    bad.append(f"{f}:{i}: not JSON: {line[:120]!r}")
                    continue
                if not isinstance(o, dict):
                    bad.append(f"{f}:{i}: not an object")
                    continue
                problems = []
                ip = o.get("ip")
                try:
                    ipaddress.IPv4Address(ip)
                except Exception:
                    problems.append(f"ip={ip!r}")
                port = o.get("port")
                if not isinstance(port, int) or isinstance(port, bool) or port not in ports:
                    problems.append(f"port={port!r}")
                if o.get("transport") != "tcp":
                    problems.append(f"transport={o.get('transport')!r}")
                ts = o.get("timestamp")
                if not isinstance(ts, str) or not TS.match(ts):
                    problems.append(f"timestamp={ts!r}")
                if problems:
                    bad.append(f"{f}:{i}: " + ", ".join(problems))
                    continue
                k = (ip, port)
                if k in mine:
                    dup_in_file.append(f"{f}: {ip}:{port}")
                mine.add(k)
                if k in seen_by and seen_by[k] != f:
                    cross.append(f"{ip}:{port} in {seen_by[k]} and {f}")
                seen_by.setdefault(k, f)
        union |= mine
    tap(not bad, f"{label}: {nlines} lines, all valid JSON with ip/port/transport=tcp/timestamp(Z)"
        + ("" if not bad else f" ({len(bad)} bad, first: {bad[0]})"))
    tap(not dup_in_file, f"{label}: no duplicate (ip,port) within a file"
        + ("" if not dup_in_file else f" ({len(dup_in_file)} dups, first: {dup_in_file[0]})"))
    if len(files) > 1:
        tap(not cross, f"{label}: no (ip,port) in two files"
            + ("" if not cross else f" ({len(cross)} shared, first: {cross[0]})"))
    missing = sorted(exp - union)
    extra = sorted(union - exp)
    tap(not missing and not extra,
        f"{label}: found set equals expected ({len(union)} found, {len(exp)} expected"
        + (f", {len(missing)} missing e.g. {missing[:3]}" if missing else "")
        + (f", {len(extra)} unexpected e.g. {extra[:3]}" if extra else "") + ")")


if __name__ == "__main__":
    main()
