"""scripts/bench's report: reads the raw outputs of one bench run (iperf3,
wrk, hyperfine, flowhold and the /proc/stat samples framing every client
run), prints the medians, the ratios, the cost figures and issue 22's
targets, and writes bench.json. Its settings come from BENCH_* variables
set by scripts/bench; docs/benchmarks.md explains every figure.

Cost: each client run's OUT.cpu holds /proc/stat's aggregate "cpu" line
from before and after the run. Busy time = the change of user + nice +
system + irq + softirq (total - idle - iowait, where total leaves out steal:
time the hypervisor gave to someone else is no work of this machine), in
clock ticks (BENCH_CLK_TCK a second). A run's cost is its busy CPU-seconds
over the work the run did: GB the receiver counted (TCP), connections wrk
completed, starts hyperfine made. The figure is the median over reps.
"""
import json, os, re, statistics, datetime

raw = os.environ["BENCH_RAW"]
modes = os.environ["BENCH_MODES"].split()
suites = os.environ["BENCH_SUITES"].split()
HZ = int(os.environ["BENCH_CLK_TCK"])
failures = []


def cpu_delta(text):
    """(busy CPU-s, all CPU-s) between the two /proc/stat "cpu" lines in text."""
    rows = [[int(x) for x in line.split()[1:]] for line in text.splitlines() if line.startswith("cpu ")]
    if len(rows) != 2:
        raise ValueError("not two /proc/stat cpu lines")
    d = [b - a for a, b in zip(rows[0], rows[1])]
    total = sum(d[:7])  # user nice system idle iowait irq softirq
    return (total - d[3] - d[4]) / HZ, total / HZ


def load_cpu(path):
    return cpu_delta(open(path).read())


def busy_pct(cpu):
    busy, total = cpu
    return 100 * busy / total if total > 0 else None


def cost_runs(pattern_fn, work_fn, mode, scale):
    """Per rep: (busy CPU-s * scale / work, machine busy %) for every rep whose
    output and .cpu file both load; work_fn(path) is the work the run did.
    A rep that does not load is left out (its failure is reported once, by
    the figure's own loader)."""
    out, i = [], 1
    while os.path.exists(pattern_fn(mode, i)):
        p = pattern_fn(mode, i)
        i += 1
        try:
            cpu, work = load_cpu(p + ".cpu"), work_fn(p)
        except Exception:  # noqa: BLE001
            continue
        if work > 0:
            out.append((cpu[0] * scale / work, busy_pct(cpu)))
    return out


def tcp_gb(path):
    """GB (1e9 bytes) the receiver counted in the whole run: the report's
    sum_received plus the omitted first seconds (-O), which the CPU samples
    also cover (their count is the client's: the sender's on upload)."""
    j = json.load(open(path))
    omitted = sum(x["sum"]["bytes"] for x in j.get("intervals", []) if x["sum"].get("omitted"))
    return (j["end"]["sum_received"]["bytes"] + omitted) / 1e9


def wrk_requests(path):
    n = re.search(r"(\d+) requests in", open(path).read())
    if not n:
        raise ValueError("no request count")
    return int(n.group(1))

def load_iperf_end(path):
    """The "end" object of an iperf3 --json output, or its error."""
    with open(path) as f:
        j = json.load(f)
    if "error" in j:
        raise ValueError(j["error"])
    return j["end"]

def load_tcp(path):
    end = load_iperf_end(path)
    return end["sum_received"]["bits_per_second"], end["sum_sent"]["bits_per_second"]

def load_udp(path):
    end = load_iperf_end(path)
    s = end["sum"]
    lost = s["lost_percent"]  # the receiver's count: gaps in the sequence numbers
    sent = end.get("sum_sent", s)
    recv = end.get("sum_received")
    if recv is not None:
        rbps, rbytes = recv["bits_per_second"], recv["bytes"]
    else:  # iperf3 < 3.10 has no sum_received; derive it from the loss
        rbps = s["bits_per_second"] * (1 - lost / 100)
        rbytes = s["bytes"] * (1 - lost / 100)
    if rbytes <= 0:
        raise ValueError("no datagram received")
    # Datagrams after the last one received (dropped, or still queued in a
    # relay when the test ended) are no gap, so lost_percent misses them;
    # the share of sent bytes never received counts them too.
    undelivered = 100 * (1 - rbytes / sent["bytes"]) if sent["bytes"] else None
    return rbps, lost, sent["bits_per_second"], undelivered

def load_wrk(path):
    text = open(path).read()
    m = re.search(r"Requests/sec:\s*([0-9.]+)", text)
    if not m:
        raise ValueError("no Requests/sec in wrk output")
    n = re.search(r"(\d+) requests in", text)
    if n and int(n.group(1)) == 0:
        raise ValueError("no request completed")
    errs = re.search(r"Socket errors:.*", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return float(m.group(1)), (errs.group(0) if errs else ""), int(non2xx.group(1)) if non2xx else 0

def runs(pattern_fn, loader, mode):
    out, i = [], 1
    while True:
        p = pattern_fn(mode, i)
        if not os.path.exists(p):
            break
        try:
            out.append(loader(p))
        except Exception as e:  # noqa: BLE001 - any bad output is a failed run
            failures.append(f"{os.path.basename(p)}: {e}")
        i += 1
    return out

# metric -> (label, unit, higher_is_better, {mode: [values]}, extra)
metrics = {}


def add_cost_metrics(kind, pattern_for, work_fn, scale, unit, word):
    """tcp: metrics tcp_up_cost, tcp_down_cost (+ _busy); others: KIND_cost (+ _busy)."""
    dirs = (("up", "upload"), ("down", "download")) if kind == "tcp" else ((None, None),)
    names = {"conn": "new connection", "startup": "startup"}
    for d, word_d in dirs:
        key = f"{kind}_{d}" if d else kind
        label = f"tcp {word_d}" if d else names[kind]
        cost, busy = {}, {}
        for m in modes:
            r = cost_runs(pattern_for(d), work_fn, m, scale)
            cost[m] = [x[0] for x in r]
            busy[m] = [x[1] for x in r if x[1] is not None]
        metrics[f"{key}_cost"] = dict(label=f"{label} {word}", unit=unit, higher=False, runs=cost)
        metrics[f"{key}_busy"] = dict(label=f"{label}: machine busy", unit="%", higher=False, runs=busy,
                                      no_ratio=True)
if "tcp" in suites:
    for d, label in (("up", "tcp upload (host->inet)"), ("down", "tcp download (-R)")):
        vals, sent = {}, {}
        for m in modes:
            r = runs(lambda mode, i, d=d: f"{raw}/tcp-{d}-{mode}-{i}.json", load_tcp, m)
            vals[m] = [x[0] / 1e9 for x in r]
            sent[m] = [x[1] / 1e9 for x in r]
        metrics[f"tcp_{d}"] = dict(label=label, unit="Gbit/s", higher=True, runs=vals,
                                   sender_runs=sent)
    add_cost_metrics("tcp", lambda d: lambda mode, i: f"{raw}/tcp-{d}-{mode}-{i}.json", tcp_gb, 1,
                     "CPU-s/GB", "cost")
if "udp" in suites:
    rate = os.environ["BENCH_UDP_RATE"]
    for d, label in (("up", "udp upload (host->inet)"), ("down", "udp download (-R)")):
        vals, lost, sent, undel = {}, {}, {}, {}
        for m in modes:
            r = runs(lambda mode, i, d=d: f"{raw}/udp-{d}-{mode}-{i}.json", load_udp, m)
            vals[m] = [x[0] / 1e9 for x in r]
            lost[m] = [x[1] for x in r]
            sent[m] = [x[2] / 1e9 for x in r]
            undel[m] = [x[3] for x in r if x[3] is not None]
        metrics[f"udp_{d}"] = dict(label=f"{label[:4]}{rate} {label[4:]}", unit="Gbit/s",
                                   higher=True, runs=vals, sender_runs=sent)
        metrics[f"udp_{d}_loss"] = dict(label=f"udp {rate} {label.split()[1]} loss", unit="%", higher=False,
                                        runs=lost, undelivered_runs=undel, no_ratio=True)
if "conn" in suites:
    vals, errs = {}, {}
    for m in modes:
        r = runs(lambda mode, i: f"{raw}/conn-{mode}-{i}.txt", load_wrk, m)
        vals[m] = [x[0] for x in r]
        errs[m] = [x[1] for x in r if x[1]] + [f"non-2xx: {x[2]}" for x in r if x[2]]
    metrics["conn_rate"] = dict(label="new connections (close)", unit="req/s", higher=True,
                                runs=vals, errors=errs)
    add_cost_metrics("conn", lambda d: lambda mode, i: f"{raw}/conn-{mode}-{i}.txt", wrk_requests, 1e6,
                     "CPU-us", "cost")
if "startup" in suites:
    vals = {}
    for m in modes:
        p = f"{raw}/startup-{m}.json"
        try:
            j = json.load(open(p))["results"][0]
            vals[m] = [t * 1e3 for t in j["times"]]
        except Exception as e:  # noqa: BLE001
            failures.append(f"startup-{m}: {e}")
            vals[m] = []
    metrics["startup"] = dict(label="startup (-- true)", unit="ms",
                              higher=False, runs=vals)
    starts = int(os.environ["BENCH_HF_STARTS"])  # hyperfine's warmup + runs, all inside the CPU samples
    add_cost_metrics("startup", lambda d: lambda mode, i: f"{raw}/startup-{mode}.json.out" if i == 1 else "/nonexistent",
                     lambda p: starts, 1e3, "CPU-ms", "cost")

def load_pingpong(path):
    lines = open(path).read().strip().splitlines()
    if not lines:
        raise ValueError("no output")
    return json.loads(lines[-1])["median_us"]

if "latency" in suites:
    vals = {m: runs(lambda mode, i: f"{raw}/latency-{mode}-{i}.json", load_pingpong, m) for m in modes}
    metrics["latency"] = dict(label="request/response (median)", unit="us", higher=False, runs=vals)

for k, v in metrics.items():
    v["median"] = {m: (statistics.median(x) if x else None) for m, x in v["runs"].items()}

def median_or_none(x):
    return statistics.median(x) if x else None

# iperf3 -P 4: direct, netpen, netpen on a 2-thread pool.
multi = {}
if "multi" in suites:
    kinds = ["direct"] + (["netpen", "netpen-t2"] if "netpen" in modes else [])
    for d, label in (("up", "tcp -P 4 upload"), ("down", "tcp -P 4 download")):
        vals = {k: [x[0] / 1e9 for x in runs(lambda mode, i, d=d: f"{raw}/multi-{d}-{mode}-{i}.json", load_tcp, k)]
                for k in kinds}
        cost = {k: [x[0] for x in cost_runs(lambda mode, i, d=d: f"{raw}/multi-{d}-{mode}-{i}.json", tcp_gb, k, 1)]
                for k in kinds}
        multi[d] = dict(label=label, unit="Gbit/s", runs=vals,
                        median={k: median_or_none(x) for k, x in vals.items()},
                        cost_runs=cost, cost_median={k: median_or_none(x) for k, x in cost.items()})

# SCALE_FLOWS (50,000) connections held through one netpen.
scale = None
if "scale" in suites and "netpen" in modes:
    def load_hold(path):
        text = open(path).read()
        est = re.search(r"^established (\d+)/(\d+)", text, re.M)
        still = re.search(r"^still (\d+)/(\d+)", text, re.M)
        if not est or not still:
            raise ValueError("no established/still lines")
        return int(est.group(1)), int(still.group(1)), int(est.group(2))
    def load_rss(path):
        return int(open(path).read().strip()) / 1024
    plain = [x[0] for x in runs(lambda mode, i: f"{raw}/scale-plain-{i}.txt", load_wrk, "")]
    held = [x[0] for x in runs(lambda mode, i: f"{raw}/scale-held-{i}.wrk", load_wrk, "")]
    rss = runs(lambda mode, i: f"{raw}/scale-held-{i}.rss", load_rss, "")
    holds = runs(lambda mode, i: f"{raw}/scale-held-{i}.out", load_hold, "")
    med = lambda x: statistics.median(x) if x else None
    scale = dict(flows=holds[0][2] if holds else None, established_runs=[h[0] for h in holds],
                 still_runs=[h[1] for h in holds], rss_mb_runs=rss, rate_plain_runs=plain, rate_held_runs=held,
                 rss_mb=med(rss), rss_mb_max=max(rss) if rss else None,
                 rate_plain=med(plain), rate_held=med(held))
    scale["rate_ratio"] = scale["rate_held"] / scale["rate_plain"] if scale["rate_plain"] and scale["rate_held"] else None
    cplain = [x[0] for x in cost_runs(lambda mode, i: f"{raw}/scale-plain-{i}.txt", wrk_requests, "", 1e6)]
    cheld = [x[0] for x in cost_runs(lambda mode, i: f"{raw}/scale-held-{i}.wrk", wrk_requests, "", 1e6)]
    scale.update(conn_cost_plain_runs=cplain, conn_cost_held_runs=cheld,
                 conn_cost_plain=med(cplain), conn_cost_held=med(cheld))
    scale["all_ok"] = bool(holds) and all(h[0] == h[2] and h[1] == h[2] for h in holds)
    scale["limited"] = os.environ.get("BENCH_SCALE_LIMITED") or None

# netpen against itself (proxy, capture): their own columns, not the modes'.
variants = {"proxy": ("netpen-connect", "netpen-socks5"), "capture": ("netpen-capture", "netpen-capture-egress"),
            "names": ("netpen-name-rule", "netpen-log")}
variant_metrics = {}
for suite, kinds in variants.items():
    if suite not in suites or "netpen" not in modes:
        continue
    for d, label in (("up", "tcp upload (host->inet)"), ("down", "tcp download (-R)")):
        vals = {}
        for kind in ("netpen",) + kinds:
            r = runs(lambda mode, i, d=d, suite=suite: f"{raw}/{suite}-{d}-{mode}-{i}.json", load_tcp, kind)
            vals[kind] = [x[0] / 1e9 for x in r]
        med = {m: (statistics.median(x) if x else None) for m, x in vals.items()}
        ratio = {k: (med[k] / med["netpen"] if med["netpen"] and med[k] else None) for k in kinds}
        variant_metrics[f"{suite}_{d}"] = dict(suite=suite, label=label, unit="Gbit/s", runs=vals, median=med,
                                               kinds=kinds, ratio_to_plain_netpen=ratio)
        cost = {kind: [x[0] for x in cost_runs(lambda mode, i, d=d, suite=suite: f"{raw}/{suite}-{d}-{mode}-{i}.json",
                                               tcp_gb, kind, 1)] for kind in ("netpen",) + kinds}
        cmed = {m: median_or_none(x) for m, x in cost.items()}
        cratio = {k: (cmed[k] / cmed["netpen"] if cmed["netpen"] and cmed[k] else None) for k in kinds}
        variant_metrics[f"{suite}_{d}_cost"] = dict(suite=suite, label=f"{label.split(' (')[0]} cost", unit="CPU-s/GB",
                                                    runs=cost, median=cmed, kinds=kinds, ratio_to_plain_netpen=cratio)

pairs = [("netpen", "direct"), ("netpen", "pasta"), ("netpen", "slirp4netns"),
         ("pasta", "direct"), ("slirp4netns", "direct")]
pairs = [p for p in pairs if p[0] in modes and p[1] in modes]
ratios = {}
for k, v in metrics.items():
    if v.get("no_ratio"):  # a ratio of loss percentages means little (0/0)
        continue
    med = v["median"]
    ratios[k] = {f"{a}/{b}": (med[a] / med[b] if med[a] and med[b] else None) for a, b in pairs}
    if "netpen" in modes and "pasta" in modes and "slirp4netns" in modes:
        peers = [med[p] for p in ("pasta", "slirp4netns") if med[p]]
        if med["netpen"] and peers:  # the better peer: the faster, or the cheaper
            ratios[k]["netpen/best_peer"] = med["netpen"] / (max(peers) if v["higher"] else min(peers))

def fmt(x, unit):
    if x is None:
        return "FAILED"
    if unit == "req/s":
        return f"{x:.0f}"
    if unit in ("us", "CPU-us"):
        return f"{x:.1f}"
    if unit == "%":
        return "0" if x == 0 else f"{x:.2g}" if x < 0.1 else f"{x:.1f}"
    if x < 0.1:
        return f"{x:.2g}"
    return f"{x:.2f}" if x < 100 else f"{x:.0f}"

machine = dict(nproc=int(os.environ["BENCH_NPROC"]), kernel=os.environ["BENCH_KERNEL"],
               cpu=os.environ["BENCH_CPU"])
print()
print(f"machine: nproc={machine['nproc']} kernel={machine['kernel']} cpu={machine['cpu']}")
print(f"settings: {os.environ['BENCH_SETTINGS']}")
idle = None
try:
    cpu = load_cpu(f"{raw}/idle.cpu")
    idle = dict(busy_pct=busy_pct(cpu), busy_cpu_s=cpu[0], seconds=cpu[1] / machine["nproc"])
    idle["warning"] = idle["busy_pct"] is not None and idle["busy_pct"] > 10
    if idle["warning"]:
        print(f"WARNING: the machine was already {idle['busy_pct']:.0f}% busy over 1 s before measuring "
              "(over 10%): something else ran, and the figures, the cost ones above all, mean little")
    else:
        print(f"idle check: {idle['busy_pct']:.0f}% busy over 1 s before measuring")
except Exception as e:  # noqa: BLE001
    print(f"idle check: none ({e})")
if os.environ["BENCH_SKIP_NETPEN"] == "1":
    print("netpen: SKIPPED (--skip-netpen)")
else:
    print(f"netpen: {os.environ['BENCH_NETPEN']}")
print()
w = 30
print("Medians".ljust(w) + "unit".ljust(10) + "".join(m.rjust(13) for m in modes) + "   runs")
for k, v in metrics.items():
    n = min(len(x) for x in v["runs"].values())
    print(v["label"][:w - 1].ljust(w) + v["unit"].ljust(10) +
          "".join(fmt(v["median"][m], v["unit"]).rjust(13) for m in modes) + f"   {n}")
print()
cols = [f"{a}/{b}" for a, b in pairs]
if any("netpen/best_peer" in r for r in ratios.values()):
    cols.append("netpen/best_peer")
if cols:
    print("Ratios (of medians)".ljust(w + 10) + "".join(c.rjust(max(13, len(c) + 2)) for c in cols))
    for k, v in metrics.items():
        if k not in ratios:
            continue
        row = v["label"][:w - 1].ljust(w + 10)
        for c in cols:
            r = ratios[k].get(c)
            row += (f"{r:.2f}x" if r is not None else "-").rjust(max(13, len(c) + 2))
        print(row)
    print()
titles = {"proxy": ("netpen through proxies", "CONNECT: tinyproxy, which relays in 2 KiB reads; SOCKS5: dante"),
          "capture": ("netpen with -o /dev/null", "the capture's CPU cost; the disk's is not measured"),
          "names": ("netpen under a name rule", "name-rule: --allow web.lab.test,<server>; log: --log /dev/null")}
for suite in variants:
    rows = [v for v in variant_metrics.values() if v["suite"] == suite]
    if not rows:
        continue
    kinds = rows[0]["kinds"]
    cw = [max(10, len(k) - len("netpen-") + 2) for k in kinds]  # a column per variant
    rw = [max(16, len(k) - len("netpen-") + len("/plain") + 2) for k in kinds]
    print(titles[suite][0].ljust(w) + "unit".ljust(10) + "plain".rjust(10) +
          "".join(k.replace("netpen-", "").rjust(c) for k, c in zip(kinds, cw)) +
          "".join((k.replace("netpen-", "") + "/plain").rjust(c) for k, c in zip(kinds, rw)) + "   runs")
    for v in rows:
        n = min(len(x) for x in v["runs"].values())
        r = v["ratio_to_plain_netpen"]
        print(v["label"][:w - 1].ljust(w) + v["unit"].ljust(10) +
              fmt(v["median"]["netpen"], v["unit"]).rjust(10) +
              "".join(fmt(v["median"][k], v["unit"]).rjust(c) for k, c in zip(kinds, cw)) +
              "".join((f"{r[k]:.2f}x" if r[k] is not None else "-").rjust(c) for k, c in zip(kinds, rw)) + f"   {n}")
    print(f"({titles[suite][1]})")
    print()
if multi:
    kinds = list(next(iter(multi.values()))["runs"].keys())
    names = {"direct": "direct", "netpen": "netpen", "netpen-t2": "netpen(2 thr)"}
    print("iperf3 -P 4".ljust(w) + "unit".ljust(10) + "".join(names[k].rjust(15) for k in kinds) +
          ("netpen/direct".rjust(15) + "2thr/direct".rjust(13) + "netpen P4/P1".rjust(14) if "netpen" in kinds else ""))
    for d, v in multi.items():
        med = v["median"]
        row = v["label"].ljust(w) + v["unit"].ljust(10) + "".join(fmt(med[k], v["unit"]).rjust(15) for k in kinds)
        if "netpen" in kinds:
            r1 = med["netpen"] / med["direct"] if med["netpen"] and med["direct"] else None
            r2 = med["netpen-t2"] / med["direct"] if med["netpen-t2"] and med["direct"] else None
            p1 = metrics.get(f"tcp_{d}", {}).get("median", {}).get("netpen")
            r3 = med["netpen"] / p1 if med["netpen"] and p1 else None
            row += "".join((f"{r:.2f}x" if r is not None else "-").rjust(c) for r, c in ((r1, 15), (r2, 13), (r3, 14)))
        print(row)
        cm = v["cost_median"]
        row = (v["label"] + " cost").ljust(w) + "CPU-s/GB".ljust(10) + "".join(fmt(cm[k], "").rjust(15) for k in kinds)
        if "netpen" in kinds:
            r1 = cm["netpen"] / cm["direct"] if cm["netpen"] and cm["direct"] else None
            r2 = cm["netpen-t2"] / cm["direct"] if cm["netpen-t2"] and cm["direct"] else None
            row += "".join((f"{r:.2f}x" if r is not None else "-").rjust(c) for r, c in ((r1, 15), (r2, 13)))
        print(row)
    print(f"(default pool: NETPEN_THREADS unset = half the cores, here {max(1, machine['nproc'] // 2)})")
    print()
if scale:
    print(f"netpen holding {scale['flows']} connections (runs: {len(scale['rss_mb_runs'])})")
    if scale["limited"]:
        print(f"  ({scale['limited']})")
    print(f"  established / still working:  {scale['established_runs']} / {scale['still_runs']}")
    print(f"  netpen RSS:                   median {fmt(scale['rss_mb'], 'MB')} MB, max {fmt(scale['rss_mb_max'], 'MB')} MB")
    print(f"  new connections (close):      {fmt(scale['rate_held'], 'req/s')} req/s held vs "
          f"{fmt(scale['rate_plain'], 'req/s')} req/s nothing held = "
          + (f"{scale['rate_ratio']:.2f}x" if scale['rate_ratio'] is not None else "-"))
    print(f"  cost of a new connection:     {fmt(scale['conn_cost_held'], 'CPU-us')} CPU-us held vs "
          f"{fmt(scale['conn_cost_plain'], 'CPU-us')} CPU-us nothing held")
    print()
print("direct = the lab host's veth path; its startup is `unshare -Urn true`.")
print("Throughput and connection rate: ratio > 1 means the first mode is faster;")
print("startup is a time: ratio < 1 means the first mode starts faster.")
print("Cost (CPU-s/GB, CPU-us a connection, CPU-ms a start): the whole machine's busy CPU time")
print("during the runs (/proc/stat) over their work; ratio < 1 means the first mode costs less.")
print("machine busy = busy share of all CPUs during those runs (100% = every CPU busy).")
print("best_peer = the better of pasta and slirp4netns (the faster, or the cheaper).")
notes = []
for k, v in metrics.items():
    for m, e in v.get("errors", {}).items():
        if e:
            notes.append(f"{k} {m}: {'; '.join(sorted(set(e)))}")
for k, v in metrics.items():  # a median hides unstable runs; say so
    if v.get("no_ratio"):
        continue
    for m, x in v["runs"].items():
        if len(x) > 1 and min(x) > 0 and max(x) / min(x) > 2 or len(x) > 1 and min(x) <= 0 < max(x):
            notes.append(f"{k} {m}: unstable runs, {fmt(min(x), v['unit'])} .. "
                         f"{fmt(max(x), v['unit'])} {v['unit']}")
for k, v in metrics.items():  # tail loss that lost_percent does not count
    for m, x in v.get("undelivered_runs", {}).items():
        med = statistics.median(x) if x else None
        if med is not None and v["median"][m] is not None and med - v["median"][m] > 5:
            notes.append(f"{k} {m}: {fmt(med, '%')} % of the sent bytes never arrived "
                         f"(lost_percent {fmt(v['median'][m], '%')} % counts gaps only)")
if "udp" in suites:  # a sender starved of CPU offers less than asked, and loses less
    rate = os.environ["BENCH_UDP_RATE"]
    offered = float(rate.rstrip("KMGkmg")) * {"k": 1e3, "m": 1e6, "g": 1e9}.get(rate[-1].lower(), 1)
    for k in ("udp_up", "udp_down"):
        for m, x in metrics.get(k, {}).get("sender_runs", {}).items():
            if x and statistics.median(x) * 1e9 < 0.9 * offered:
                notes.append(f"{k} {m}: the sender reached only {fmt(statistics.median(x), '')} "
                             f"Gbit/s of the offered {rate}")
# Issue 22's targets: one line each, met or missed; printed, not the exit status.
targets = []


def target(name, value, op, limit, unit="x", how="", not_the_target=False):
    """A target line: met or missed; n/a when there is no figure, or when
    the figure was not taken as the target states (how says why)."""
    status = "n/a"
    if value is not None and not not_the_target:
        status = "met" if (value >= limit if op == ">=" else value <= limit) else "missed"
    targets.append(dict(name=name, value=value, op=op, limit=limit, unit=unit, status=status, how=how))


def ratio_of(k, col):
    return ratios.get(k, {}).get(col)


def median_of(k, m):
    return metrics.get(k, {}).get("median", {}).get(m)


if "netpen" in modes and "direct" in modes:
    for d, word in (("up", "upload"), ("down", "download")):
        if "tcp" in suites:
            target(f"tcp {word} CPU per GB, netpen/direct", ratio_of(f"tcp_{d}_cost", "netpen/direct"), "<=", 1.25)
    for d, word, bar in (("up", "upload", 0.85), ("down", "download", 0.95)):
        if "tcp" in suites:
            target(f"tcp {word} throughput, netpen/direct", ratio_of(f"tcp_{d}", "netpen/direct"), ">=", bar)
    if "conn" in suites:
        target("CPU per new connection, netpen/direct", ratio_of("conn_cost", "netpen/direct"), "<=", 2.2)
        target("new-connection rate, netpen/direct", ratio_of("conn_rate", "netpen/direct"), ">=", 0.45)
    if "latency" in suites:
        added = median_of("latency", "netpen") - median_of("latency", "direct") if median_of("latency", "netpen") is not None and \
            median_of("latency", "direct") is not None else None
        target("round trip added by netpen", added, "<=", 25, " us")
    if "startup" in suites:
        target("startup, netpen/(unshare -Urn true)", ratio_of("startup", "netpen/direct"), "<=", 2.0)
if scale:
    goal = int(os.environ["BENCH_SCALE_TARGET"])
    small = scale["flows"] is not None and scale["flows"] < goal
    at = f"at {scale['flows']} flows"
    why = (os.environ.get("BENCH_SCALE_LIMITED") or f"held {scale['flows']}, the target is at {goal}") if small else ""
    target(f"{goal} flows held, all kept working", 1.0 if scale["all_ok"] else 0.0, ">=", 1.0, "",
           why or f"established {scale['established_runs']}, still working {scale['still_runs']}", small)
    target(f"netpen RSS holding {goal} flows (max)", scale["rss_mb_max"], "<=", 500, " MB", at if small else "", small)
    target(f"new-connection rate while {goal} are held / empty", scale["rate_ratio"], ">=", 0.9, "x",
           at if small else "", small)
if all(m in modes for m in ("netpen", "pasta", "slirp4netns")):
    # Against the better peer: throughput, rate: netpen/peer; cost, times: peer/netpen (> 1 = netpen better).
    def vs_peer(k, word, higher):
        if k not in metrics:
            return
        peers = {p: median_of(k, p) for p in ("pasta", "slirp4netns") if median_of(k, p)}
        n = median_of(k, "netpen")
        if not peers or not n:
            target(f"{word}, vs best peer", None, ">=", 2.0, "x", "no figure")
            return
        best = (max if higher else min)(peers, key=peers.get)
        value = n / peers[best] if higher else peers[best] / n
        how = f"netpen/{best}, higher is better" if higher else f"{best}/netpen, lower is better"
        target(f"{word}, vs best peer", value, ">=", 2.0, "x", how)
    for k, word, higher in (("tcp_up", "tcp upload throughput", True), ("tcp_down", "tcp download throughput", True),
                            ("tcp_up_cost", "tcp upload CPU per GB", False),
                            ("tcp_down_cost", "tcp download CPU per GB", False),
                            ("conn_rate", "new-connection rate", True), ("conn_cost", "CPU per new connection", False),
                            ("startup", "startup time", False), ("startup_cost", "CPU per startup", False)):
        vs_peer(k, word, higher)
    if "latency" in metrics and "direct" in modes:  # what each adds to the direct round trip
        base = median_of("latency", "direct")
        added = {m: median_of("latency", m) - base for m in ("netpen", "pasta", "slirp4netns")
                 if median_of("latency", m) is not None and base is not None}
        peers = {p: a for p, a in added.items() if p != "netpen"}
        if "netpen" in added and peers:
            best = min(peers, key=peers.get)
            value = peers[best] / added["netpen"] if added["netpen"] > 0 else float("inf")
            target("round trip added over direct, vs best peer", value, ">=", 2.0, "x",
                   f"{best} +{peers[best]:.1f} us / netpen +{added['netpen']:.1f} us, lower is better")
for suite, kind, word, bar in (("capture", "netpen-capture", "capture -o /dev/null", 0.85),
                               ("names", "netpen-name-rule", "name rule", 0.97)):
    for d, dword in (("up", "upload"), ("down", "download")):
        v = variant_metrics.get(f"{suite}_{d}")
        if v:
            target(f"tcp {dword} with {word}, /plain netpen", v["ratio_to_plain_netpen"].get(kind), ">=", bar)
if targets:
    print()
    print("Targets (issue 22; capture: issue 5; name rule: issue 19)")
    for t in targets:
        v = t["value"]
        shown = "-" if v is None else "inf" if v == float("inf") else \
            (f"{v:.2f}x" if t["unit"] == "x" else f"{v:+.1f} us" if t["unit"] == " us" else
             f"{v:.0f} MB" if t["unit"] == " MB" else "yes" if v >= 1 else "no")
        lim = f"{t['op']} {t['limit']}{t['unit'].strip() if t['unit'] != 'x' else 'x'}" if t["unit"] else ""
        extra = f"  ({t['how']})" if t["how"] else ""
        print(f"  {t['name'][:55]:<56}{shown:>10}  {lim:<10} {t['status']}{extra}")
# The machine's floors (suite `floors`): what it charges for steps any
# userspace relay takes, and what that leaves of the targets they bound.
floors = None
if "floors" in suites:
    try:
        floors = json.load(open(f"{raw}/floors.json"))
    except Exception as e:  # noqa: BLE001
        failures.append(f"floors: {e}")
if floors:
    def fl(k):
        v = floors.get(k)
        return None if v is None else float(v)
    print()
    print("Machine floors (netpen_machine_floors, as the bench user)")
    rows = (("a system call (getppid)", fl("syscall_us"), "us"),
            ("a wake-up on the other CPU (half a pipe round trip)", fl("hop_cross_cpu_us"), "us"),
            ("a wake-up on the same CPU", fl("hop_same_cpu_us"), "us"),
            ("an exec of /bin/true, spawn to reap", fl("exec_true_ms"), "ms"),
            ("a first touch of an anonymous page", fl("fault_us"), "us"),
            ("a GB of 64 KiB copies (64 MiB working set)", fl("copy_s_per_gb"), "CPU-s"))
    for label, v, unit in rows:
        print(f"  {label:<56}{'-' if v is None else f'{v:.3g}':>10} {unit}")
    hop = fl("hop_cross_cpu_us")
    if hop is not None:
        print(f"  round trip: a relay thread asleep between request and answer is woken twice per round trip "
              f"(the tap, then the host socket): {2 * hop:.1f} us of the +25 us allowed; netpen polls before "
              "it sleeps to be woken less (docs/relay.md)")
    exec_ms = fl("exec_true_ms")
    base = median_of("startup", "direct")
    if exec_ms is not None and base:
        print(f"  startup: `unshare -Urn true` ({base:.2f} ms here) execs twice, as `netpen -- true` does "
              f"({2 * exec_ms:.2f} ms); the 2x bar leaves netpen {2 * base - 2 * exec_ms:.2f} ms for the rest")
    copy = fl("copy_s_per_gb")
    direct_up = median_of("tcp_up_cost", "direct")
    if copy is not None and direct_up:
        print(f"  per byte: a relay copies each byte twice more, {2 * copy:.3f} CPU-s per GB, of the "
              f"{0.25 * direct_up:.3f} that 1.25x direct's upload cost allows")
for n in notes:
    print("note:", n)
for f in failures:
    print("FAILED run:", f)

summary = dict(
    date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    machine=machine, settings=os.environ["BENCH_SETTINGS"], modes=modes,
    netpen=None if os.environ["BENCH_SKIP_NETPEN"] == "1" else os.environ["BENCH_NETPEN"],
    metrics={k: dict(label=v["label"], unit=v["unit"], higher_is_better=v["higher"],
                     median=v["median"], runs=v["runs"],
                     **({"sender_runs": v["sender_runs"]} if "sender_runs" in v else {}),
                     **({"undelivered_runs": v["undelivered_runs"]}
                        if "undelivered_runs" in v else {}),
                     **({"errors": v["errors"]} if "errors" in v else {}))
             for k, v in metrics.items()},
    ratios=ratios, targets=targets, idle_check=idle, clk_tck=HZ, failures=failures, netpen_variants=variant_metrics,
    multi_stream=multi, scale=scale, floors=floors)
with open(os.environ["BENCH_JSON"], "w") as f:
    json.dump(summary, f, indent=2)
raise SystemExit(1 if failures else 0)
