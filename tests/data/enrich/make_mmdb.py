#!/usr/bin/env python3
"""make_mmdb.py [OUTDIR] - writes the tiny MaxMind DB files that
tests/unit/test_enrich.c reads (standard library only; no writer package).

Implements the writing side of the MaxMind DB format 2.0 (search tree of
24/28/32-bit records, 16-byte separator, data section, metadata after
"\\xab\\xcd\\xefMaxMind.com"). Only documentation addresses (198.18.0.0/15,
192.0.2.0/24) and private-use AS numbers (64496-64511) appear.

Files:
  country.mmdb   GeoLite2-Country style, IPv6 tree, 24-bit records
  asn.mmdb       GeoLite2-ASN style, IPv4 tree, 28-bit records
  ipinfo.mmdb    IPinfo country_asn / Lite style, IPv6 tree, 32-bit records
  bad_tree.mmdb  valid metadata, search tree pointing past the data section
  bad_data.mmdb  valid tree, one record (198.18.5.0/24) with a broken string
The output is deterministic (fixed build_epoch), so regenerating gives the
same bytes.
"""
import ipaddress
import os
import struct
import sys

T_PTR, T_STR, T_DOUBLE, T_BYTES, T_U16, T_U32, T_MAP, T_I32, T_U64 = 1, 2, 3, 4, 5, 6, 7, 8, 9
T_ARRAY, T_BOOL = 11, 14


class U16(int):
    pass


class U64(int):
    pass


class Raw(bytes):
    """Already-encoded bytes, inserted as is (used to write broken data)."""


def ctrl(typ, size):
    ext = b""
    if typ <= 7:
        first = typ << 5
    else:
        first = 0
        ext = bytes([typ - 7])
    if size < 29:
        first |= size
        sz = b""
    elif size < 29 + 256:
        first |= 29
        sz = bytes([size - 29])
    elif size < 285 + 65536:
        first |= 30
        sz = (size - 285).to_bytes(2, "big")
    else:
        first |= 31
        sz = (size - 65821).to_bytes(3, "big")
    return bytes([first]) + ext + sz


def uint_bytes(v):
    n = (v.bit_length() + 7) // 8
    return v.to_bytes(n, "big") if n else b""


def enc(v):
    if isinstance(v, Raw):
        return bytes(v)
    if isinstance(v, bool):
        return ctrl(T_BOOL, int(v))
    if isinstance(v, str):
        b = v.encode("utf-8")
        return ctrl(T_STR, len(b)) + b
    if isinstance(v, dict):
        out = ctrl(T_MAP, len(v))
        for k, val in v.items():
            out += enc(k) + enc(val)
        return out
    if isinstance(v, list):
        out = ctrl(T_ARRAY, len(v))
        for val in v:
            out += enc(val)
        return out
    if isinstance(v, float):
        return ctrl(T_DOUBLE, 8) + struct.pack(">d", v)
    if isinstance(v, U16):
        b = uint_bytes(v)
        return ctrl(T_U16, len(b)) + b
    if isinstance(v, U64):
        b = uint_bytes(v)
        return ctrl(T_U64, len(b)) + b
    if isinstance(v, int):
        b = uint_bytes(v)
        return ctrl(T_U32, len(b)) + b
    raise TypeError(type(v))


def build(networks, ip_version, record_size, db_type, bad_tree=False):
    """networks: list of (cidr, value). Returns the file bytes."""
    data = b""
    leaves = []
    for cidr, value in networks:
        net = ipaddress.ip_network(cidr)
        bits = format(int(net.network_address), "032b")[: net.prefixlen]
        if ip_version == 6:
            bits = "0" * 96 + bits
        leaves.append((bits, len(data)))
        data += enc(value)
    nodes = [[None, None]]  # each record: None (empty), ("n", idx), ("d", offset)
    for bits, off in leaves:
        cur = 0
        for i, b in enumerate(bits):
            side = int(b)
            if i == len(bits) - 1:
                if nodes[cur][side] is not None:
                    raise ValueError("overlapping networks")
                nodes[cur][side] = ("d", off)
            else:
                rec = nodes[cur][side]
                if rec is None:
                    nodes.append([None, None])
                    nodes[cur][side] = ("n", len(nodes) - 1)
                    rec = nodes[cur][side]
                if rec[0] != "n":
                    raise ValueError("network inside another")
                cur = rec[1]
    count = len(nodes)

    def val(rec):
        if rec is None:
            return count
        if rec[0] == "n":
            return rec[1]
        return count + 16 + rec[1]

    tree = b""
    for left, right in nodes:
        lv, rv = val(left), val(right)
        if bad_tree and tree == b"":
            lv = rv = count + 16 + len(data) + 1000  # past the data section
        if record_size == 24:
            tree += lv.to_bytes(3, "big") + rv.to_bytes(3, "big")
        elif record_size == 28:
            tree += (lv & 0xFFFFFF).to_bytes(3, "big") + bytes([(lv >> 24) << 4 | (rv >> 24)])
            tree += (rv & 0xFFFFFF).to_bytes(3, "big")
        else:
            tree += lv.to_bytes(4, "big") + rv.to_bytes(4, "big")
    meta = {
        "node_count": count,
        "record_size": U16(record_size),
        "ip_version": U16(ip_version),
        "database_type": db_type,
        "languages": ["en"],
        "binary_format_major_version": U16(2),
        "binary_format_minor_version": U16(0),
        "build_epoch": U64(1700000000),
        "description": {"en": "vigil test data: " + db_type},
    }
    return tree + b"\0" * 16 + data + b"\xab\xcd\xefMaxMind.com" + enc(meta)


def geo(cc, name):
    return {"iso_code": cc, "geoname_id": 1, "names": {"en": name}}


COUNTRY = [
    ("198.18.0.0/24", {"continent": {"code": "EU"}, "country": geo("DE", "Germany"),
                       "registered_country": geo("DE", "Germany")}),
    ("198.18.1.0/24", {"registered_country": geo("NL", "Netherlands")}),
    ("198.18.2.0/23", {"country": geo("se", "Sweden")}),
    ("192.0.2.0/25", {"country": geo("XYZ", "Nowhere")}),
    ("192.0.2.128/25", {"country": geo("JP", "Japan"), "location": {"latitude": 35.5, "longitude": 139.5}}),
    ("198.19.0.0/16", {"country": geo("US", "United States"), "registered_country": geo("CA", "Canada")}),
]

ASN = [
    ("198.18.0.0/23", {"autonomous_system_number": 64496, "autonomous_system_organization": "Example Transit"}),
    ("198.18.4.0/24", {"autonomous_system_number": U16(64497),
                       "autonomous_system_organization": "Ex\u00e4mple Hosting GmbH"}),
    ("192.0.2.0/24", {"autonomous_system_number": 64511, "autonomous_system_organization": "Evil\x01Org\nName  "}),
    ("198.19.0.0/17", {"autonomous_system_number": U64(64500)}),
]

IPINFO = [
    ("198.18.8.0/24", {"asn": "AS64498", "as_name": "Example Cloud", "as_domain": "example.net",
                       "country": "SE", "country_name": "Sweden", "continent": "EU"}),
    ("198.18.9.0/24", {"asn": "AS64499", "as_name": "Example ISP", "as_domain": "example.org",
                       "country_code": "NO", "country": "Norway", "continent_code": "EU"}),
    ("198.18.10.0/24", {"asn": "", "country": "Atlantis"}),
]

BAD_DATA = [
    ("198.18.0.0/24", {"country": geo("DE", "Germany"), "autonomous_system_number": 64496}),
    # a map whose first key claims 60000 bytes: runs off the data section
    ("198.18.5.0/24", Raw(ctrl(T_MAP, 2) + ctrl(T_STR, 60000) + b"country")),
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    files = {
        "country.mmdb": build(COUNTRY, 6, 24, "GeoLite2-Country"),
        "asn.mmdb": build(ASN, 4, 28, "GeoLite2-ASN"),
        "ipinfo.mmdb": build(IPINFO, 6, 32, "ipinfo country_asn.mmdb"),
        "bad_tree.mmdb": build(COUNTRY, 4, 24, "GeoLite2-Country", bad_tree=True),
        "bad_data.mmdb": build(BAD_DATA, 4, 24, "GeoLite2-City"),
    }
    for name, blob in files.items():
        tmp = os.path.join(out, name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(blob)
        os.replace(tmp, os.path.join(out, name))


if __name__ == "__main__":
    main()
