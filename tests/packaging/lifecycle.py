"""The steps of an operator's life with the package, shared by the install tests
on both systems (pkgtest.OverlayRoot and pkgtest.BootedDebian): install,
the installed commands, the first organization and token the documented way
(tagdctl), a tag over HTTP, an upgrade that keeps a changed conffile, removal
that keeps the data, purge that deletes it."""
import os
import tempfile

from pkgtest import APT, TOKEN_RE, cmake_version, repack

UPGRADE_VERSION_SUFFIX = "+upgrade1"
# The package's next version changes the conffile; the operator has changed it too.
UPSTREAM_CONF_CHANGE = "\n# A line the next version of the package adds.\n"
LOCAL_CONF_CHANGE = ("log_level = info\n", "log_level = debug\n")
STATE = ("/var/lib/tagd", "/var/lib/private/tagd")
ENABLE_LINKS = ("/etc/systemd/system/multi-user.target.wants/tagd.service",
                "/etc/systemd/system/sockets.target.wants/tagd.socket")


class Lifecycle:
    """Mixin for unittest.TestCase: the steps, each checking what it should have done."""

    def status(self, m):
        """dpkg's status of tagd inside m, "" when dpkg knows no tagd."""
        r = m.run(["dpkg-query", "-W", "-f=${Status}", "tagd"], check=False)
        return r.stdout if r.returncode == 0 else ""

    def make_upgrade(self, m, deb):
        """The next version of deb (a changed conffile), put into m's /root; its path there."""
        with tempfile.TemporaryDirectory(prefix="tagd-upgrade-") as d:
            newer = repack(deb, d, cmake_version() + UPGRADE_VERSION_SUFFIX, UPSTREAM_CONF_CHANGE)
            return m.put(newer, "/root")

    def install(self, m, deb_inside):
        m.run(APT + ["install", deb_inside], timeout=300)
        self.assertEqual(self.status(m), "install ok installed")
        for link in ENABLE_LINKS:
            self.assertTrue(m.lexists(link), link)

    def check_commands(self, m):
        """tagd --version and tagd config check, from the installed files."""
        r = m.run(["tagd", "--version"])
        self.assertEqual(r.stdout, f"tagd {cmake_version()}\n")
        r = m.run(["tagd", "config", "check"])
        self.assertRegex(r.stdout, r"\ndb = /var/lib/tagd/tagd\.db +# /etc/tagd/tagd\.conf:\d+ ")

    def bootstrap(self, m, org="acme"):
        """The README's first organization and a token: tagdctl, as root.  The token, of
        scope maintain: it makes a repository (create_tag)."""
        m.run(["tagdctl", "org", "create", org, "--project-id", org])
        token = m.run(["tagdctl", "token", "create", "--org", org, "--name", "ci",
                       "--scope", "maintain"]).stdout.strip()
        self.assertRegex(token, TOKEN_RE)
        return token

    def create_tag(self, m, base, token):
        """Register a commit, create a repository, tag the commit; the commit's id."""
        status, commit = m.curl("POST", f"{base}/api/v1/commits", token, {"name": "build-1"})
        self.assertEqual(status, 201, commit)
        status, repo = m.curl("POST", f"{base}/api/v1/repositories", token, {"name": "my-app"})
        self.assertEqual(status, 201, repo)
        status, tag = m.curl("POST", f"{base}/api/v1/repositories/my-app/tags", token,
                             {"tag_name": "v1.0", "commit_id": commit["commit_id"]})
        self.assertEqual(status, 201, tag)
        self.check_tag(m, base, token, commit["commit_id"])
        return commit["commit_id"]

    def check_tag(self, m, base, token, commit_id):
        status, tag = m.curl("GET", f"{base}/api/v1/repositories/my-app/tags/v1.0", token)
        self.assertEqual(status, 200, tag)
        self.assertEqual(tag["commit_id"], commit_id)

    def upgrade(self, m, newer_inside):
        """Install the next version over this one, with the conffile changed locally:
        the local change stays, the package's version is left beside it."""
        conf = m.read("/etc/tagd/tagd.conf")
        self.assertIn(LOCAL_CONF_CHANGE[0], conf)
        m.write("/etc/tagd/tagd.conf", conf.replace(*LOCAL_CONF_CHANGE))
        m.run(APT + ["install", newer_inside], timeout=300)
        r = m.run(["dpkg-query", "-W", "-f=${Version}", "tagd"])
        self.assertEqual(r.stdout, cmake_version() + UPGRADE_VERSION_SUFFIX)
        self.assertEqual(m.read("/etc/tagd/tagd.conf"), conf.replace(*LOCAL_CONF_CHANGE))
        self.assertEqual(m.read("/etc/tagd/tagd.conf.dpkg-dist"), conf + UPSTREAM_CONF_CHANGE)

    def remove(self, m, with_data=True):
        """apt remove: the programs go, the configuration and the database stay
        (with_data: there is a database)."""
        m.run(APT + ["remove", "tagd"], timeout=300)
        self.assertEqual(self.status(m), "deinstall ok config-files")
        for gone in ("/usr/bin/tagd", "/usr/sbin/tagdctl", "/lib/systemd/system/tagd.service"):
            self.assertFalse(m.lexists(gone), gone)
        self.assertTrue(os.path.isfile(m.path("/etc/tagd/tagd.conf")))
        if with_data:
            self.assertGreater(os.path.getsize(m.path("/var/lib/tagd/tagd.db")), 0)

    def purge(self, m):
        """apt purge: nothing of tagd is left, its database included."""
        m.run(APT + ["purge", "tagd"], timeout=300)
        self.assertEqual(self.status(m), "")
        for gone in STATE + ENABLE_LINKS + ("/etc/tagd",):
            self.assertFalse(m.lexists(gone), gone)
