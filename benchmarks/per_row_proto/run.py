"""Driver: for each book, start a soffice of its own (own profile, --accept), run worker.py
under /usr/bin/python3, collect its JSON lines into ../results/per-row-proto.jsonl (RESULTS=name to change;
WORKER=robust.py PROBE=sort|delete for the robustness probe), kill the soffice.

    python3 run.py [--timeout S] [--skip steps] book.xlsx ...
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent


def free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def start(profile, port):
    log = open(profile.parent / "soffice.log", "wb")
    proc = subprocess.Popen(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--nologo",
            "--nodefault",
            f"--accept=socket,host=localhost,port={port};urp;",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    t = time.monotonic()
    while time.monotonic() - t < 120:
        try:
            for p in psutil.Process(proc.pid).children(recursive=True) + [psutil.Process(proc.pid)]:
                if p.name() == "soffice.bin" and any(
                    c.laddr.port == port and c.status == "LISTEN" for c in p.net_connections("tcp")
                ):
                    return proc, p.pid
        except psutil.Error:
            pass
        time.sleep(0.2)
    raise SystemExit("no soffice")


def kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except Exception:
        pass
    try:
        proc.wait(10)
    except Exception:
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--skip", default="")
    ap.add_argument("books", nargs="+")
    a = ap.parse_args()
    for book in a.books:
        work = Path(tempfile.mkdtemp(prefix="proto-uno-"))
        b = Path(shutil.copy2(book, work))
        shutil.copy2(book.replace(".xlsx", ".json"), work)
        port = free_port()
        so, pid = start(work / "profile", port)
        print(f"== {book}  (soffice.bin {pid})", flush=True)
        w = subprocess.Popen(
            [
                "/usr/bin/python3",
                str(HERE / os.environ.get("WORKER", "worker.py")),
                "--port",
                str(port),
                "--pid",
                str(pid),
                "--book",
                str(b),
                "--skip",
                a.skip,
            ]
            + (["--probe", os.environ["PROBE"]] if "PROBE" in os.environ else []),
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        out = open(HERE.parent / "results" / os.environ.get("RESULTS", "per-row-proto.jsonl"), "a")
        t0 = time.monotonic()
        try:
            import selectors

            sel = selectors.DefaultSelector()
            sel.register(w.stdout, selectors.EVENT_READ)
            while True:
                if time.monotonic() - t0 > a.timeout:
                    print("   TIMEOUT", flush=True)
                    out.write(json.dumps({"book": book, "timeout": a.timeout}) + "\n")
                    break
                if not sel.select(timeout=5):
                    continue
                line = w.stdout.readline()
                if not line:
                    break
                ev = json.loads(line)
                if "begin" in ev:
                    continue
                ev["book"] = Path(book).name
                out.write(json.dumps(ev) + "\n")
                out.flush()
                print("  ", json.dumps({k: v for k, v in ev.items() if k != "book"}), flush=True)
        finally:
            kill(w)
            kill(so)
            out.close()
            shutil.rmtree(work, ignore_errors=True)


main()
