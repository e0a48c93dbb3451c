#!/usr/bin/env python3
"""Builds the Docker build context of deploy/Dockerfile without Docker, and checks it.

A Dockerfile only sees the files its .dockerignore lets through, so a Rust file that includes
a file the .dockerignore leaves out builds here and fails in `docker build`. This script
copies exactly the files Docker would send (the .dockerignore rules below), checks that every
COPY source of the Dockerfile is among them, and then runs the Dockerfile's own cargo command
in that copy:

  docker_context.py [--dockerfile deploy/Dockerfile] [--context .] [--cargo MODE]
                    [--ignore-file FILE] DEST
  docker_context.py --self-test

MODE is `check` (default: the Dockerfile's command with `build` turned into `check`, debug
profile: include_str!, build.rs and every compile error show up at a fraction of the cost),
`build` (the Dockerfile's command as written, for example `cargo build --release --locked`)
or `none` (copy, and check the COPY sources and the files Rust code includes, only). Cargo runs offline, with CARGO_TARGET_DIR
from the environment (check.sh points it at the repository's target/, so the dependencies
are not compiled again) and with git unable to see the repository above DEST, as in Docker.

The .dockerignore rules, as Docker's (moby) pattern matcher applies them:
  - one pattern a line; a line starting with `#` is a comment; blank lines are skipped;
    surrounding whitespace is trimmed;
  - a leading `!` makes an exception (re-includes what earlier lines excluded);
  - every pattern is cleaned like Go's filepath.Clean (`a//b/./c/` is `a/b/c`, so a
    trailing `/` changes nothing) and a leading `/` is dropped: patterns are relative to the
    context root;
  - `*` matches any run of characters but `/`, `?` one character but `/`, `[...]` a class,
    `\\` escapes the next character; `**` matches any number of directories (including none);
    a pattern starting with `**` matches any path ending in the rest of it;
  - a pattern matches a path if it matches the path or one of its parent directories;
  - the last pattern that matches decides.
The Dockerfile's own .dockerignore (`<Dockerfile>.dockerignore`) takes precedence over the
context's `.dockerignore`, as in BuildKit.
"""

import argparse
import glob
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import sys

EXACT, PREFIX, SUFFIX, REGEXP = "exact", "prefix", "suffix", "regexp"
# Characters that mean something in a regular expression and nothing in a path pattern.
REGEX_SPECIAL = set(".+()|{}$")


def read_ignore_file(text):
    """The patterns of a .dockerignore file, cleaned, in order."""
    patterns = []
    for number, line in enumerate(text.splitlines()):
        if number == 0:
            line = line.lstrip("\ufeff")
        # A comment is a line that starts with '#', before any trimming.
        if line.startswith("#"):
            continue
        line = line.strip()
        if not line:
            continue
        exception = line.startswith("!")
        if exception:
            line = line[1:].strip()
        if line:
            line = posixpath.normpath(line)
            # normpath keeps a leading '//'; Go's Clean does not.
            line = re.sub("^/+", "/", line)
            if len(line) > 1 and line.startswith("/"):
                line = line[1:]
        if exception:
            if not line:
                raise ValueError('illegal exclusion pattern: "!"')
            line = "!" + line
        patterns.append(line)
    return patterns


class Pattern:
    def __init__(self, text):
        self.exception = text.startswith("!")
        self.text = text[1:] if self.exception else text
        self.kind, self.regex = self._compile(self.text)

    @staticmethod
    def _compile(text):
        kind = EXACT
        out = "^"
        i = 0
        n = len(text)
        while i < n:
            ch = text[i]
            first = i == 0
            i += 1
            if ch == "*":
                if i < n and text[i] == "*":
                    i += 1
                    if i < n and text[i] == "/":
                        i += 1
                    if i >= n:
                        if kind == EXACT:
                            kind = PREFIX
                        else:
                            out += ".*"
                            kind = REGEXP
                    else:
                        out += "(.*/)?"
                        kind = REGEXP
                    if first:
                        kind = SUFFIX
                else:
                    out += "[^/]*"
                    kind = REGEXP
            elif ch == "?":
                out += "[^/]"
                kind = REGEXP
            elif ch in REGEX_SPECIAL:
                out += "\\" + ch
            elif ch == "\\":
                if i < n:
                    out += "\\" + text[i]
                    i += 1
                    kind = REGEXP
                else:
                    out += "\\\\"
            elif ch in "[]":
                out += ch
                kind = REGEXP
            else:
                out += ch
        return kind, (re.compile(out + "$") if kind == REGEXP else None)

    def match(self, path):
        if self.kind == EXACT:
            return path == self.text
        if self.kind == PREFIX:
            return path.startswith(self.text[:-2])
        if self.kind == SUFFIX:
            suffix = self.text[2:]
            if path.endswith(suffix):
                return True
            return suffix.startswith("/") and path == suffix[1:]
        return self.regex.match(path) is not None


class Matcher:
    def __init__(self, patterns):
        self.patterns = [Pattern(p) for p in patterns]

    def excluded(self, path):
        """Whether Docker leaves `path` (relative, '/'-separated) out of the context."""
        excluded = False
        parent = posixpath.dirname(path)
        parents = parent.split("/") if parent else []
        for pattern in self.patterns:
            # An exclusion cannot change an excluded path, nor an exception an included one.
            if pattern.exception != excluded:
                continue
            hit = pattern.match(path)
            if not hit:
                hit = any(pattern.match("/".join(parents[: k + 1])) for k in range(len(parents)))
            if hit:
                excluded = not pattern.exception
        return excluded

    def may_reinclude_below(self, directory):
        """False only when no exception can bring back anything under an excluded directory."""
        for pattern in self.patterns:
            if not pattern.exception:
                continue
            # The part before the first wildcard: only paths starting with it can match.
            literal = re.split(r"[*?\[\\]", pattern.text, maxsplit=1)[0]
            if pattern.kind == SUFFIX or not literal:
                return True
            if literal.startswith(directory + "/") or (directory + "/").startswith(literal):
                return True
        return False


def context_files(root, matcher):
    """The context's files (relative paths) Docker sends, sorted."""
    files = []
    for current, dirs, names in os.walk(root):
        rel = os.path.relpath(current, root)
        rel = "" if rel == "." else rel.replace(os.sep, "/")
        kept = []
        for d in sorted(dirs):
            path = posixpath.join(rel, d) if rel else d
            if os.path.islink(os.path.join(current, d)):
                names.append(d)
            elif not matcher.excluded(path) or matcher.may_reinclude_below(path):
                kept.append(d)
        dirs[:] = kept
        for name in names:
            path = posixpath.join(rel, name) if rel else name
            if not matcher.excluded(path):
                files.append(path)
    return sorted(files)


def dockerfile_instructions(text):
    """(instruction, arguments) pairs, continuation lines joined, comments dropped."""
    out = []
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        word, _, rest = current.partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    return out


def copy_sources(instructions):
    """The sources of every COPY/ADD that reads the build context."""
    sources = []
    for word, args in instructions:
        if word not in ("COPY", "ADD"):
            continue
        parts = shlex.split(args)
        if any(p.startswith("--from=") for p in parts):
            continue
        parts = [p for p in parts if not p.startswith("--")]
        sources.extend(parts[:-1])
    return sources


INCLUDE = re.compile(r'include_(?:str|bytes)!\(\s*"([^"]+)"\s*\)')


def missing_includes(dest):
    """`include_str!`/`include_bytes!` paths of the context's Rust files that the context lacks.

    The compiler finds these too, but only after minutes of building; this finds them at once.
    """
    missing = []
    for current, _, names in os.walk(dest):
        for name in names:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(current, name)
            with open(path, encoding="utf-8", errors="replace") as f:
                for target in INCLUDE.findall(f.read()):
                    if not os.path.exists(os.path.join(current, target)):
                        missing.append((os.path.relpath(path, dest), target))
    return sorted(missing)


def cargo_command(instructions):
    """The Dockerfile's cargo invocation: the first RUN's `cargo ...` up to `&&` or `;`."""
    for word, args in instructions:
        if word != "RUN":
            continue
        words = shlex.split(args)
        if "cargo" not in words:
            continue
        command = words[words.index("cargo") :]
        for stop in ("&&", ";", "||", "|"):
            if stop in command:
                command = command[: command.index(stop)]
        return command
    raise ValueError("the Dockerfile has no RUN with a cargo command")


def self_test():
    """The matcher against cases worked out from Docker's documented rules."""
    cases = [
        # (patterns, path, excluded)
        (["target"], "target", True),
        (["target"], "target/debug/x", True),
        (["target"], "src/target", False),
        (["/target/"], "target/x", True),
        (["*/temp*"], "somedir/temporary.txt", True),
        (["*/temp*"], "temp", False),
        (["*/*/temp*"], "a/b/temp.txt", True),
        (["temp?"], "temp1", True),
        (["temp?"], "temp12", False),
        (["**/*.go"], "main.go", True),
        (["**/*.go"], "a/b/c.go", True),
        (["**/*.go"], "a/b/c.rs", False),
        (["**.md"], "README.md", True),
        (["docs/**"], "docs/a/b.md", True),
        (["docs/**"], "docs", False),
        (["a/**/b"], "a/b", True),
        (["a/**/b"], "a/x/y/b/c", True),
        (["*.md", "!README*.md"], "README-secret.md", False),
        (["*.md", "!README*.md", "README-secret.md"], "README-secret.md", True),
        (["*.md", "!README*.md", "README-secret.md"], "README.md", False),
        (["deploy", "!deploy/demo/scenario.yaml"], "deploy/demo/scenario.yaml", False),
        (["deploy", "!deploy/demo/scenario.yaml"], "deploy/demo/other.yaml", True),
        (["deploy", "!deploy/demo"], "deploy/demo/a/b", False),
        (["!deploy/demo", "deploy"], "deploy/demo/a", True),
        (["a.b"], "axb", False),
        (["[ab]c"], "bc", True),
        (["[ab]c"], "cc", False),
        (["\\*x"], "*x", True),
        (["\\*x"], "ax", False),
        (["  spaced  "], "spaced", True),
        (["a//b/./c/"], "a/b/c", True),
    ]
    failures = 0
    for patterns, path, want in cases:
        cleaned = read_ignore_file("\n".join(patterns))
        got = Matcher(cleaned).excluded(path)
        if got != want:
            failures += 1
            print(f"FAIL {patterns} {path!r}: excluded={got}, want {want}")
    assert read_ignore_file("# c\n\n /a/ \n! b\n") == ["a", "!b"], read_ignore_file("# c\n\n /a/ \n! b\n")
    print(f"{len(cases) - failures}/{len(cases)} .dockerignore cases as Docker decides them")
    return failures == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dockerfile", default="deploy/Dockerfile")
    parser.add_argument("--context", default=".")
    parser.add_argument("--cargo", choices=["check", "build", "none"], default="check")
    parser.add_argument("--ignore-file", help="use this .dockerignore instead of the Dockerfile's")
    parser.add_argument("--self-test", action="store_true")
    parser.add_argument("dest", nargs="?")
    args = parser.parse_args()
    if args.self_test:
        return 0 if self_test() else 1
    if not args.dest:
        parser.error("DEST is required")

    root = os.path.abspath(args.context)
    ignore = args.ignore_file or args.dockerfile + ".dockerignore"
    if not os.path.exists(ignore):
        ignore = os.path.join(root, ".dockerignore")
    patterns = []
    if os.path.exists(ignore):
        with open(ignore, encoding="utf-8") as f:
            patterns = read_ignore_file(f.read())
    matcher = Matcher(patterns)

    dest = os.path.abspath(args.dest)
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    files = context_files(root, matcher)
    for rel in files:
        source = os.path.join(root, rel)
        target = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.islink(source):
            os.symlink(os.readlink(source), target)
        else:
            # copy2 keeps the modification times, so cargo finds a repeated copy fresh.
            shutil.copy2(source, target)
    print(f"{len(files)} files in the build context ({os.path.relpath(ignore, root)}: {len(patterns)} patterns)")

    with open(args.dockerfile, encoding="utf-8") as f:
        instructions = dockerfile_instructions(f.read())
    missing = [s for s in copy_sources(instructions) if not glob.glob(os.path.join(dest, s))]
    for source in missing:
        print(f"COPY source {source!r} is not in the build context")
    includes = missing_includes(dest)
    for rust_file, target in includes:
        print(f"{rust_file} includes {target}, which is not in the build context")
    if missing or includes:
        return 1

    if args.cargo == "none":
        return 0
    command = cargo_command(instructions)
    if args.cargo == "check":
        command = ["check" if w == "build" else w for w in command if w != "--release"]
    env = dict(os.environ, CARGO_NET_OFFLINE="true", GIT_CEILING_DIRECTORIES=os.path.dirname(dest))
    print("+ " + " ".join(command) + f"  (in the context copy, offline, CARGO_TARGET_DIR={env.get('CARGO_TARGET_DIR', 'target')})")
    return subprocess.call(command, cwd=dest, env=env)


if __name__ == "__main__":
    sys.exit(main())
