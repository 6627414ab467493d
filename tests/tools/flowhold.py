"""Holds many TCP connections open at once (the scale test and the bench).

  flowhold.py serve ADDR PORT
      An asyncio echo server: every line a client sends comes back.
  flowhold.py hold HOST PORT N [--ready FILE] [--release FILE] [--timeout S] [-- CMD...]
      Opens N connections (at most 256 connecting at a time) and checks each
      with one echoed line; prints "established K/N". With --ready, writes
      that file once all are open; then runs CMD (if any) while they are
      held, or waits for the --release file to appear. Afterwards every
      connection echoes a second line ("still K/N": all of them were still
      open and working), and all are closed. Exit status 0 only when K == N
      both times (and CMD succeeded).
  flowhold.py pingpong HOST PORT COUNT
      Request/response latency over one connection: COUNT round trips of a
      2-byte line (after 200 unmeasured ones); prints a JSON line with the
      median and 90th percentile in microseconds.
"""
import asyncio
import json
import os
import resource
import socket
import statistics
import sys
import time


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def serve(addr, port):
    async def echo(reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                writer.write(line)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(echo, addr, port, backlog=4096, reuse_address=True)
    async with server:
        await server.serve_forever()


async def ping(conn, tag, timeout):
    reader, writer = conn
    writer.write(tag)
    await writer.drain()
    return await asyncio.wait_for(reader.readline(), timeout) == tag


async def open_one(host, port, i, gate, timeout):
    async with gate:
        try:
            conn = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
            if await ping(conn, b"hello %d\n" % i, timeout):
                return conn
            conn[1].close()
        except (OSError, asyncio.TimeoutError) as e:
            print("connection %d: %s" % (i, e or type(e).__name__), file=sys.stderr)
    return None


async def check_all(conns, timeout):
    async def one(i, conn):
        try:
            return await ping(conn, b"again %d\n" % i, timeout)
        except (OSError, asyncio.TimeoutError):
            return False

    gate = asyncio.Semaphore(1024)

    async def gated(i, conn):
        async with gate:
            return await one(i, conn)

    return sum(await asyncio.gather(*(gated(i, c) for i, c in enumerate(conns))))


async def hold(host, port, n, ready, release, timeout, cmd):
    started = time.monotonic()
    gate = asyncio.Semaphore(256)
    results = await asyncio.gather(*(open_one(host, port, i, gate, timeout) for i in range(n)))
    conns = [c for c in results if c is not None]
    print("established %d/%d in %.1f s" % (len(conns), n, time.monotonic() - started), flush=True)
    if ready:
        with open(ready, "w") as f:
            f.write("%d\n" % len(conns))
    status = 0
    if cmd:
        proc = await asyncio.create_subprocess_exec(*cmd)
        status = await proc.wait()
    elif release:
        deadline = time.monotonic() + timeout
        while not os.path.exists(release) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
    alive = await check_all(conns, timeout)
    print("still %d/%d" % (alive, n), flush=True)
    for _, writer in conns:
        writer.close()
    return 0 if len(conns) == n and alive == n and status == 0 else 1


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
    if len(argv) >= 3 and argv[0] == "serve":
        asyncio.run(serve(argv[1], int(argv[2])))
        return 0
    if len(argv) >= 4 and argv[0] == "hold":
        host, port, n = argv[1], int(argv[2]), int(argv[3])
        rest = argv[4:]
        cmd = []
        if "--" in rest:
            cmd = rest[rest.index("--") + 1:]
            rest = rest[:rest.index("--")]
        opts = dict(zip(rest[::2], rest[1::2]))
        return asyncio.run(hold(host, port, n, opts.get("--ready"), opts.get("--release"),
                                float(opts.get("--timeout", "60")), cmd))
    if len(argv) == 4 and argv[0] == "pingpong":
        return pingpong(argv[1], int(argv[2]), int(argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
