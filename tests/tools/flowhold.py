"""Holds many TCP connections open at once (the scale test and the bench).

  flowhold.py serve ADDR PORT [COUNT]
      An echo server on COUNT consecutive ports from PORT (default
      1), one process a port: every byte a client sends comes back.
  flowhold.py hold HOST PORT N [--ports K] [--ready FILE] [--release FILE] [--timeout S] [-- CMD...]
      Opens N connections (at most 256 connecting at a time), connection i
      to port PORT + i % K (K defaults to 1), one process a port, and checks
      each with one echoed line; prints "established K/N in S s". With
      --ready, writes that file once all are open; then runs CMD (if any)
      while they are held, or waits for the --release file to appear.
      Afterwards every connection echoes a second line ("still K/N in S s":
      all of them were still open and working), and all are closed. Exit
      status 0 only when K == N both times (and CMD succeeded).
  flowhold.py pingpong HOST PORT COUNT
      Request/response latency over one connection: COUNT round trips of a
      2-byte line (after 200 unmeasured ones); prints a JSON line with the
      median and 90th percentile in microseconds.

Why several ports: a client picks an ephemeral source port per destination
address and port, and Linux offers 28,232 of them (32768-60999); 50,000
connections to one server port would run out, on the sandbox's side and on
the relay's host sockets alike. Why a process a port: a process may not have
more descriptors than its hard RLIMIT_NOFILE, which root can raise only with
CAP_SYS_RESOURCE (some containers' root lacks it: 20,000 here); a port
takes at most 12,500 connections. The workers and the server are plain
epoll loops: asyncio's transports cost several times the CPU a connection.

  flowhold.py share HOST PORT COUNT FIRST STEP TIMEOUT
      hold's worker for one port (connections FIRST, FIRST+STEP, ...):
      prints "established K", checks them again on a "check" line from
      stdin and prints "still K", closes them at stdin's end.
"""
import asyncio
import ctypes
import errno
import json
import os
import resource
import select
import socket
import statistics
import sys
import time


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def die_with_parent():
    """The kernel sends this process SIGTERM when its parent ends."""
    ctypes.CDLL(None, use_errno=True).prctl(1, 15)  # PR_SET_PDEATHSIG, SIGTERM


def serve_port(addr, port):
    """An echo server on one port: an epoll loop, every byte read is sent back
    (the lines are short: a send that does not take it all drops the rest,
    which the client then reports as a wrong echo)."""
    lsock = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((addr, port))
    lsock.listen(4096)
    lsock.setblocking(False)
    ep = select.epoll()
    ep.register(lsock.fileno(), select.EPOLLIN)
    conns = {}
    while True:
        for fd, _ in ep.poll():
            if fd == lsock.fileno():
                while True:
                    try:
                        c, _ = lsock.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError as e:  # out of descriptors: say so, keep serving the others
                        print("accept: %s" % e, file=sys.stderr, flush=True)
                        break
                    c.setblocking(False)
                    conns[c.fileno()] = c
                    ep.register(c.fileno(), select.EPOLLIN)
                continue
            c = conns[fd]
            try:
                data = c.recv(4096)
                if data:
                    c.send(data)
                    continue
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                pass
            ep.unregister(fd)
            del conns[fd]
            c.close()


def serve(addr, port, count):
    for i in range(1, count):  # a process a port: each has the whole descriptor limit
        if os.fork() == 0:
            die_with_parent()
            serve_port(addr, port + i)
            os._exit(0)
    serve_port(addr, port)


class Share:
    """hold's worker for one port: COUNT connections, their tags FIRST,
    FIRST+STEP, ...; an epoll loop drives connects and echo checks."""

    def __init__(self, host, port, count, first, step, gate):
        self.host, self.port, self.count, self.first, self.step, self.gate = host, port, count, first, step, gate
        # Resolved once: connect_ex with a name would look it up every time.
        self.family, _, _, _, self.addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        self.ep = select.epoll()
        self.waiting = {}  # fd -> [sock, tag, received, number]
        self.held = []     # (sock, number)

    def start(self, n, tag, sock=None):
        if sock is None:  # a new connection: the tag is sent once it is connected
            sock = socket.socket(self.family, socket.SOCK_STREAM)
            sock.setblocking(False)
            err = sock.connect_ex(self.addr)
            if err not in (0, errno.EINPROGRESS):
                print("connection %d (port %d): %s" % (n, self.port, os.strerror(err)), file=sys.stderr)
                sock.close()
                return
            self.ep.register(sock.fileno(), select.EPOLLOUT)
            self.waiting[sock.fileno()] = [sock, tag, None, n]
        else:
            try:
                sock.send(tag)
            except OSError as e:
                print("connection %d (port %d): %s" % (n, self.port, e), file=sys.stderr)
                sock.close()
                return
            self.ep.register(sock.fileno(), select.EPOLLIN)
            self.waiting[sock.fileno()] = [sock, tag, b"", n]

    def event(self, fd):
        w = self.waiting[fd]
        sock, tag, got, n = w
        try:
            if got is None:  # connected (or not)
                err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise OSError(err, os.strerror(err))
                self.ep.modify(fd, select.EPOLLIN)
                w[2] = b""
                sock.send(tag)
                return
            data = sock.recv(256)
            if not data:
                raise OSError("closed by the peer")
            w[2] = got = got + data
            if not got.endswith(b"\n"):
                return
            if got != tag:
                raise OSError("wrong echo %r" % got[:40])
            self.held.append((sock, n))
            sock = None
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            print("connection %d (port %d): %s" % (n, self.port, e), file=sys.stderr)
        self.ep.unregister(fd)
        del self.waiting[fd]
        if sock is not None:  # failed
            sock.close()

    def run(self, jobs, timeout):
        """Runs jobs (n, tag, sock) at most `gate` at a time; the held list
        gets the ones that echoed their tag within timeout seconds."""
        deadline = time.monotonic() + timeout
        jobs = iter(jobs)
        more = True
        while (more or self.waiting) and time.monotonic() < deadline:
            while more and len(self.waiting) < self.gate:
                job = next(jobs, None)
                if job is None:
                    more = False
                else:
                    self.start(*job)
            for fd, _ in self.ep.poll(0.2):
                self.event(fd)
        for fd, (sock, _, _, n) in list(self.waiting.items()):
            print("connection %d (port %d): no echo in time" % (n, self.port), file=sys.stderr)
            self.ep.unregister(fd)
            sock.close()
        self.waiting.clear()


def share(host, port, count, first, step, timeout):
    """hold's worker: prints "established K", then on a "check" line from
    stdin sends each a second line and prints "still K"; closes at stdin's end."""
    w = Share(host, port, count, first, step, int(os.environ.get("FLOWHOLD_GATE", "256")))
    numbers = [first + k * step for k in range(count)]
    w.run(((n, b"hello %d\n" % n, None) for n in numbers), timeout)
    print("established %d" % len(w.held), flush=True)
    if sys.stdin.readline().strip() == "check":
        held, w.held, w.gate = w.held, [], len(w.held) + 1
        w.run(((n, b"again %d\n" % n, sock) for sock, n in held), timeout)
        print("still %d" % len(w.held), flush=True)
        sys.stdin.read()  # held until the parent closes stdin
    for sock, _ in w.held:
        sock.close()
    return 0


async def sum_lines(workers, word):
    """The sum of every worker's next "WORD K" line (a worker that ended: 0)."""
    total = 0
    for w in workers:
        line = (await w.stdout.readline()).decode().split()
        total += int(line[1]) if len(line) == 2 and line[0] == word else 0
    return total


async def hold(host, port, ports, n, ready, release, timeout, cmd):
    started = time.monotonic()
    env = dict(os.environ, FLOWHOLD_GATE=str(max(64, 256 // ports)))
    workers = [await asyncio.create_subprocess_exec(
        sys.executable, os.path.abspath(__file__), "share", host, str(port + j), str((n - j + ports - 1) // ports),
        str(j), str(ports), str(timeout), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env)
        for j in range(min(ports, n))]
    opened = await sum_lines(workers, "established")
    print("established %d/%d in %.1f s" % (opened, n, time.monotonic() - started), flush=True)
    if ready:
        with open(ready, "w") as f:
            f.write("%d\n" % opened)
    status = 0
    if cmd:
        proc = await asyncio.create_subprocess_exec(*cmd)
        status = await proc.wait()
    elif release:
        deadline = time.monotonic() + timeout
        while not os.path.exists(release) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
    checked = time.monotonic()
    for w in workers:
        w.stdin.write(b"check\n")
    alive = await sum_lines(workers, "still")
    print("still %d/%d in %.1f s" % (alive, n, time.monotonic() - checked), flush=True)
    for w in workers:
        w.stdin.close()
    for w in workers:
        await w.wait()
    return 0 if opened == n and alive == n and status == 0 else 1


def pingpong(host, port, count):
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    times = []
    for i in range(200 + count):
        t = time.perf_counter_ns()
        s.sendall(b"x\n")
        got = b""
        while not got.endswith(b"\n"):
            b = s.recv(64)
            if not b:
                raise SystemExit("pingpong: the server closed the connection")
            got += b
        if i >= 200:
            times.append((time.perf_counter_ns() - t) / 1000)
    s.close()
    times.sort()
    print(json.dumps({"count": count, "median_us": statistics.median(times),
                      "p90_us": times[int(0.9 * (len(times) - 1))]}))
    return 0


def main(argv):
    raise_fd_limit()
    if len(argv) in (3, 4) and argv[0] == "serve":
        serve(argv[1], int(argv[2]), int(argv[3]) if len(argv) == 4 else 1)
        return 0
    if len(argv) == 7 and argv[0] == "share":
        die_with_parent()
        return share(argv[1], int(argv[2]), int(argv[3]), int(argv[4]), int(argv[5]), float(argv[6]))
    if len(argv) >= 4 and argv[0] == "hold":
        host, port, n = argv[1], int(argv[2]), int(argv[3])
        rest = argv[4:]
        cmd = []
        if "--" in rest:
            cmd = rest[rest.index("--") + 1:]
            rest = rest[:rest.index("--")]
        opts = dict(zip(rest[::2], rest[1::2]))
        if len(rest) % 2 or set(opts) - {"--ports", "--ready", "--release", "--timeout"}:
            print(__doc__, file=sys.stderr)
            return 2
        return asyncio.run(hold(host, port, int(opts.get("--ports", "1")), n, opts.get("--ready"),
                                opts.get("--release"), float(opts.get("--timeout", "60")), cmd))
    if len(argv) == 4 and argv[0] == "pingpong":
        return pingpong(argv[1], int(argv[2]), int(argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
