"""A bounded load test on 127.0.0.1: 20 concurrent clients for a fixed time against the endpoint.

The time limit and the row cap must hold while clients keep coming, no well-formed request may fail,
and the memory of the server and its query workers must stay flat. Duration: POLICYKG_LOAD_SECONDS
(default 60).
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from policykg.server import make_server
from sparql.queries import list_queries

pytestmark = pytest.mark.slow

CLIENTS = 20
SECONDS = float(os.environ.get("POLICYKG_LOAD_SECONDS", "60"))
TIME_LIMIT = 2.0
ROW_CAP = 50
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
WIDE = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"  # ~2,000 rows: the cap must cut it


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def family_rss_kib() -> int:
    """RSS of this process (which runs the server) and of its children (the query workers)."""
    me = os.getpid()
    total = rss_kib(me)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            total += rss_kib(int(stat.parent.name))
    return total


def post(url: str, query: str) -> tuple[int, dict[str, Any] | str, Message]:
    """Status, the JSON answer (or the error's one line) and the headers."""
    data = urllib.parse.urlencode({"query": query}).encode()
    req = urllib.request.Request(url + "/sparql", data=data,
                                 headers={"Accept": "application/sparql-results+json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read()), resp.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace").strip(), exc.headers


def test_twenty_clients_for_a_minute(built):
    server = make_server(built, "127.0.0.1", 0, timeout=TIME_LIMIT, limit=ROW_CAP, workers=2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    light = [q.body for q in list_queries() if q.form == "SELECT"]
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    def client(n: int) -> None:
        i = 0
        while time.monotonic() < deadline:
            if n == 0 and i % 5 == 0:
                kind, query = "runaway", RUNAWAY
            elif n == 1 and i % 3 == 0:
                kind, query = "wide", WIDE
            else:
                kind, query = "light", light[(n + i) % len(light)]
            i += 1
            started = time.monotonic()
            status, body, headers = post(server.url, query)
            elapsed = time.monotonic() - started
            with lock:
                outcomes[f"{kind}:{status}"] += 1
                if kind == "light":
                    latencies.append(elapsed)
                    if status != 200 or not isinstance(body, dict):
                        failures.append(f"{status} for {query[:60]!r}: {body if isinstance(body, str) else ''}")
                elif kind == "runaway" and status != 503:
                    failures.append(f"runaway query answered {status}")
                elif kind == "wide" and (status != 200 or not isinstance(body, dict) or len(body["results"]["bindings"]) != ROW_CAP
                                         or headers.get("X-PolicyKG-Truncated") is None):
                    failures.append(f"row cap not applied: {status}")

    try:
        for query in light:  # warm: workers, caches and the search model (pk:searchScore) are loaded
            post(server.url, query)
        before = family_rss_kib()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=SECONDS + 120)
        after = family_rss_kib()
    finally:
        server.shutdown()
        server.server_close()

    print(f"\nload: {dict(outcomes)}; light p50 {sorted(latencies)[len(latencies) // 2] * 1000:.0f} ms; "
          f"RSS {before // 1024} → {after // 1024} MiB")
    assert not failures, failures[:5]
    assert outcomes["runaway:503"] >= 2 and outcomes["wide:200"] >= 2
    assert sum(v for k, v in outcomes.items() if k.startswith("light")) >= 100
    assert after - before < 64 * 1024, f"memory grew by {(after - before) // 1024} MiB"
