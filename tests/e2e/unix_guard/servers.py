# Host-side servers for test_unix_guard.sh, in directory DIR: a stream echo
# server (host.sock: "pong:<data>", one line per accepted connection in
# host.log), a datagram sink (dgram.sock: each datagram appended to
# dgram.log) and an HTTP server on a Unix socket (http.sock). Bounded by
# the caller (timeout); every socket is world-writable for netpen-test.
import http.server, os, socket, socketserver, sys, threading

d = sys.argv[1]


def sock(name, kind):
    p = os.path.join(d, name)
    s = socket.socket(socket.AF_UNIX, kind)
    s.bind(p)
    os.chmod(p, 0o666)
    return s


def stream():
    s = sock("host.sock", socket.SOCK_STREAM)
    s.listen(64)
    while True:
        c, _ = s.accept()
        with open(os.path.join(d, "host.log"), "a") as log:
            log.write("accepted\n")
        c.settimeout(5)
        try:
            c.sendall(b"pong:" + c.recv(100))
        except OSError:
            pass
        c.close()


def dgram():
    s = sock("dgram.sock", socket.SOCK_DGRAM)
    while True:
        data = s.recv(4096)
        with open(os.path.join(d, "dgram.log"), "ab") as log:
            log.write(data + b"\n")


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"unix-http-ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def address_string(self):
        return "unix"

    def log_message(self, *args):
        pass


class UnixHTTP(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


threading.Thread(target=stream, daemon=True).start()
threading.Thread(target=dgram, daemon=True).start()
httpd = UnixHTTP(os.path.join(d, "http.sock"), Handler)
os.chmod(os.path.join(d, "http.sock"), 0o666)
open(os.path.join(d, "ready"), "w").close()
httpd.serve_forever()
