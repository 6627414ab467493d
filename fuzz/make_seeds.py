#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets that are not sniffers into
fuzz/corpus/<target>/ (the sniffers' seeds come from netpen_fuzz_seeds:
`build-fuzz/fuzz/netpen_fuzz_seeds fuzz/corpus`). Each seed is a small,
valid input in the target's own input format (see the header of each
fuzz/fuzz_<target>.cpp), so the fuzzer starts past the first checks.
Deterministic: running it again rewrites the same files. Files named
regress-* (inputs that once crashed a target) are left alone.
Usage: fuzz/make_seeds.py [CORPUS_DIR]"""
import os
import struct
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# --- frames ----------------------------------------------------------------

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


CHILD_MAC = bytes.fromhex("020000000002")
GW_MAC = bytes.fromhex("020000000001")
C4, G4 = bytes([10, 0, 2, 15]), bytes([10, 0, 2, 2])
C6, G6 = bytes.fromhex("fd000000000000000000000000000f"), bytes.fromhex("fd000000000000000000000000000002")


def eth(ethertype, body, dst=GW_MAC):
    return dst + CHILD_MAC + struct.pack("!H", ethertype) + body


def ipv4(proto, l4, src=C4, dst=G4, ttl=64):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0x4000, ttl, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return eth(0x0800, h + l4)


def ipv6(nh, l4, src=C6, dst=G6, hlim=64):
    return eth(0x86DD, struct.pack("!IHBB16s16s", 0x60000000, len(l4), nh, hlim, src, dst) + l4)


def tcp(sport, dport, seq, ack, flags, opts=b"", payload=b"", window=65535):
    doff = (20 + len(opts)) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, window, 0, 0) + opts + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


SYN_OPTS = bytes.fromhex("020405b4" "0402" "030307" "01" "0101")  # MSS, SACK-permitted, wscale, NOPs


def frames():
    write("frame", "tcp4-syn", ipv4(6, tcp(40000, 443, 1000, 0, 0x02, SYN_OPTS)))
    write("frame", "tcp6-data", ipv6(6, tcp(40001, 80, 5000, 77, 0x18, b"", b"GET / HTTP/1.1\r\n\r\n")))
    write("frame", "udp4-dns", ipv4(17, udp(51000, 53, bytes.fromhex("123401000001000000000000076578616d706c6503636f6d0000010001"))))
    write("frame", "udp6", ipv6(17, udp(5353, 9999, b"hello")))
    echo = struct.pack("!BBHHH", 8, 0, 0, 7, 1) + b"ping"
    write("frame", "icmp4-echo", ipv4(1, echo[:2] + struct.pack("!H", csum(echo)) + echo[4:]))
    write("frame", "icmp6-echo", ipv6(58, struct.pack("!BBHHH", 128, 0, 0, 7, 1) + b"ping"))
    quoted = ipv4(17, udp(53, 51000, b"x"), src=G4, dst=C4)[14:]
    unreach = struct.pack("!BBHI", 3, 3, 0, 0) + quoted
    write("frame", "icmp4-port-unreachable", ipv4(1, unreach[:2] + struct.pack("!H", csum(unreach)) + unreach[4:]))
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, CHILD_MAC, C4, b"\0" * 6, G4)
    write("frame", "arp-request", eth(0x0806, arp, dst=b"\xff" * 6))
    ns = struct.pack("!BBHI16s", 135, 0, 0, 0, G6) + bytes([1, 1]) + CHILD_MAC
    write("frame", "ndp-solicit", ipv6(58, ns, dst=bytes.fromhex("ff0200000000000000000001ff000002"), hlim=255))
    frag = ipv6(44, bytes([17, 0, 0, 1, 0, 0, 0, 1]) + udp(1, 2, b"f"))
    write("frame", "ipv6-fragment-header", frag)


# --- the TCP endpoint's script ----------------------------------------------
# Header: config byte, mode byte, our ISN (4); passive: the SYN's seq (4),
# window (2), mss (2, when mode&2), wscale (1, when mode&4). Steps: see
# fuzz_tcp_endpoint.cpp (0-2 child segment, 3 write, 4 read, 5 close,
# 6 time, 7 run to deadlines, 8 accept, 9 abort, 10 refuse, 11 buffers).

def seg(flags, seq_delta=0, ack_delta=0, window=65535, opts=0, payload_len=0, extra=b"", sink_budget=None):
    out = bytes([0]) + struct.pack("!BhhHB", flags, seq_delta, ack_delta, window, opts) + extra + bytes([payload_len])
    return out + (bytes([sink_budget]) if sink_budget is not None else b"")


def tcp_scripts():
    cfg = 3 + 6 * 3 + 36 * 2  # rx 4096, tx 4096, mss 1460
    passive = bytes([cfg, 6]) + struct.pack("!IIHHB", 0xFFFFFF00, 5000, 65535, 1460, 7)
    accept_ack = bytes([8]) + seg(0x10)
    write("tcp_endpoint", "passive-echo",
          passive + accept_ack + seg(0x18, payload_len=100) + bytes([4, 0, 200]) + bytes([3, 0, 50])
          + seg(0x10) + bytes([5]) + seg(0x11) + bytes([7]))
    write("tcp_endpoint", "passive-retransmit",
          passive + accept_ack + bytes([3, 0x0F, 0xA0]) + bytes([6, 0x01, 0x00]) + bytes([7]) + seg(0x10, window=0)
          + bytes([6, 0x10, 0x00]) + bytes([7]))
    write("tcp_endpoint", "passive-abort", passive + bytes([9]) + seg(0x04, seq_delta=0))
    write("tcp_endpoint", "passive-out-of-order",
          passive + accept_ack + seg(0x18, seq_delta=50, payload_len=20) + seg(0x18, payload_len=50)
          + seg(0x18, opts=8, payload_len=80, sink_budget=3) + bytes([4, 0xFF, 0xFF]))
    active = bytes([cfg, 1]) + struct.pack("!I", 0x7FFFFFF0)
    write("tcp_endpoint", "active-open",
          active + bytes([0]) + struct.pack("!BhhHB", 0x12, 0, 0, 1000, 3) + struct.pack("!HB", 536, 2) + bytes([0])
          + bytes([3, 0, 10]) + seg(0x10, ack_delta=0) + bytes([5]) + bytes([7]))
    write("tcp_endpoint", "active-refused", active + bytes([10]) + bytes([7]))
    small = bytes([1 + 6 * 1, 0]) + struct.pack("!IIH", 1, 2, 1)  # rx 7, tx 7, mss 1
    write("tcp_endpoint", "tiny-rings", small + accept_ack + seg(0x18, payload_len=9) + bytes([3, 0, 9]) + bytes([7]))


# --- DNS ----------------------------------------------------------------------

def dns_name(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"


def dns_query(qid, name, qtype, flags=0x0100):
    return struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 0) + dns_name(name) + struct.pack("!HH", qtype, 1)


def dns_reply(query, answers):
    qid = struct.unpack("!H", query[:2])[0]
    out = struct.pack("!HHHHHH", qid, 0x8180, 1, len(answers), 0, 0) + query[12:]
    for rtype, rdata in answers:
        out += b"\xc0\x0c" + struct.pack("!HHIH", rtype, 1, 300, len(rdata)) + rdata
    return out


def dns_seeds():
    def pair(opts, q, r):
        return bytes([opts]) + struct.pack("!H", len(q)) + q + r
    q = dns_query(0x1234, "example.com", 1)
    write("dns_message", "a-answer", pair(0, q, dns_reply(q, [(1, bytes([93, 184, 216, 34]))])))
    q6 = dns_query(0x2222, "www.example.com", 28)
    write("dns_message", "cname-aaaa", pair(0x40, q6, dns_reply(q6, [(5, dns_name("example.com")), (28, bytes(15) + b"\1")])))
    qh = dns_query(7, "fuzz.example", 1)
    write("dns_message", "overlay-name", pair(0x10, qh, b""))
    write("dns_message", "synthetic", pair(0x20, dns_query(8, "proxy.example", 1), b""))
    txt = dns_query(9, "txt.example", 16)
    write("dns_message", "nxdomain-tcp", pair(3, struct.pack("!H", len(txt)) + txt, b""))
    write("hosts_file", "etc-hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
          "# comment\n10.0.0.5 api.internal api  # trailing\n")
    write("hosts_file", "overlay", "203.0.113.7 Web.Example.\nfd00::7 web.example\n\n")


# --- proxies -------------------------------------------------------------------

def proxy_seeds():
    # First byte: bit0 credentials, bit1 a name, bit2 IPv6 (and the chunk seed).
    write("socks5_reply", "no-auth-ipv4", bytes([0]) + b"\x05\x00" + b"\x05\x00\x00\x01" + bytes(4) + b"\x01\xbb")
    write("socks5_reply", "userpass-domain", bytes([3]) + b"\x05\x02" + b"\x01\x00" + b"\x05\x00\x00\x03\x0bexample.com\x01\xbb" + b"tunnel")
    write("socks5_reply", "ipv6-refused", bytes([4]) + b"\x05\x00" + b"\x05\x05\x00\x04" + bytes(16) + b"\x00\x00")
    write("socks5_reply", "no-acceptable-method", bytes([1]) + b"\x05\xff")
    write("http_connect_reply", "200", b"\x07HTTP/1.1 200 Connection established\r\n\r\n")
    write("http_connect_reply", "100-then-200", b"\x01HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nVia: p\r\n\r\ntunnel")
    write("http_connect_reply", "407-bare-lf", b"\x03HTTP/1.1 407 Proxy Authentication Required\nProxy-Authenticate: Basic\n\n")


# --- netfilter ----------------------------------------------------------------------

def nlattr(atype, payload, nested=False):
    n = 4 + len(payload)
    return struct.pack("=HH", n, atype | (0x8000 if nested else 0)) + payload + b"\0" * ((4 - n % 4) % 4)


def nlmsg(mtype, flags, body, family=2):
    payload = struct.pack("=BBH", family, 0, 0) + body
    return struct.pack("=IHHII", 16 + len(payload), mtype, flags, 1, 0) + payload


def netfilter_seeds():
    pkt = ipv4(6, tcp(40000, 443, 1, 0, 0x02))[14:]
    nfq = nlmsg(3 << 8, 0, nlattr(1, struct.pack("!IHB", 42, 0x0800, 1)) + nlattr(3, struct.pack("!I", 5)) + nlattr(10, pkt))
    write("netfilter_messages", "nfqueue-packet", nfq)

    def tuple_(atype, src, dst, sport, dport):
        ip = nlattr(1, nlattr(1, src) + nlattr(2, dst), nested=True)
        proto = nlattr(2, nlattr(1, b"\x06") + nlattr(2, struct.pack("!H", sport)) + nlattr(3, struct.pack("!H", dport)), nested=True)
        return nlattr(atype, ip + proto, nested=True)
    ct = (tuple_(1, C4, G4, 40000, 443) + tuple_(2, G4, C4, 443, 40000) + nlattr(3, struct.pack("!I", 0x8))
          + nlattr(4, nlattr(1, nlattr(1, b"\x03"), nested=True), nested=True)
          + nlattr(9, nlattr(1, struct.pack("!Q", 3)) + nlattr(2, struct.pack("!Q", 180)), nested=True)
          + nlattr(8, struct.pack("!I", 1)) + nlattr(12, struct.pack("!I", 99)))
    write("netfilter_messages", "conntrack-new", nlmsg((1 << 8) | 0, 0x400, ct))
    write("netfilter_messages", "conntrack-destroy", nlmsg((1 << 8) | 2, 0, ct))
    log = (nlattr(1, struct.pack("!HBB", 0x86DD, 3, 0)) + nlattr(3, struct.pack("!QQ", 1764000000, 5))
           + nlattr(4, struct.pack("!I", 2)) + nlattr(9, ipv6(17, udp(1, 53, b"q"))[14:]))
    write("netfilter_messages", "nflog-packet", nlmsg((4 << 8) | 0, 0, log, family=10))
    ack = struct.pack("=IHHII", 36, 2, 0, 1, 0) + struct.pack("=i", -1) + struct.pack("=IHHII", 16, 0, 0, 1, 0)
    write("netfilter_messages", "ack-and-packet", ack + nfq)


# --- flow log and profiles -------------------------------------------------------------

# The example of docs/flow-log.md.
FLOW_LOG = "".join(line + "\n" for line in [
    '{"schema_version":2,"time":"2026-11-22T10:35:02.111456Z","event":"run_start","netpen_version":"0.1.0",'
    '"backend":"rootless","command":"curl -s https://example.com","controls":["dns 203.0.113.53"]}',
    '{"schema_version":2,"time":"2026-11-22T10:35:02.123456Z","event":"dns_query","protocol":"dns",'
    '"src":"10.248.0.2:51000","dst":"10.248.0.1:53","query":"example.com","query_type":"A","transport":"udp",'
    '"process":{"pid":4242,"sandbox_pid":7,"command":"curl -s https://example.com"}}',
    '{"schema_version":2,"time":"2026-11-22T10:35:02.143456Z","event":"dns_answer","protocol":"dns",'
    '"src":"10.248.0.2:51000","dst":"10.248.0.1:53","query":"example.com","query_type":"A","rcode":"NOERROR",'
    '"answers":["93.184.216.34"],"transport":"udp","process":{"pid":4242,"sandbox_pid":7,"command":"curl -s https://example.com"}}',
    '{"schema_version":2,"time":"2026-11-22T10:35:02.148456Z","event":"flow_open","protocol":"tcp",'
    '"src":"10.248.0.2:40000","dst":"93.184.216.34:443","name":"example.com","via":"direct",'
    '"process":{"pid":4242,"sandbox_pid":7,"command":"curl -s https://example.com"}}',
    '{"schema_version":2,"time":"2026-11-22T10:35:02.648456Z","event":"flow_close","protocol":"tcp",'
    '"src":"10.248.0.2:40000","dst":"93.184.216.34:443","name":"example.com","via":"direct","sni":"example.com",'
    '"alpn":["h2","http/1.1"],"bytes_out":517,"bytes_in":3300,"duration_ms":500,"end":"closed",'
    '"process":{"pid":4242,"sandbox_pid":7,"command":"curl -s https://example.com"}}',
    '{"schema_version":2,"time":"2026-11-22T10:35:02.660456Z","event":"run_end","exit_status":0,"duration_ms":549}',
])


def text_seeds():
    lines = FLOW_LOG.splitlines(keepends=True)
    write("flow_log", "curl-run", FLOW_LOG)
    write("flow_log", "killed-run", "".join(lines[:4]))
    write("flow_log", "cut-line", "".join(lines[:2]) + lines[2][:40])
    write("flow_log", "denied", lines[0] + '{"schema_version":2,"time":"2026-11-22T10:35:03Z","event":"denied","protocol":"udp",'
          '"src":"10.248.0.2:5000","dst":"198.51.100.1:53","name":"x.example","reason":"policy","process":{"pid":1,"command":"dig"}}\n')
    write("profile_config", "config", "block-metadata = true\n\n[profile.base]\nallow = [\"example.com\", \"*.example.com\"]\n"
          "log = \"run.jsonl\"\nsummary = true\n\n[profile.ci]\nextends = \"base\"\nfail-on-leak = true\nsummary = false\n")
    write("profile_config", "profile-file", "extends = \"../base.toml\"\ndefault_policy = \"deny\"\n"
          "allow_domains = [\"registry.npmjs.org:443\"]\nflow_log = \"out/flows.jsonl\"\ncapture = \"out/run.pcapng\"\n"
          "command = [\"npm\", \"ci\"]\nudp-timeout = 45\n")
    write("profile_config", "cycle", "[profile.a]\nextends = \"b\"\n[profile.b]\nextends = \"a\"\n")


if __name__ == "__main__":
    frames()
    tcp_scripts()
    dns_seeds()
    proxy_seeds()
    netfilter_seeds()
    text_seeds()
