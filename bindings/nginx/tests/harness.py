"""Shared pieces of the nginx tests and benchmark: free ports, an echo
upstream, an nginx instance in a private prefix, small HTTP helpers and HS256
token minting (stdlib only)."""

import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_binary():
    for p in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if p and os.access(p, os.X_OK):
            return p
    raise SystemExit("nginx not found")


class _Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
        headers = {}
        for k, v in self.headers.items():
            # http.server decodes header bytes as latin-1; give back UTF-8
            try:
                v = v.encode("latin-1").decode("utf-8")
            except (UnicodeDecodeError, UnicodeEncodeError):
                pass
            headers.setdefault(k.lower(), []).append(v)
        body = json.dumps({"path": self.path, "headers": headers}).encode()
        n = int(self.headers.get("content-length") or 0)
        if n:
            self.rfile.read(n)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_HEAD = _answer

    def log_message(self, *a):
        pass


def start_echo(port):
    """A tiny upstream that answers every request with the headers it got."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Echo)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    return srv


class Nginx:
    """nginx from the system package, in a private prefix directory."""

    def __init__(self, prefix, conf_text, module):
        self.prefix = prefix
        self.bin = nginx_binary()
        self.conf = os.path.join(prefix, "nginx.conf")
        self.pid_file = os.path.join(prefix, "nginx.pid")
        self.error_log = os.path.join(prefix, "error.log")
        for d in ("logs", "tmp"):
            os.makedirs(os.path.join(prefix, d), exist_ok=True)
        self.module = module
        self.write_conf(conf_text)

    def head(self):
        t = os.path.join(self.prefix, "tmp")
        return (
            f"load_module {self.module};\n"
            f"pid {self.pid_file};\n"
            f"error_log {self.error_log} info;\n"
        ), (
            f"client_body_temp_path {t}/body; proxy_temp_path {t}/proxy;\n"
            f"fastcgi_temp_path {t}/fastcgi; uwsgi_temp_path {t}/uwsgi; scgi_temp_path {t}/scgi;\n"
        )

    def write_conf(self, text):
        with open(self.conf, "w") as f:
            f.write(text)

    def cmd(self, *args):
        return subprocess.run([self.bin, "-p", self.prefix + "/", "-c", self.conf, *args],
                              capture_output=True, text=True, timeout=60)

    def test_config(self):
        return self.cmd("-t")

    def start(self, port):
        r = self.cmd()
        if r.returncode != 0:
            raise RuntimeError("nginx did not start:\n" + r.stderr + self.log_tail())
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    if self.worker_pids():
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("nginx is not listening on %d\n%s" % (port, self.log_tail()))

    def master_pid(self):
        try:
            with open(self.pid_file) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def worker_pids(self):
        return self.child_pids(b"worker process")

    def child_pids(self, title):
        """The master's children whose process title contains title."""
        master = self.master_pid()
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    cmdline = f.read()
            except OSError:
                continue
            if int(fields[1]) == master and title in cmdline:
                out.append(int(d))
        return sorted(out)

    def reload(self):
        return self.cmd("-s", "reload")

    def stop(self):
        pid = self.master_pid()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)

    def log_text(self):
        try:
            with open(self.error_log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, n=30):
        return "\n".join(self.log_text().splitlines()[-n:])


def bench_nginx(tmp, module):
    """What the benchmark and profile configs start from: an Nginx in `tmp`
    with `module`, its main and temp-path lines (log level warn), two free
    ports (server, upstream), and the bodies of the static and proxy
    locations (a one-file www in `tmp`)."""
    www = os.path.join(tmp, "www")
    os.makedirs(www)
    with open(os.path.join(www, "index.html"), "w") as f:
        f.write("ok\n")
    port, up_port = free_port(), free_port()
    ng = Nginx(tmp, "", os.path.abspath(module))
    main_, temps = ng.head()
    backends = {
        "static": f"alias {www}/;",
        "proxy": "proxy_pass http://backend/; proxy_http_version 1.1; proxy_set_header Connection \"\";"
                 " proxy_set_header X-Warden-Subject $warden_subject;",
    }
    return ng, main_.replace(" info;", " warn;"), temps, port, up_port, backends


def bench_http(temps, port, up_port, locs):
    """The events and http blocks of the benchmark and profile configs: the
    locations `locs` on `port`, and an upstream on `up_port` answering "ok"
    that the proxy locations pass to (keepalive, no access log)."""
    nl = "\n        "
    return "events { worker_connections 1024; }\nhttp {\n" + temps + f"""
    access_log off;
    open_file_cache max=16;
    keepalive_requests 1000000;
    upstream backend {{ server 127.0.0.1:{up_port}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{up_port};
        location / {{ return 200 "ok\\n"; }}
    }}
    server {{
        listen 127.0.0.1:{port} backlog=1024;
        add_header X-Warden-Subject $warden_subject;
        {nl.join(locs)}
    }}
}}
"""


def request(port, path, headers=(), method="GET"):
    """One request; returns (status, {lowercase name: [values]}, body bytes)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.putrequest(method, path, skip_accept_encoding=True)
        for k, v in headers:
            if isinstance(v, str):
                v = v.encode("utf-8")
            c.putheader(k, v)
        c.endheaders()
        r = c.getresponse()
        body = r.read()
        hs = {}
        for k, v in r.getheaders():
            hs.setdefault(k.lower(), []).append(v)
        return r.status, hs, body
    finally:
        c.close()


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def hs256(secret, claims, kid=None):
    header = {"alg": "HS256", "typ": "JWT"}
    if kid:
        header["kid"] = kid
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    p = b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(secret, f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{b64url(sig)}"


def hs256_jwk(secret, kid):
    return {"kty": "oct", "kid": kid, "alg": "HS256", "k": b64url(secret)}
