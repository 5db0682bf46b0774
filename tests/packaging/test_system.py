"""The package on a clean Debian 12 booted with systemd (pkgtest.BootedDebian):
apt installs it and tagd.service runs at once; tagdctl makes the first
organization and token in a database that does not exist yet, and the files
belong to the service's dynamic user, who opens them; a tag is created with
curl through tagd.socket; an upgrade restarts the service and not the socket
and keeps the changed conffile; removal stops both units and keeps the data;
purge deletes it.

Needs debootstrap (once: cached), the network (apt fetches the dependencies)
and systemd-nspawn; skipped, saying why, where they are missing (failed under
scripts/package.sh --test)."""
import os
import unittest

from lifecycle import STATE, Lifecycle
from pkgtest import BootedDebian, Unavailable, cannot, need_deb

BASE = "http://127.0.0.1:8080"  # tagd.socket's, on the container's own loopback
DB_DIR = "/var/lib/private/tagd"


class BootedSystemTest(Lifecycle, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.deb = need_deb()
        try:
            cls.m = BootedDebian()
        except Unavailable as e:
            cannot(f"no clean Debian 12 can be made: {e}")
        try:
            cls.deb_inside = cls.m.put(cls.deb, "/root")
            cls.m.fetch(cls.deb_inside)
            cls.m.boot()
        except Unavailable as e:
            cls.m.close()
            cannot(str(e))
        except BaseException:
            cls.m.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.m.close()

    def show(self, unit, prop):
        return self.m.run(["systemctl", "show", "--value", "-p", prop, unit]).stdout.strip()

    def active(self, *units):
        r = self.m.run(["systemctl", "is-active", *units], check=False)
        return r.stdout.split()

    def service_uid(self):
        pid = self.show("tagd.service", "MainPID")
        self.assertNotEqual(pid, "0")
        status = self.m.run(["cat", f"/proc/{pid}/status"]).stdout
        return int(next(ln for ln in status.splitlines() if ln.startswith("Uid:")).split()[1])

    def check_owned_by(self, uid):
        """Every file of the state directory belongs to uid; none is readable by others."""
        self.assertEqual(os.readlink(self.m.path("/var/lib/tagd")), "private/tagd")
        st = os.stat(self.m.path(DB_DIR))
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (uid, 0o700))
        for name in os.listdir(self.m.path(DB_DIR)):
            st = os.stat(self.m.path(f"{DB_DIR}/{name}"))
            self.assertEqual((name, st.st_uid, st.st_mode & 0o077), (name, uid, 0))

    def test_lifecycle(self):
        m = self.m
        newer_inside = self.make_upgrade(m, self.deb)
        self.install(m, self.deb_inside)
        self.assertEqual(self.active("tagd.service", "tagd.socket"), ["active", "active"])
        self.check_commands(m)
        self.assertEqual(m.curl("GET", f"{BASE}/readyz"), (200, "ready\n"))

        # The first token before the service ever made its database.
        m.run(["systemctl", "stop", "tagd.service", "tagd.socket"])
        m.run(["rm", "-rf", *STATE])
        token = self.bootstrap(m)
        uid = os.stat(m.path(f"{DB_DIR}/tagd.db")).st_uid
        self.assertNotEqual(uid, 0)
        self.check_owned_by(uid)
        m.run(["systemctl", "start", "tagd.service"])
        self.assertEqual(self.service_uid(), uid)
        commit = self.create_tag(m, BASE, token)
        # While it runs: tagdctl shares the service's user.
        second = m.run(["tagdctl", "token", "create", "--org", "acme"]).stdout.strip()
        self.assertEqual(m.curl("GET", f"{BASE}/api/v1/repositories", second)[0], 200)
        self.check_owned_by(uid)
        # What the README says of plain tagd as root on a database that exists:
        # the files it makes get the database's owner; the service still opens them.
        m.run(["systemctl", "stop", "tagd.service", "tagd.socket"])
        third = m.run(["tagd", "token", "create", "--org", "acme"]).stdout.strip()
        self.check_owned_by(uid)
        m.run(["systemctl", "start", "tagd.service"])
        self.assertEqual(m.curl("GET", f"{BASE}/api/v1/repositories", third)[0], 200)

        socket_run = self.show("tagd.socket", "InvocationID")
        service_run = self.show("tagd.service", "InvocationID")
        self.upgrade(m, newer_inside)
        self.assertEqual(self.active("tagd.service", "tagd.socket"), ["active", "active"])
        self.assertNotEqual(self.show("tagd.service", "InvocationID"), service_run)
        self.assertEqual(self.show("tagd.socket", "InvocationID"), socket_run)
        self.assertEqual(m.curl("GET", f"{BASE}/readyz")[0], 200)
        self.check_tag(m, BASE, token, commit)

        self.remove(m)
        self.assertEqual(self.active("tagd.service", "tagd.socket"), ["inactive", "inactive"])
        r = m.run(["curl", "-sS", f"{BASE}/livez"], check=False)
        self.assertEqual(r.returncode, 7, r.stdout + r.stderr)  # connection refused
        self.purge(m)


if __name__ == "__main__":
    unittest.main()
