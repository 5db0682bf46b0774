"""The package installed with apt into a throwaway copy-on-write view of this
Debian system (pkgtest.OverlayRoot), where systemd does not run: the
maintainer scripts enable the units for the next boot and start nothing,
tagdctl makes the first organization and token, tagd serve runs from the
installed files with the installed configuration and a tag is created with
curl; an upgrade keeps the changed conffile and the data; removal keeps the
data, purge deletes it.  Then the same scripts with systemd seemingly running
(recording stand-ins for systemctl, deb-systemd-invoke and systemd-run): they
start, restart and stop the units as they should, and tagdctl hands the
command to systemd-run with the service's user and state directory.

scripts/package.sh --check runs this (scripts/test.sh runs that), with
test_system: the same lifecycle on a clean Debian 12 booted with systemd."""
import os
import signal
import unittest

from lifecycle import STATE, Lifecycle
from pkgtest import OverlayRoot, Unavailable, cannot, need_deb

# Stand-in for systemctl, deb-systemd-invoke and systemd-run: one line per
# call, each argument in brackets.  systemctl --root=/ works on files, not on
# a running systemd (deb-systemd-helper enables units with it): that is done.
RECORDER = """#!/bin/sh
{ printf '%s' "$(basename "$0")"; for a in "$@"; do printf ' [%s]' "$a"; done; echo; } >>/run/calls
case "$(basename "$0") $1" in
"systemctl --root="*) exec /usr/bin/systemctl.real "$@" ;;
esac
"""


class OverlayCase(Lifecycle, unittest.TestCase):
    def setUp(self):
        self.deb = need_deb()
        try:
            self.m = OverlayRoot()
        except Unavailable as e:
            cannot(str(e))
        self.addCleanup(self.m.close)
        # Starts from a system without tagd, whatever this one has (a package, or
        # a source install's configuration and database).
        if self.status(self.m):
            self.m.run(["dpkg", "--purge", "tagd"])
        self.m.run(["rm", "-rf", "/etc/tagd", *STATE])
        self.deb_inside = self.m.put(self.deb, "/root")
        self.newer_inside = self.make_upgrade(self.m, self.deb)

    def serve(self):
        """tagd serve from the installed files; (base URL, stop function)."""
        proc, port = self.m.serve()

        def stop():
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(30), 0)

        return f"http://127.0.0.1:{port}", stop


class InstallWithoutSystemdTest(OverlayCase):
    def test_lifecycle(self):
        m = self.m
        self.assertFalse(m.lexists("/run/systemd/system"))
        self.install(m, self.deb_inside)
        self.check_commands(m)
        # tagdctl without systemd: the state directory as systemd would make it.
        token = self.bootstrap(m)
        st = os.stat(m.path("/var/lib/tagd"))
        self.assertEqual(st.st_mode & 0o7777, 0o700)
        base, stop = self.serve()
        commit = self.create_tag(m, base, token)
        stop()

        self.upgrade(m, self.newer_inside)
        base, stop = self.serve()
        self.check_tag(m, base, token, commit)
        stop()

        self.remove(m)
        # Installed again, it finds its data.
        self.install(m, self.newer_inside)
        base, stop = self.serve()
        self.check_tag(m, base, token, commit)
        stop()

        self.purge(m)


class TagdctlRefusesTest(OverlayCase):
    def test_not_root_serve_and_no_command(self):
        m = self.m
        self.install(m, self.deb_inside)
        r = m.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                   "tagdctl", "org", "create", "acme"], check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("run it as root", r.stderr)
        r = m.run(["tagdctl", "serve"], check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("systemctl start tagd", r.stderr)
        r = m.run(["tagdctl"], check=False)
        self.assertEqual((r.returncode, r.stdout), (2, ""))
        self.assertIn("usage: tagdctl COMMAND", r.stderr)
        self.assertFalse(m.lexists("/var/lib/tagd"))


class MaintainerScriptsWithSystemdTest(OverlayCase):
    def setUp(self):
        super().setUp()
        self.m.run(["mkdir", "-p", "/run/systemd/system"])
        self.m.run(["cp", "-a", "/usr/bin/systemctl", "/usr/bin/systemctl.real"])
        for tool in ("systemctl", "deb-systemd-invoke", "systemd-run"):
            self.m.write(f"/usr/bin/{tool}", RECORDER, 0o755)

    def calls(self):
        """The calls to the running systemd recorded since the last time (not those
        with --root=, which work on files: deb-systemd-helper's presets)."""
        path = self.m.path("/run/calls")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            lines = f.read().splitlines()
        os.unlink(path)
        return [ln for ln in lines if not ln.startswith("systemctl [--root=")]

    def test_start_restart_stop(self):
        m = self.m
        reload = "systemctl [--system] [daemon-reload]"
        self.install(m, self.deb_inside)
        # Started once, the service alone: it pulls in tagd.socket.
        self.assertEqual(self.calls(), [reload, "deb-systemd-invoke [start] [tagd.service]"])

        # systemd-run --wait needs the D-Bus system bus: without it, a clear refusal.
        args = ["tagdctl", "token", "create", "--org", "acme"]
        r = m.run(args, check=False)
        self.assertEqual((r.returncode, r.stdout), (1, ""))
        self.assertIn("no D-Bus system bus", r.stderr)
        self.assertEqual(self.calls(), [])
        m.run(["mkdir", "-p", "/run/dbus"])
        m.run(["python3", "-c", "import socket; "
               "socket.socket(socket.AF_UNIX).bind('/run/dbus/system_bus_socket')"])
        m.run(args, env={"TAGD_DB": "/var/lib/tagd/x.db"})
        self.assertEqual(self.calls(), [
            "systemd-run [--quiet] [--wait] [--pipe] [--collect] [--service-type=exec] "
            "[--description=tagdctl token] [--property=DynamicUser=yes] [--property=User=tagd] "
            "[--property=StateDirectory=tagd] [--property=StateDirectoryMode=0700] "
            "[--property=UMask=0077] [--setenv=TAGD_DB] [--] [/usr/bin/tagd] [token] [create] "
            "[--org] [acme]"])
        # Under systemd the state directory is systemd's to make.
        self.assertFalse(m.lexists("/var/lib/tagd"))

        # Upgrade: the service restarts, the socket is left open.
        self.upgrade(m, self.newer_inside)
        self.assertEqual(self.calls(), [reload, "deb-systemd-invoke [restart] [tagd.service]"])

        self.remove(m, with_data=False)  # systemd-run recorded the commands, ran none
        self.assertEqual(self.calls(), ["deb-systemd-invoke [stop] [tagd.service] [tagd.socket]",
                                        reload])
        self.purge(m)
        # deb-systemd-helper purge removed the enable links and tells systemd.
        self.assertEqual(self.calls(), ["systemctl [daemon-reload]"])


if __name__ == "__main__":
    unittest.main()
