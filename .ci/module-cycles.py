#!/usr/bin/env python3
"""Fails on a module cycle inside a crate, or on a source file that is too long.

A module is a file. Module A depends on module B when A's non-test code names a path into B:
`use crate::b::...`, `use super::...`, `use self::...`, an inline `crate::b::x` path, or a
path that starts with one of A's own child modules (`b::x` in a `mod.rs`). The module tree is
read from the `mod name;` declarations, starting at each crate's `lib.rs` and `main.rs`.
Test code (everything from the first `#[cfg(test)]` module on, and files declared under
`#[cfg(test)]`) is left out: tests may reach anywhere.

Also fails when a non-test part of a source file is over MAX_LINES lines (the VTL evaluator,
one large match by design, is allowed).

Usage: .ci/module-cycles.py [-v] [repo root]   (exit 1 and the offenders on stderr on failure;
-v also lists every dependency inside each tangle)
"""

import os
import re
import sys

MAX_LINES = 800
LONG_FILES_ALLOWED = {"crates/vtl/src/eval.rs"}

# Every debt known when this check was added is paid: any cycle or oversized file fails.
KNOWN_TANGLED_CRATES: set[str] = set()

MOD_DECL = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;")
INLINE_MOD = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*\{")
USE_STMT = re.compile(r"\buse\s+([^;]+);", re.S)
PATH = re.compile(r"(?<![\w:])((?:crate|super|self|[a-z_]\w*)(?:::\w+)+)")
CFG_TEST = re.compile(r"^\s*#\[cfg\(test\)\]")


def non_test_lines(text):
    """The lines before the first `#[cfg(test)]` that introduces a module."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if CFG_TEST.match(line):
            rest = [l for l in lines[i + 1 : i + 4] if l.strip() and not l.strip().startswith("#")]
            if rest and re.match(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s", rest[0]):
                return lines[:i]
    return lines


def strip_comments_and_strings(code):
    code = re.sub(r"//[^\n]*", "", code)
    code = re.sub(r"/\*.*?\*/", "", code, flags=re.S)
    # Raw strings first, then ordinary strings (escapes kept simple), then char literals.
    code = re.sub(r'r(#*)".*?"\1', '""', code, flags=re.S)
    code = re.sub(r'"(?:\\.|[^"\\])*"', '""', code, flags=re.S)
    code = re.sub(r"'(?:\\.|[^'\\])'", "' '", code)
    return code


def expand_use_tree(tree):
    """`a::{b, c::{d, e}}` -> ["a::b", "a::c::d", "a::c::e"]."""
    # Renames go first: with the spaces gone, `as\w+` would also eat a module named `ast`.
    tree = re.sub(r"\s+as\s+\w+", "", tree)
    tree = re.sub(r"\s+", "", tree)
    out = []

    def walk(prefix, t):
        i = t.find("{")
        if i < 0:
            out.append(prefix + t)
            return
        head = t[:i]
        body = t[i + 1 : t.rfind("}")]
        depth, start = 0, 0
        for j, ch in enumerate(body + ","):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                part = body[start:j]
                if part:
                    walk(prefix + head, part)
                start = j + 1

    walk("", tree)
    return out


class Crate:
    def __init__(self, src_dir):
        self.src = src_dir
        self.files = {}  # module path tuple -> file path (test-only modules excluded)

    def load(self, root_file):
        self._walk((), root_file, is_dir_owner=True)

    def _walk(self, mod_path, file, is_dir_owner):
        self.files[mod_path] = file
        with open(file, encoding="utf-8") as f:
            lines = non_test_lines(f.read())
        here = os.path.dirname(file) if is_dir_owner else os.path.splitext(file)[0]
        for i, line in enumerate(lines):
            m = MOD_DECL.match(line)
            if not m:
                continue
            prev = lines[i - 1] if i > 0 else ""
            if CFG_TEST.match(prev):
                continue
            name = m.group(1)
            as_file = os.path.join(here, name + ".rs")
            as_dir = os.path.join(here, name, "mod.rs")
            if os.path.exists(as_file):
                self._walk(mod_path + (name,), as_file, is_dir_owner=False)
            elif os.path.exists(as_dir):
                self._walk(mod_path + (name,), as_dir, is_dir_owner=True)


def resolve(crate, mod_path, segments):
    """The longest known module prefix named by an absolute path, or None."""
    best = None
    for n in range(len(segments) + 1):
        if tuple(segments[:n]) in crate.files:
            best = tuple(segments[:n])
    return best


def absolute(mod_path, inline_depth, children, path):
    """Turn a path as written in module `mod_path` into segments from the crate root."""
    segs = path.split("::")
    if segs[0] == "crate":
        return segs[1:]
    if segs[0] in ("self", "super"):
        base = list(mod_path)
        # `super` inside an inline module first climbs out of that module, staying in this file.
        climb = 0
        while segs and segs[0] in ("self", "super"):
            if segs[0] == "super":
                climb += 1
            segs = segs[1:]
        climb -= inline_depth
        if climb > 0:
            base = base[: len(base) - climb] if climb <= len(base) else []
        return base + segs
    if segs[0] in children:
        return list(mod_path) + segs
    return None


def edges_of(crate, mod_path):
    with open(crate.files[mod_path], encoding="utf-8") as f:
        lines = non_test_lines(f.read())
    code = strip_comments_and_strings("\n".join(lines))
    children = {p[-1] for p in crate.files if len(p) == len(mod_path) + 1 and p[:-1] == mod_path}
    targets = set()
    # Track inline modules (`mod x { ... }`) so `super::` inside them resolves to this file.
    depth, inline_stack = 0, []
    for line in code.split("\n"):
        if INLINE_MOD.match(line):
            inline_stack.append(depth)
        paths = []
        for u in USE_STMT.finditer(line):
            paths.extend(expand_use_tree(u.group(1)))
        paths.extend(m.group(1) for m in PATH.finditer(line))
        for p in paths:
            segs = absolute(mod_path, len(inline_stack), children, p)
            if segs is None:
                continue
            target = resolve(crate, mod_path, segs)
            if target is not None and target != mod_path:
                targets.add(target)
        depth += line.count("{") - line.count("}")
        while inline_stack and depth <= inline_stack[-1]:
            inline_stack.pop()
    return targets


def cycles(graph):
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    out.append(comp)
    return out


def one_cycle(graph, comp):
    """A shortest cycle through the component's first module, for the message."""
    members = set(comp)
    start = min(comp)
    prev, frontier = {start: None}, [start]
    while frontier:
        nxt_frontier = []
        for node in frontier:
            for nxt in sorted(graph[node]):
                if nxt == start:
                    path = [node]
                    while prev[path[-1]] is not None:
                        path.append(prev[path[-1]])
                    return [start] + list(reversed(path))[1:] + [start] if len(path) > 1 else [start, node, start]
                if nxt in members and nxt not in prev:
                    prev[nxt] = node
                    nxt_frontier.append(nxt)
        frontier = nxt_frontier
    return comp


def name(crate_name, mod_path):
    return crate_name + ("::" + "::".join(mod_path) if mod_path else " (root)")


def main():
    args = sys.argv[1:]
    verbose = "-v" in args
    args = [a for a in args if a != "-v"]
    root = args[0] if args else os.path.join(os.path.dirname(__file__), "..")
    root = os.path.abspath(root)
    failures = []
    known = []
    crates_dir = os.path.join(root, "crates")
    for crate_name in sorted(os.listdir(crates_dir)):
        src = os.path.join(crates_dir, crate_name, "src")
        for root_file in ("lib.rs", "main.rs"):
            path = os.path.join(src, root_file)
            if not os.path.exists(path):
                continue
            crate = Crate(src)
            crate.load(path)
            graph = {m: edges_of(crate, m) for m in crate.files}
            tangles = cycles(graph)
            if crate_name in KNOWN_TANGLED_CRATES and not tangles:
                failures.append(
                    "crates/%s has no module cycle any more: remove it from KNOWN_TANGLED_CRATES in %s"
                    % (crate_name, os.path.relpath(__file__, root))
                )
            for comp in tangles:
                cyc = one_cycle(graph, comp)
                sink = known if crate_name in KNOWN_TANGLED_CRATES else failures
                sink.append(
                    "module cycle in crates/%s: %s" % (crate_name, " -> ".join(name(crate_name, m) for m in cyc))
                    + ("" if len(comp) == len(cyc) - 1 else "  (%d modules tangled)" % len(comp))
                )
                if verbose:
                    for a in sorted(comp):
                        for b in sorted(graph[a] & set(comp)):
                            sink.append("    %s -> %s" % (name(crate_name, a), name(crate_name, b)))
            for m, file in sorted(crate.files.items()):
                rel = os.path.relpath(file, root)
                with open(file, encoding="utf-8") as f:
                    n = len(non_test_lines(f.read()))
                if n > MAX_LINES and rel not in LONG_FILES_ALLOWED:
                    failures.append("%s: %d lines of non-test code (at most %d)" % (rel, n, MAX_LINES))
    for k in known:
        print("known (issue 10): " + k, file=sys.stderr)
    for f in failures:
        print(f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
