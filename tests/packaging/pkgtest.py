"""Harness of the package tests: the .deb that scripts/package.sh built (TAGD_DEB)
and two systems to install it on, both thrown away afterwards:

- OverlayRoot: this system's root seen through an overlay whose writes go to a
  tmpfs, in a mount namespace of its own.  dpkg and apt work in it as on the
  real system, with its dependencies already installed and no network; nothing
  reaches the real system.  systemd does not run there.  Needs root and
  CAP_SYS_ADMIN; takes seconds.
- BootedDebian: a clean Debian 12 (debootstrap --variant=minbase, plus systemd,
  D-Bus and curl) booted with systemd by systemd-nspawn, on a private network.
  Needs root and the network (debootstrap once, cached in build/package-cache/;
  apt for the dependencies); takes seconds, a minute the first time.

Both run commands inside with run() and show their files to the test under
path(); processes are stopped by their PID.
"""
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))
DEB = os.environ.get("TAGD_DEB")
INSIDE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LC_ALL": "C",
    "DEBIAN_FRONTEND": "noninteractive",
}
TOKEN_RE = re.compile(r"^tagd_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$")
LISTENING_RE = re.compile(r'msg="listening" addr=127\.0\.0\.1:(\d+)')
# apt without questions: a conffile changed both here and in the package keeps
# the local version (the new one is left as .dpkg-dist).
APT = ["apt-get", "-y", "-q", "-o", "Dpkg::Options::=--force-confdef",
       "-o", "Dpkg::Options::=--force-confold"]


def cmake_version():
    """The version in CMakeLists.txt's project(): the one the package must carry."""
    with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
        m = re.search(r"^project\(tagd VERSION ([0-9.]+) ", f.read(), re.M)
    return m.group(1)


STRICT = os.environ.get("TAGD_PACKAGE_STRICT") == "1"


def cannot(reason):
    """A test's system cannot be made here: skip, saying why, or, under
    scripts/package.sh --test (TAGD_PACKAGE_STRICT=1), fail."""
    if STRICT:
        raise AssertionError(f"scripts/package.sh --test runs every test, and here {reason}")
    raise unittest.SkipTest(reason)


def need_deb():
    """The .deb under test, or skip: these tests check what scripts/package.sh built."""
    if not DEB:
        raise unittest.SkipTest("TAGD_DEB is not set: run scripts/package.sh --check")
    if not os.path.isfile(DEB):
        raise unittest.SkipTest(f"TAGD_DEB={DEB} does not exist: run scripts/package.sh")
    return DEB


def repack(deb, directory, version, conffile_extra=""):
    """A copy of deb with another version (an upgrade to install over it) and,
    when conffile_extra is given, that text appended to /etc/tagd/tagd.conf."""
    tree = os.path.join(directory, "tree")
    subprocess.run(["dpkg-deb", "-R", deb, tree], check=True, timeout=60)
    control = os.path.join(tree, "DEBIAN", "control")
    with open(control) as f:
        text = re.sub(r"^Version: .*$", f"Version: {version}", f.read(), flags=re.M)
    with open(control, "w") as f:
        f.write(text)
    if conffile_extra:
        with open(os.path.join(tree, "etc", "tagd", "tagd.conf"), "a") as f:
            f.write(conffile_extra)
        # md5sums lists only files outside /etc: nothing to update.
    out = os.path.join(directory, f"tagd_{version}.deb")
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", tree, out], check=True,
                   capture_output=True, timeout=60)
    shutil.rmtree(tree)
    return out


class System:
    """What both systems share: commands inside, files seen from outside."""

    prefix = None  # where the system's / is seen from here

    def command(self, args):
        raise NotImplementedError

    def run(self, args, check=True, timeout=120, env=None, input=None):
        """Run args inside with a clean environment (plus env); the CompletedProcess,
        text.  check: a non-zero exit fails with the command's output."""
        full = self.command(["/usr/bin/env", "-i"] +
                            [f"{k}={v}" for k, v in {**INSIDE_ENV, **(env or {})}.items()] +
                            list(args))
        r = subprocess.run(full, capture_output=True, text=True, timeout=timeout, input=input)
        if check and r.returncode != 0:
            raise AssertionError(f"{args} exited {r.returncode}:\n{r.stdout}{r.stderr}")
        return r

    def path(self, inside):
        """The path under which this process sees the system's file inside.  Absolute
        symbolic links there point outside: read them with os.readlink."""
        return self.prefix + inside

    def read(self, inside):
        with open(self.path(inside)) as f:
            return f.read()

    def write(self, inside, text, mode=0o644):
        with open(self.path(inside), "w") as f:
            f.write(text)
        os.chmod(self.path(inside), mode)

    def lexists(self, inside):
        return os.path.lexists(self.path(inside))

    def put(self, host_file, inside_dir):
        """Copy host_file into the directory inside_dir; its path inside."""
        shutil.copy(host_file, self.path(inside_dir))
        return os.path.join(inside_dir, os.path.basename(host_file))

    def curl(self, method, url, token=None, body=None):
        """One HTTP exchange by curl inside: (status, parsed JSON body or text)."""
        args = ["curl", "-sS", "-X", method, "-o", "-", "-w", "\n%{http_code}", url]
        if token:
            args += ["-H", f"Authorization: Bearer {token}"]
        if body is not None:
            args += ["-H", "Content-Type: application/json", "-d", json.dumps(body)]
        out = self.run(args, timeout=30).stdout
        text, _, status = out.rpartition("\n")
        try:
            return int(status), json.loads(text)
        except ValueError:
            return int(status), text


class Unavailable(Exception):
    """The system cannot be made here; the reason says why (the tests skip)."""


class OverlayRoot(System):
    """This system's / under an overlay, writes on a tmpfs, in a private mount
    namespace held by one sleeping process: close() ends it and all is gone."""

    def __init__(self):
        if os.geteuid() != 0:
            raise Unavailable("not root: an overlay of / needs root and CAP_SYS_ADMIN")
        if shutil.which("unshare") is None or shutil.which("nsenter") is None:
            raise Unavailable("unshare and nsenter (util-linux) are not installed")
        self.dir = tempfile.mkdtemp(prefix="tagd-overlay-")
        self.root = os.path.join(self.dir, "root")
        script = f"""set -e
d={self.dir}
mount -t tmpfs -o mode=0755 tmpfs "$d"
mkdir "$d/upper" "$d/work" "$d/root"
mount -t overlay overlay -o lowerdir=/,upperdir="$d/upper",workdir="$d/work" "$d/root"
mount --rbind /dev "$d/root/dev"
mount -t proc proc "$d/root/proc"
mount -t sysfs sysfs "$d/root/sys"
mount -t tmpfs -o mode=0755 tmpfs "$d/root/run"
mount -t tmpfs -o mode=1777 tmpfs "$d/root/tmp"
echo ready
exec sleep infinity
"""
        self.holder = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if self.holder.stdout.readline() != b"ready\n":
            err = self.holder.stderr.read().decode(errors="replace").strip()
            self.holder.wait(10)
            self.holder.stdout.close()
            self.holder.stderr.close()
            os.rmdir(self.dir)
            raise Unavailable(f"cannot mount an overlay of / in a mount namespace: {err}")
        self.prefix = f"/proc/{self.holder.pid}/root{self.root}"
        self.servers = []

    def command(self, args):
        return ["nsenter", f"--target={self.holder.pid}", "--mount", "--", "chroot",
                self.root] + args

    def serve(self, *flags):
        """Start the installed tagd serve inside on a port of the kernel's choice, as
        its unit would with the installed configuration; (process, port)."""
        args = self.command(["/usr/bin/env", "-i", f"PATH={INSIDE_ENV['PATH']}",
                             "/usr/bin/tagd", "serve", "--listen", "127.0.0.1:0", *flags])
        # nsenter, chroot and env exec: the process is tagd itself.
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        self.servers.append(proc)
        lines, found = [], threading.Event()

        def pump():
            for line in proc.stderr:
                lines.append(line)
                if LISTENING_RE.search(line):
                    found.set()
            proc.stderr.close()
            found.set()

        threading.Thread(target=pump, daemon=True).start()
        found.wait(20)
        for line in lines:
            m = LISTENING_RE.search(line)
            if m:
                return proc, int(m.group(1))
        proc.kill()
        proc.wait()
        raise AssertionError("tagd serve did not listen:\n" + "".join(lines))

    def close(self):
        for proc in self.servers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.holder.kill()
        self.holder.wait()
        self.holder.stdout.close()
        self.holder.stderr.close()
        os.rmdir(self.dir)


CACHE = os.path.join(SOURCE, "build", "package-cache")
MIRROR = os.environ.get("TAGD_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# A Debian 12 booted with systemd has its recommended system bus (tagdctl's
# systemd-run needs it); curl is the tests' client.
BASE_PACKAGES = "systemd,systemd-sysv,dbus,curl,ca-certificates"


def debian12_base():
    """A tarball of a clean Debian 12 (minbase plus BASE_PACKAGES), made by
    debootstrap on first use and kept in build/package-cache/ (delete it to
    refresh; apt brings the dependencies up to date anyway)."""
    tag = hashlib.sha256(BASE_PACKAGES.encode()).hexdigest()[:8]
    tarball = os.path.join(CACHE, f"debian12-minbase-{tag}.tar")
    if os.path.exists(tarball):
        return tarball
    os.makedirs(CACHE, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="debootstrap-", dir=CACHE)
    try:
        try:
            r = subprocess.run(["debootstrap", "--variant=minbase", f"--include={BASE_PACKAGES}",
                                "bookworm", tmp, MIRROR], capture_output=True, text=True,
                               timeout=300)
        except subprocess.TimeoutExpired:
            raise Unavailable(f"debootstrap from {MIRROR} took more than 300 s")
        if r.returncode != 0:
            raise Unavailable(f"debootstrap failed:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
        os.chmod(tmp, 0o755)  # the system's /: mkdtemp made it 0700
        subprocess.run(["tar", "-C", tmp, "-cf", tarball + ".partial", "."], check=True,
                       timeout=300)
        os.rename(tarball + ".partial", tarball)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return tarball


class BootedDebian(System):
    """A clean Debian 12 booted with systemd by systemd-nspawn, with a private
    network (its loopback is its own: tagd.socket's 127.0.0.1:8080 clashes with
    nothing here).  Packages to install must be fetched before boot: fetch()."""

    def __init__(self):
        if os.geteuid() != 0:
            raise Unavailable("not root: debootstrap and systemd-nspawn need root")
        for tool, package in (("debootstrap", "debootstrap"),
                              ("systemd-nspawn", "systemd-container"), ("nsenter", "util-linux")):
            if shutil.which(tool) is None:
                raise Unavailable(f"{tool} is not installed (Debian package {package})")
        base = debian12_base()
        self.dir = tempfile.mkdtemp(prefix="tagd-debian12-", dir="/var/tmp")
        self.root = os.path.join(self.dir, "root")
        self.prefix = self.root
        self.nspawn = None
        self.init = None
        try:
            os.mkdir(self.root)
            subprocess.run(["tar", "-C", self.root, "-xf", base], check=True, timeout=300)
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        os.chmod(self.root, 0o755)
        # A Debian 12 as installed: with its updates and security suites.
        self.write("/etc/apt/sources.list",
                   f"deb {MIRROR} bookworm main\n"
                   f"deb {MIRROR} bookworm-updates main\n"
                   "deb http://deb.debian.org/debian-security bookworm-security main\n")

    def fetch(self, *debs_inside):
        """Before boot, with the host's network: apt's lists, and the dependencies
        of the packages debs_inside downloaded into apt's cache."""
        nspawn = ["systemd-nspawn", "--quiet", "--register=no", "--keep-unit", "-D", self.root,
                  "--pipe", "/usr/bin/env", "-i"] + [f"{k}={v}" for k, v in INSIDE_ENV.items()]
        for args in (APT + ["update"], APT + ["install", "--download-only", *debs_inside]):
            try:
                r = subprocess.run(nspawn + args, capture_output=True, text=True, timeout=300)
            except subprocess.TimeoutExpired:
                raise Unavailable(f"{args} took more than 300 s")
            if r.returncode != 0:
                raise Unavailable(f"{args} failed in systemd-nspawn (no network?):\n"
                                  f"{r.stdout}{r.stderr}")

    def boot(self):
        """Boot it; returns when systemd inside has finished starting up (its
        READY=1, passed on by systemd-nspawn --notify-ready to our socket).
        Unavailable when it does not: nothing of tagd is installed yet."""
        self.log = open(os.path.join(self.dir, "console.log"), "w")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            notify.bind(os.path.join(self.dir, "notify.sock"))
            notify.settimeout(1)  # to notice an nspawn that gave up
            self.nspawn = subprocess.Popen(
                ["systemd-nspawn", "--quiet", "--register=no", "--keep-unit",
                 "--private-network", "--notify-ready=yes", "-D", self.root, "--boot"],
                stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                env=dict(os.environ, NOTIFY_SOCKET=notify.getsockname()),
                start_new_session=True)
            deadline = time.monotonic() + 120
            while True:
                try:
                    if "READY=1" in notify.recv(4096).decode().split("\n"):
                        break
                except socket.timeout:
                    if self.nspawn.poll() is not None:
                        break
                if time.monotonic() > deadline:
                    raise Unavailable("systemd-nspawn did not boot the container in 120 s:\n" +
                                      self.console())
            if self.nspawn.poll() is not None:
                raise Unavailable("systemd-nspawn could not boot the container:\n" +
                                  self.console())
        finally:
            notify.close()
        with open(f"/proc/{self.nspawn.pid}/task/{self.nspawn.pid}/children") as f:
            self.init = int(f.read().split()[0])
        self.prefix = f"/proc/{self.init}/root"
        r = self.run(["systemctl", "is-system-running"], check=False)
        if r.stdout.strip() not in ("running", "degraded"):
            raise Unavailable(f"systemd in the container is {r.stdout.strip()}:\n{r.stderr}" +
                              self.console())

    def console(self):
        with open(os.path.join(self.dir, "console.log"), errors="replace") as f:
            return f.read()[-4000:]

    def command(self, args):
        return ["nsenter", f"--target={self.init}", "--all", "--"] + args

    def close(self):
        if self.nspawn is not None and self.nspawn.poll() is None:
            # nspawn passes SIGTERM on as a request to power off.
            self.nspawn.send_signal(signal.SIGTERM)
            try:
                self.nspawn.wait(60)
            except subprocess.TimeoutExpired:
                self.nspawn.kill()
                self.nspawn.wait()
        if self.nspawn is not None:
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
