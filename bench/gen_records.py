#!/usr/bin/env python3
"""bench/gen_records.py N SEED > file.jsonl - N synthetic vigil service records
(layer-7 shaped: http, some tls, products, verdicts, vulns, country/asn/org),
deterministic for a seed, addresses in 198.18.0.0/15 and documentation space."""
import json, random, sys

n = int(sys.argv[1]); rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
countries = ["DE", "US", "FR", "NL", "GB", "JP", "BR", "IN", "CA", "AU"]
orgs = ["EXAMPLE-NET", "DOC-ISP", "TEST-HOSTING", "SAMPLE-CLOUD", "LAB-TELECOM"]
products = [None, None, None, "sharepoint", "nginx", "apache", "iis"]
verdicts = ["vulnerable", "july8-only", "patched", "patch-unknown", "eol"]
titles = ["Home", "Welcome to nginx!", "IIS Windows Server", "Sign In", "Apache2 Debian Default Page", "Dashboard"]
servers = ["nginx/1.22.1", "Microsoft-IIS/10.0", "Apache/2.4.57 (Debian)", "cloudflare"]
out = sys.stdout
for i in range(n):
    # distinct (ip, port) for the first 2^20 records: the index keeps one
    # row per (scan, ip, port), like a real scan
    ip = (198 << 24) | (18 << 16) | ((i * 40503) % (1 << 17))
    port = [80, 443, 8080, 8443, 22, 8000, 8888, 21][(i >> 17) % 8]
    d = {"ip": "%d.%d.%d.%d" % (ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255), "port": port,
         "transport": "tcp", "timestamp": "2026-%02d-%02dT%02d:00:00Z" % (rnd.randint(1, 10), rnd.randint(1, 28), rnd.randint(0, 23))}
    if port == 22:
        d["banner"] = "SSH-2.0-OpenSSH_9.%d" % rnd.randint(0, 6)
    else:
        if port in (443, 8443):
            d["tls"] = {"version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384",
                        "cert": {"subject_cn": "host%d.example.test" % rnd.randrange(5000), "sans": [],
                                 "issuer_cn": "Example CA", "not_before": "2026-01-01T00:00:00Z",
                                 "not_after": "2027-01-01T00:00:00Z", "sha256": "%064x" % rnd.getrandbits(256)}}
        prod = rnd.choice(products)
        hdrs = [["Server", rnd.choice(servers)], ["Content-Type", "text/html"]]
        if prod == "sharepoint":
            hdrs.append(["MicrosoftSharePointTeamServices", "16.0.0.%d" % rnd.choice([10417, 18526, 5513])])
            hdrs.append(["SPRequestGuid", "%08x-0000-0000-0000-000000000000" % rnd.getrandbits(32)])
        # a long tail of titles, as on the internet: a few common ones, many rare
        title = rnd.choice(titles) if rnd.random() < 0.3 else "%s %d - %s" % (
            rnd.choice(["Portal", "Intranet", "Login", "Webmail", "Router", "Camera", "Shop"]),
            rnd.randrange(20000), rnd.choice(["Example Corp", "Sample Ltd", "Test GmbH", "Demo SA"]))
        d["http"] = {"status": rnd.choice([200, 200, 200, 301, 403, 404]), "title": title,
                     "server": hdrs[0][1], "headers": hdrs, "body_sha256": "%064x" % rnd.getrandbits(256),
                     "body_len": rnd.randrange(100, 50000)}
        if rnd.random() < 0.3:
            d["http"]["favicon_hash"] = rnd.choice([-1137101736, 116323821, 1485257654, -297069493])
        d["country"] = rnd.choice(countries); d["asn"] = 64496 + rnd.randrange(16); d["org"] = rnd.choice(orgs)
        if prod:
            d["product"] = prod
        if prod == "sharepoint":
            v = rnd.choice(verdicts)
            d["version"] = rnd.choice(["16.0.10417.20027", "16.0.10417.20037", "16.0.18526.20424"])
            d["version_source"] = "buildversion.cnf"
            d["toolshell"] = {"verdict": v, "compromised": None, "evidence": ["synthetic"]}
            d["vulns"] = {"vulnerable": ["CVE-2025-49706", "CVE-2025-53770", "CVE-2025-53771"],
                          "july8-only": ["CVE-2025-53770", "CVE-2025-53771"]}.get(v, [])
    out.write(json.dumps(d, separators=(",", ":")) + "\n")
