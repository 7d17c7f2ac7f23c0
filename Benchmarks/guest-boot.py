#!/usr/bin/env python3
"""Boots the guest image (deploy/xen/make-image) under QEMU, with KVM where /dev/kvm is
there, with two virtio-net ports on UDP socket backends, and measures the time from QEMU's
start to the first frame the guest forwards from port 0 to port 1 (then checks 1 -> 0).

The guest runs `FromDevice(0) -> c :: Counter -> ToDevice(1); FromDevice(1) -> ToDevice(0)`
from the kernel command line. Frames are broadcast Ethernet frames with a marker payload,
sent every 10 ms until one comes back whole.

Usage: Benchmarks/guest-boot.py --image DIR [--runs N] [--json]
"""
import argparse, base64, json, os, socket, statistics, subprocess, sys, tempfile, time

CONFIG = "FromDevice(0) -> c :: Counter -> ToDevice(1); FromDevice(1) -> ToDevice(0);"


def udp(port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    return s


def frame(tag):
    payload = f"clickos-guest-boot {tag} ".encode() * 4
    return b"\xff" * 6 + bytes.fromhex("525400000099") + b"\x88\xb5" + payload


def boot_once(image, kvm, timeout):
    out0, out1 = udp(), udp()  # where QEMU sends what the guest transmits on port 0, 1
    in0, in1 = udp(), udp()    # reserve ports QEMU will listen on for port 0, 1
    p_out0, p_out1 = out0.getsockname()[1], out1.getsockname()[1]
    p_in0, p_in1 = in0.getsockname()[1], in1.getsockname()[1]
    in0.close()
    in1.close()
    console = tempfile.NamedTemporaryFile(prefix="clickos-guest-", suffix=".console", delete=False).name
    initrd = next(f"{image}/{n}" for n in ("initramfs.cpio.xz", "initramfs.cpio.gz") if os.path.exists(f"{image}/{n}"))
    append = f"console=ttyS0 quiet clickos.ports=2 clickos.config={base64.b64encode(CONFIG.encode()).decode()}"
    cmd = ["qemu-system-x86_64", "-m", "256", "-smp", "1", "-display", "none", "-monitor", "none",
           "-serial", f"file:{console}", "-no-reboot", "-nodefaults",
           "-kernel", f"{image}/vmlinuz", "-initrd", initrd, "-append", append,
           "-netdev", f"socket,id=p0,udp=127.0.0.1:{p_out0},localaddr=127.0.0.1:{p_in0}",
           "-device", "virtio-net-pci,netdev=p0,mac=52:54:00:00:00:01",
           "-netdev", f"socket,id=p1,udp=127.0.0.1:{p_out1},localaddr=127.0.0.1:{p_in1}",
           "-device", "virtio-net-pci,netdev=p1,mac=52:54:00:00:00:02"]
    if kvm:
        cmd[1:1] = ["-enable-kvm", "-cpu", "host"]
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    start = time.monotonic()
    qemu = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    result = {"kvm": kvm, "forwarded_0_to_1": False, "forwarded_1_to_0": False}
    try:
        def exchange(into, port_in, out, tag, limit):
            want = frame(tag)
            out.settimeout(0.01)
            while time.monotonic() < limit:
                if qemu.poll() is not None:
                    return None
                sender.sendto(want, ("127.0.0.1", port_in))
                try:
                    while True:
                        got = out.recv(65536)
                        if got == want:
                            return time.monotonic()
                except socket.timeout:
                    pass
            return None
        limit = start + timeout
        t = exchange(None, p_in0, out1, "0to1", limit)
        if t is not None:
            result["forwarded_0_to_1"] = True
            result["first_forward_ms"] = round((t - start) * 1000, 1)
            result["forwarded_1_to_0"] = exchange(None, p_in1, out0, "1to0", time.monotonic() + 10) is not None
    finally:
        qemu.kill()
        _, err = qemu.communicate()
        result["qemu_errors"] = err.decode(errors="replace")[-2000:]
        result["console"] = open(console, errors="replace").read()[-4000:]
        for line in result["console"].splitlines():
            if "clickos-vm: init at " in line:
                result["init_at_kernel_uptime_s"] = float(line.split("init at ")[1].split()[0])
        os.unlink(console)
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", required=True)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=90)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-kvm", action="store_true", help="emulate (TCG) even where KVM works")
    a = ap.parse_args()
    # /dev/kvm alone is not enough: a nested machine may have the device without the CPU's
    # virtualization extensions, and then a KVM guest never runs.
    flags = open("/proc/cpuinfo").read()
    kvm = os.access("/dev/kvm", os.R_OK | os.W_OK) and (" vmx" in flags or " svm" in flags) and not a.no_kvm
    runs = [boot_once(a.image, kvm, a.timeout) for _ in range(a.runs)]
    times = [r["first_forward_ms"] for r in runs if "first_forward_ms" in r]
    summary = {"runs": runs, "kvm": kvm, "median_first_forward_ms": statistics.median(times) if times else None}
    if a.json:
        print(json.dumps(summary))
    else:
        for i, r in enumerate(runs):
            print(f"run {i + 1}: first forwarded frame {r.get('first_forward_ms', 'never')} ms after QEMU start; "
                  f"1->0 {'yes' if r['forwarded_1_to_0'] else 'no'}; init began {r.get('init_at_kernel_uptime_s', '?')} s after the kernel")
        print(f"median {summary['median_first_forward_ms']} ms ({'KVM' if kvm else 'TCG, no /dev/kvm'})")
    sys.exit(0 if len(times) == len(runs) else 1)


if __name__ == "__main__":
    main()
