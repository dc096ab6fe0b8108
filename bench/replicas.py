"""Several app replicas behind nginx with sticky sessions, on loopback: the recipe for a class that
outgrows one server process (README, "Hosting a class of 300").

    .venv/bin/python bench/replicas.py serve --replicas 3 --port 8500   # run it (Ctrl-C stops everything)
    .venv/bin/python bench/replicas.py bench --replicas 3                # the 30-session test through it
    .venv/bin/python bench/replicas.py bench --replicas 2 --browsers 5   # 5 in Chromium, 25 light clients (bench/load.py)

Each replica is the app (`python -m ui.serve`) on its own port; nginx (Debian's package) routes each browser to
one replica by a cookie it sets (so a session's websocket, uploads and images reach the same process)
and passes websockets through. The config is written into a temporary folder; nothing is installed.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import free_port, start_server  # noqa: E402

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

CONFIG = """
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    client_max_body_size 20m;            # the app's own upload cap (.streamlit/config.toml)
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    # Sticky sessions by a cookie: a browser's first request draws a route, every later one (the
    # websocket, uploads, images) carries it to the same replica. Students behind one school NAT
    # share an address, so hashing by address would pile them onto one replica.
    map $cookie_dlx_route $route {{ "" $request_id; default $cookie_dlx_route; }}
    upstream dlx {{
        hash $route consistent;
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            add_header Set-Cookie "dlx_route=$route; Path=/; HttpOnly; SameSite=Lax";
            proxy_pass http://dlx;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_read_timeout 86400;        # websockets of a whole lesson
        }}
    }}
}}
"""


def start(replicas: int, port: int) -> tuple[list[subprocess.Popen], subprocess.Popen, Path]:
    """Start the replicas and nginx; return once the balancer answers /_stcore/health."""
    if not Path(NGINX).exists():
        raise SystemExit("nginx is missing: install Debian's package (apt-get install nginx-light)")
    apps = []
    for _ in range(replicas):
        p = free_port()
        apps.append((p, start_server(p)))
    tmp = Path(tempfile.mkdtemp(prefix="dlx-nginx-"))
    servers = "\n".join(f"        server 127.0.0.1:{p};" for p, _ in apps)
    (tmp / "nginx.conf").write_text(CONFIG.format(tmp=tmp, port=port, servers=servers))
    nginx = subprocess.Popen([NGINX, "-c", str(tmp / "nginx.conf"), "-p", str(tmp), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                return [proc for _, proc in apps], nginx, tmp
        except OSError:
            if nginx.poll() is not None:
                raise SystemExit(f"nginx failed: {nginx.stderr.read()}")
            time.sleep(0.2)
    raise SystemExit("nginx did not answer within 30 s")


def stop(apps: list[subprocess.Popen], nginx: subprocess.Popen, tmp: Path) -> None:
    nginx.terminate()
    for proc in apps:
        proc.terminate()
    for proc in [nginx, *apps]:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("serve", "bench"))
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--training", type=int, default=5)
    parser.add_argument("--browsers", type=int, default=None,
                        help="bench: sessions in Chromium (the first --training of them train); the others are "
                             "light websocket clients that carry nginx's route cookie (default: as many as --training)")
    args = parser.parse_args()
    port = args.port or free_port()
    apps, nginx, tmp = start(args.replicas, port)
    try:
        if args.what == "serve":
            print(f"DL Explorer: {args.replicas} replicas behind http://127.0.0.1:{port} (Ctrl-C stops)")
            nginx.wait()
        else:
            from bench.load import class_at_once, class_rows, health_rows

            r = class_at_once(args.sessions, args.training, base=f"http://127.0.0.1:{port}",
                              server_pid=[p.pid for p in apps], browsers=args.browsers)
            print(f"### {r['sessions']} sessions at once through nginx ({r['browsers']} in Chromium, {r['light']} light "
                  f"websocket clients), {args.replicas} replicas, {r['training']} training\n")
            print("| what | value |\n|---|---:|")
            print(class_rows(r))
            print(f"| all replicas' memory, peak (MB) | {r['peak_mb']:.0f} |")
            print(f"| all replicas' memory 10 s after the sessions closed (MB) | {r['after_mb']:.0f} |")
            print(f"{health_rows(r)}\n| wall time (s) | {r['wall']:.0f} |")
            for failure in r["failures"][:10]:
                print(f"\n- {failure}")
    except KeyboardInterrupt:
        pass
    finally:
        stop(apps, nginx, tmp)


if __name__ == "__main__":
    main()
