#!/usr/bin/env python3
"""Checks of the container image's files that need no Docker daemon.

  check.py context
      Applies .dockerignore the way Docker does (patterns in order, the last
      match wins, `!` re-includes, a pattern matching a directory covers what
      is inside) to the repository's files, and checks that the build
      context keeps what deploy/Dockerfile needs (Cargo.toml, Cargo.lock,
      src/, every bench Cargo.toml names, the files COPY names) and leaves
      out target/ and .git/.

  check.py healthcheck
      Runs deploy/docker/healthcheck.sh against a local HTTP server on a free
      loopback port: it must succeed on 200, and fail on 503 and on a port
      nobody listens on.

Run from the repository's root. Exits 1 with one line per problem.
"""

import http.server
import os
import re
import socket
import subprocess
import sys
import threading

problems = []


def glob_to_regex(pattern):
    """Go's filepath.Match with `**` (Docker's fileutils), as a regex."""
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            if i < len(pattern) and pattern[i] == "/":
                out += "/?"
                i += 1
            continue
        out += {"*": "[^/]*", "?": "[^/]"}.get(c, re.escape(c))
        i += 1
    return re.compile(f"^{out}(/.*)?$")


def dockerignore():
    rules = []
    with open(".dockerignore", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            pattern = os.path.normpath(line.lstrip("!").strip().lstrip("/"))
            rules.append((negate, glob_to_regex(pattern)))
    return rules


def ignored(path, rules):
    result = False
    for negate, regex in rules:
        if regex.match(path):
            result = not negate
    return result


def check_context():
    rules = dockerignore()
    with open("deploy/Dockerfile", encoding="utf-8") as f:
        dockerfile = f.read()
    with open("Cargo.toml", encoding="utf-8") as f:
        cargo = f.read()
    needed = ["Cargo.toml", "Cargo.lock", "src/main.rs", "src/lib.rs"]
    needed += [f"benches/{n}.rs" for n in re.findall(r'\[\[bench\]\]\s*name\s*=\s*"([^"]+)"', cargo)]
    for src in re.findall(r"^COPY\s+(?!--from)(?:--\S+\s+)*(\S+)\s+\S+\s*$", dockerfile, re.M):
        if src != ".":
            needed.append(src)
    for root, dirs, files in os.walk("src"):
        needed += [os.path.join(root, f) for f in files]
    for path in needed:
        if not os.path.exists(path):
            problems.append(f"{path} is needed by the image but does not exist")
        elif ignored(path, rules):
            problems.append(f"{path} is needed by the image but .dockerignore leaves it out")
    for path in ["target/release/mlwatch", ".git/HEAD", "tests/cli.rs", "examples/recsys/data/x"]:
        if not ignored(path, rules):
            problems.append(f"{path} would be sent to the Docker daemon: add it to .dockerignore")
    return f"{len(needed)} files the build needs are in the context; target/ and .git/ are not"


class Handler(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):
        code = self.status if self.path == "/-/healthy" else 404
        body = b"mlwatch is Healthy.\n"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # The check reads the status line and hangs up: the rest of the
        # answer meets a reset connection, which is expected.
        pass


def run_check(addr):
    env = dict(os.environ, MLWATCH_HEALTHCHECK_ADDR=addr)
    return subprocess.run(["bash", "deploy/docker/healthcheck.sh"], env=env, timeout=20,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT).returncode


def check_healthcheck():
    for status, want in ((200, 0), (503, 1)):
        handler = type("H", (Handler,), {"status": status})
        server = Server(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            got = run_check(f"127.0.0.1:{server.server_address[1]}")
        finally:
            server.shutdown()
            server.server_close()
        if (got == 0) != (want == 0):
            problems.append(f"healthcheck.sh exits {got} when /-/healthy answers {status}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    got = run_check(f"127.0.0.1:{free}")
    if got == 0:
        problems.append("healthcheck.sh succeeds when nothing listens")
    return "healthcheck.sh passes on 200, fails on 503 and on a closed port"


def main(argv):
    if argv == ["context"]:
        summary = check_context()
    elif argv == ["healthcheck"]:
        summary = check_healthcheck()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for p in problems:
        print(f"FAIL {p}")
    if problems:
        return 1
    print(f"OK {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
