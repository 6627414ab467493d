# Clients run inside netpen by test_unix_guard.sh. Modes:
#   connect PATH     : connect, send "hi", print "REPLY <reply>" or "ERR <errno name>"
#   dgram PATH       : sendto PATH, print "SENT" or "ERR <errno name>"
#   ipc DIR          : IPC inside the tree (a path server + client, socketpair,
#                      abstract, a datagram to a path the tree bound): prints each
#   race DIR HOST N  : a thread flips the connect() address buffer between a
#                      socket the tree bound and HOST, N connects; prints
#                      "inside <n> refused <n> host-replies <n>"
#   symlink DIR HOST N : the same with a symlink flipped between the two
#   fork PATH / thread PATH : connect from a forked child / a second thread
import ctypes, errno, os, socket, sys, threading


def name(e):
    return "ERR " + errno.errorcode.get(e.errno, str(e.errno))


def connect(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    try:
        s.connect(path)
        s.sendall(b"hi")
        return "REPLY " + s.recv(100).decode()
    except OSError as e:
        return name(e)
    finally:
        s.close()


def dgram(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.sendto(b"from-tree", path)
        return "SENT"
    except OSError as e:
        return name(e)


def inside_server(path):
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.listen(128)

    def serve():
        while True:
            c, _ = s.accept()
            try:
                c.settimeout(5)
                c.recv(100)
                c.sendall(b"inside")
            except OSError:
                pass
            c.close()

    threading.Thread(target=serve, daemon=True).start()
    return s


def ipc(d):
    p = os.path.join(d, "in.sock")
    inside_server(p)
    print("path", connect(p))
    a, b = socket.socketpair()
    a.send(b"pair")
    print("socketpair", b.recv(10).decode())
    ab = socket.socket(socket.AF_UNIX)
    ab.bind("\0netpen-e2e-abstract")
    ab.listen(1)
    threading.Thread(target=lambda: ab.accept()[0].sendall(b"abstract"), daemon=True).start()
    c = socket.socket(socket.AF_UNIX)
    c.connect("\0netpen-e2e-abstract")
    print("abstract", c.recv(10).decode())
    g = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    gp = os.path.join(d, "g.sock")
    g.bind(gp)
    socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"dgram", gp)
    print("dgram", g.recv(10).decode())


class sockaddr_un(ctypes.Structure):
    _fields_ = [("family", ctypes.c_ushort), ("path", ctypes.c_char * 108)]


def tally(results):
    inside = sum(1 for r in results if r == "REPLY inside")
    refused = sum(1 for r in results if r.startswith("ERR"))
    host = sum(1 for r in results if r.startswith("REPLY pong"))
    print(f"inside {inside} refused {refused} host-replies {host}")


def race(d, host, n):
    inner = os.path.join(d, "race.sock").encode()
    inside_server(inner.decode())
    libc = ctypes.CDLL(None, use_errno=True)
    addr = sockaddr_un(socket.AF_UNIX, inner)
    stop = False

    def flip():
        paths = [inner, host.encode()]
        i = 0
        while not stop:
            addr.path = paths[i & 1]
            i += 1

    t = threading.Thread(target=flip, daemon=True)
    t.start()
    results = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        if libc.connect(s.fileno(), ctypes.byref(addr), ctypes.sizeof(addr)) != 0:
            results.append("ERR")
        else:
            try:
                s.sendall(b"race")
                results.append("REPLY " + s.recv(100).decode())
            except OSError:
                results.append("ERR")
        s.close()
    stop = True
    tally(results)


def symlink_race(d, host, n):
    inner = os.path.join(d, "sym-in.sock")
    inside_server(inner)
    link = os.path.join(d, "link.sock")
    stop = False

    def flip():
        i = 0
        while not stop:
            tmp = link + ".new"
            try:
                os.symlink(inner if i & 1 else host, tmp)
                os.rename(tmp, link)
            except OSError:
                pass
            i += 1

    threading.Thread(target=flip, daemon=True).start()
    results = [connect(link) for _ in range(n)]
    stop = True
    tally(results)


def main():
    mode = sys.argv[1]
    if mode == "connect":
        print(connect(sys.argv[2]))
    elif mode == "dgram":
        print(dgram(sys.argv[2]))
    elif mode == "ipc":
        ipc(sys.argv[2])
    elif mode == "race":
        race(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif mode == "symlink":
        symlink_race(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif mode == "fork":
        pid = os.fork()
        if pid == 0:
            print("child", connect(sys.argv[2]), flush=True)
            os._exit(0)
        os.waitpid(pid, 0)
    elif mode == "thread":
        out = []
        t = threading.Thread(target=lambda: out.append(connect(sys.argv[2])))
        t.start()
        t.join()
        print("thread", out[0])


main()
