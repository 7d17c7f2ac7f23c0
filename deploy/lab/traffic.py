#!/usr/bin/env python3
"""Traffic for the lab, run in the client namespace (`lab run client -- deploy/lab/traffic.py ...`).

  traffic.py flood PPS SECONDS [ADDRESS [PORT [SIZE]]]
      UDP datagrams of SIZE bytes (default 64) to ADDRESS:PORT (default 10.2.0.100:7) at PPS
      per second for SECONDS, from one socket (one flow); prints how many were sent.

  traffic.py keepalive STOPFILE [ADDRESS [INTERVAL]]
      One HTTP/1.1 connection to ADDRESS (default 10.2.0.100): a GET every INTERVAL seconds
      (default 0.2) until STOPFILE exists; prints `requests N errors E backends B1,B2...`
      (the X-Backend of each answer). A connection that breaks counts as an error and
      ends the run.

  traffic.py first-answer [--address A] -- COMMAND...
      Runs COMMAND (e.g. `clickos apply web.yaml`), then asks ADDRESS (default 10.2.0.100)
      for / on new connections every 10 ms until one is answered; prints
      `command MS answer MS` (from before COMMAND started; the second is the figure).
"""
import http.client
import os
import socket
import sys
import time


def flood(pps, seconds, address="10.2.0.100", port=7, size=64):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    payload = b"x" * size
    start = time.time()
    end = start + seconds
    sent = 0
    while time.time() < end:
        for _ in range(50):
            try:
                s.sendto(payload, (address, port))
                sent += 1
            except OSError:
                pass
        delay = start + sent / pps - time.time()
        if delay > 0:
            time.sleep(delay)
    print(sent)


def keepalive(stopfile, address="10.2.0.100", interval=0.2):
    connection = http.client.HTTPConnection(address, 80, timeout=5)
    requests = errors = 0
    backends = []
    while not os.path.exists(stopfile):
        try:
            connection.request("GET", "/")
            answer = connection.getresponse()
            answer.read()
            requests += 1
            backend = answer.getheader("X-Backend", "?")
            if backend not in backends:
                backends.append(backend)
        except (OSError, http.client.HTTPException) as e:
            errors += 1
            print("error: %s" % e, file=sys.stderr)
            break
        time.sleep(interval)
    print("requests %d errors %d backends %s" % (requests, errors, ",".join(backends)), flush=True)


def first_answer(command, address="10.2.0.100", deadline=30.0):
    import subprocess
    start = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    returned = time.monotonic()
    while time.monotonic() - start < deadline:
        try:
            s = socket.create_connection((address, 80), timeout=0.01)
        except OSError:
            time.sleep(0.01)
            continue
        try:
            s.settimeout(0.5)
            s.sendall(b"GET / HTTP/1.0\r\nHost: %s\r\n\r\n" % address.encode())
            if s.recv(100).startswith(b"HTTP/1."):
                answered = time.monotonic()
                print("command %.1f answer %.1f" % ((returned - start) * 1000, (answered - start) * 1000))
                return
        except OSError:
            pass
        finally:
            s.close()
    sys.exit("no answer in %.0f s" % deadline)


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("flood", "keepalive", "first-answer"):
        sys.exit(__doc__)
    if sys.argv[1] == "first-answer":
        args = sys.argv[2:]
        address = "10.2.0.100"
        if args[:1] == ["--address"] and len(args) > 1:
            address, args = args[1], args[2:]
        if args[:1] == ["--"]:
            args = args[1:]
        if not args:
            sys.exit(__doc__)
        return first_answer(args, address)
    args = sys.argv[2:]
    if sys.argv[1] == "flood":
        if len(args) < 2:
            sys.exit(__doc__)
        flood(float(args[0]), float(args[1]), *(args[2:3]), *[int(a) for a in args[3:5]])
    else:
        if len(args) < 1:
            sys.exit(__doc__)
        keepalive(args[0], *(args[1:2]), *[float(a) for a in args[2:3]])


if __name__ == "__main__":
    main()
