#!/usr/bin/env python3
"""Prints "req/s p50_ms p99_ms non2xx" from a `wrk --latency` report."""
import re
import sys

text = open(sys.argv[1]).read()


def ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def pct(p):
    m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s|m)\s*$" % p, text, re.M)
    return "%.2f" % ms(*m.groups()) if m else "-"


rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
errors = re.search(r"Socket errors: (.*)", text)
print("%s %s %s %s" % (rps.group(1).split(".")[0] if rps else "-", pct(50), pct(99),
                       (bad.group(1) if bad else "0") + ("+sockerr" if errors else "")))
