#!/usr/bin/env python3
# tests/ops/promparse.py: a strict reader of the Prometheus text exposition format 0.0.4 for test-metrics.sh.
# Reads stdin; prints "ok N" (N samples) or the first problem and exits 1. Checks: HELP/TYPE comment lines,
# metric and label names ([a-zA-Z_:][a-zA-Z0-9_:]* and [a-zA-Z_][a-zA-Z0-9_]*), label values with only
# \\ \" \n escapes, a TYPE before a family's samples and at most once, float values, no duplicate series,
# histograms: buckets with le ascending, cumulative, a +Inf bucket equal to _count, and a _sum.
import re, sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}

def fail(n, msg, line):
    print(f'line {n}: {msg}: {line[:200]!r}')
    sys.exit(1)

def parse_labels(s, n, line):
    labels, i = {}, 0
    while i < len(s):
        m = LABEL.match(s, i)
        if not m: fail(n, 'bad label name', line)
        name = m.group(0); i = m.end()
        if s[i:i+2] != '="': fail(n, 'expected =" after label name', line)
        i += 2; val = []
        while True:
            if i >= len(s): fail(n, 'unterminated label value', line)
            c = s[i]
            if c == '\\':
                if i + 1 >= len(s) or s[i+1] not in '\\"n': fail(n, 'bad escape in label value', line)
                val.append({'\\': '\\', '"': '"', 'n': '\n'}[s[i+1]]); i += 2
            elif c == '"': i += 1; break
            elif c == '\n': fail(n, 'raw newline in label value', line)
            else: val.append(c); i += 1
        if name in labels: fail(n, 'duplicate label', line)
        labels[name] = ''.join(val)
        if i < len(s):
            if s[i] != ',': fail(n, 'expected , between labels', line)
            i += 1
    return labels

def main():
    text = sys.stdin.read()
    if text and not text.endswith('\n'): fail(0, 'no final newline', text[-50:])
    types, seen, series = {}, set(), {}
    for n, line in enumerate(text.split('\n')[:-1], 1):
        if line.startswith('#'):
            parts = line.split(' ', 3)
            if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                if not NAME.fullmatch(parts[2]): fail(n, 'bad metric name in comment', line)
                if parts[1] == 'TYPE':
                    if len(parts) != 4 or parts[3] not in TYPES: fail(n, 'bad TYPE', line)
                    if parts[2] in types: fail(n, 'second TYPE for a family', line)
                    if parts[2] in seen: fail(n, 'TYPE after the family\'s samples', line)
                    types[parts[2]] = parts[3]
            continue
        if not line.strip(): continue
        m = NAME.match(line)
        if not m: fail(n, 'bad metric name', line)
        name, rest = m.group(0), line[m.end():]
        labels = {}
        if rest.startswith('{'):
            # the label block ends at the first } that is not inside a quoted value
            i, q = 1, False
            while i < len(rest):
                if q and rest[i] == '\\': i += 2; continue
                if rest[i] == '"': q = not q
                elif rest[i] == '}' and not q: break
                i += 1
            else: fail(n, 'unterminated label block', line)
            labels = parse_labels(rest[1:i], n, line); rest = rest[i+1:]
        if not rest.startswith(' '): fail(n, 'expected a space before the value', line)
        fields = rest.split()
        if len(fields) not in (1, 2): fail(n, 'expected a value and an optional timestamp', line)
        try: value = float(fields[0])
        except ValueError: fail(n, 'value is not a float', line)
        family = name
        for suf in ('_bucket', '_sum', '_count'):
            if name.endswith(suf) and types.get(name[:-len(suf)]) in ('histogram', 'summary'):
                family = name[:-len(suf)]
        if family not in types: fail(n, 'sample without a TYPE line', line)
        seen.add(family)
        key = (name, tuple(sorted(labels.items())))
        if key in series: fail(n, 'duplicate series', line)
        series[key] = value
    # histograms
    for fam, t in types.items():
        if t != 'histogram': continue
        groups = {}
        for (name, labels), v in series.items():
            if name == fam + '_bucket':
                d = dict(labels); le = d.pop('le', None)
                if le is None: fail(0, 'bucket without le', fam)
                groups.setdefault(tuple(sorted(d.items())), []).append((float(le), v))
        for g, buckets in groups.items():
            buckets.sort()
            if buckets[-1][0] != float('inf'): fail(0, 'no +Inf bucket', fam)
            for a, b in zip(buckets, buckets[1:]):
                if b[1] < a[1]: fail(0, 'buckets not cumulative', fam)
            cnt = series.get((fam + '_count', g))
            if cnt is None or cnt != buckets[-1][1]: fail(0, '+Inf bucket differs from _count', fam)
            if (fam + '_sum', g) not in series: fail(0, 'no _sum', fam)
    print(f'ok {len(series)}')

main()
