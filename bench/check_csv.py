#!/usr/bin/env python3
"""Content check for bench/run.sh: are two exports of the same rows equal cell by cell?

    check_csv.py REF.csv OTHER.csv                 CSV against CSV (exportd, node, sqlite3, duckdb)
    check_csv.py REF.csv --format FMT --parts "P1 P2 ..." IGNORED
                                                   CSV against exportd's TSV / NDJSON / JSON parts

Cells are equal when their texts are equal, or both are numbers with the same value (JavaScript's
String(n), SQLite's %.15g and to_chars differ in text: 1e-04 vs 0.0001, 5.0 vs 5), or both are the
same instant (RFC 3339 "Z" vs DuckDB's "+00"). NULL and the empty string both read as '' here.
Prints one line: "yes (N rows)" or "NO: ..." with the first difference.
"""
import csv
import datetime
import json
import sys

csv.field_size_limit(1 << 30)


def num(s):
    try:
        return float(s)
    except ValueError:
        return None


def instant(s):
    try:
        return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def same(a, b):
    if a == b:
        return True
    x, y = num(a), num(b)
    if x is not None and y is not None:
        return x == y or abs(x - y) <= 1e-12 * max(abs(x), abs(y))
    if a == "" or b == "":
        return False
    x, y = instant(a), instant(b)
    return x is not None and x == y


def csv_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        yield from csv.reader(f)


def tsv_unescape(s):
    if "\\" not in s:
        return s
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}.get(s[i + 1], s[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def cell(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"))
    return v


def part_rows(fmt, parts):
    header_done = False
    for p in parts:
        with open(p, encoding="utf-8", newline="") as f:
            if fmt == "tsv":
                first = True
                for line in f:
                    line = line.rstrip("\n")
                    fields = [tsv_unescape(x) for x in line.split("\t")]
                    if first:
                        first = False
                        if header_done:
                            continue
                        header_done = True
                    yield fields
            elif fmt == "ndjson":
                for line in f:
                    obj = json.loads(line, parse_float=str, parse_int=str)
                    if not header_done:
                        header_done = True
                        yield list(obj.keys())
                    yield [cell(v) for v in obj.values()]
            elif fmt == "json":
                # exportd writes one object per line: "[", "{...},", ..., "{...}", "]".
                for line in f:
                    line = line.strip()
                    if line in ("[", "]", "[]", ""):
                        continue
                    obj = json.loads(line.rstrip(","), parse_float=str, parse_int=str)
                    if not header_done:
                        header_done = True
                        yield list(obj.keys())
                    yield [cell(v) for v in obj.values()]


def main():
    args = sys.argv[1:]
    fmt, parts = "csv", None
    if "--format" in args:
        i = args.index("--format")
        fmt = args[i + 1]
        del args[i:i + 2]
    if "--parts" in args:
        i = args.index("--parts")
        parts = args[i + 1].split()
        del args[i:i + 2]
    ref = csv_rows(args[0])
    other = part_rows(fmt, parts) if parts else csv_rows(args[1])
    n = 0
    for a, b in zip(ref, other):
        if a != b:
            if len(a) != len(b):
                print("NO: row %d has %d vs %d cells" % (n, len(a), len(b)))
                return 1
            for j, (x, y) in enumerate(zip(a, b)):
                if not same(x, y):
                    print("NO: row %d column %d: %r vs %r" % (n, j, x[:40], y[:40]))
                    return 1
        n += 1
    rest_a = next(ref, None)
    rest_b = next(other, None)
    if rest_a is not None or rest_b is not None:
        print("NO: row counts differ after %d rows" % n)
        return 1
    print("yes (%d rows)" % (n - 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
