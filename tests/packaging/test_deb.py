"""The .deb as built: lintian finds no error and no warning; it holds exactly the
files it should, where Debian puts them; the version is CMakeLists.txt's
everywhere; dependencies come from the shared libraries; /etc/tagd/tagd.conf
is a conffile with the example configuration."""
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from pkgtest import SOURCE, cannot, cmake_version, need_deb

EXPECTED_FILES = {
    "etc/tagd/tagd.conf",
    "lib/systemd/system/tagd.service",
    "lib/systemd/system/tagd.socket",
    "usr/bin/tagd",
    "usr/sbin/tagdctl",
    "usr/share/doc/tagd/README.md.gz",
    "usr/share/doc/tagd/changelog.gz",
    "usr/share/doc/tagd/copyright",
    "usr/share/doc/tagd/tagd.conf.example",
    "usr/share/man/man8/tagd.8.gz",
    "usr/share/man/man8/tagdctl.8.gz",
}
# What the binary links, by Debian package; dpkg-shlibdeps must find them all.
EXPECTED_DEPENDS = {"libc6", "libcurl3-gnutls", "libgnutls30", "libjansson4", "libmicrohttpd12", "libnettle8",
                    "libpq5", "libsqlite3-0", "libsystemd0", "libuuid1"}


def field(deb, name):
    return subprocess.run(["dpkg-deb", "--field", deb, name], capture_output=True, text=True,
                          check=True, timeout=30).stdout.strip()


class DebTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.deb = need_deb()
        cls.tree = tempfile.mkdtemp(prefix="tagd-deb-")
        subprocess.run(["dpkg-deb", "-R", cls.deb, cls.tree], check=True, timeout=60)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tree, ignore_errors=True)

    def read(self, path):
        with open(os.path.join(self.tree, path), "rb") as f:
            data = f.read()
        return (gzip.decompress(data) if path.endswith(".gz") else data).decode()

    def test_lintian_no_errors_no_warnings(self):
        if shutil.which("lintian") is None:
            cannot("lintian is not installed (scripts/deps.sh --test installs it)")
        debs = [self.deb]
        dbgsym = self.deb.replace("/tagd_", "/tagd-dbgsym_")
        if os.path.exists(dbgsym):
            debs.append(dbgsym)
        r = subprocess.run(["lintian", "--display-info", "--pedantic", "--no-tag-display-limit",
                            *debs], capture_output=True, text=True, timeout=300)
        tags = [ln for ln in r.stdout.splitlines() if re.match(r"^[EWIPX]: ", ln)]
        # Shown with the test's output: the README lists the informational ones.
        sys.stderr.write("\nlintian: " + ("\n         ".join(tags) if tags else "nothing") + "\n")
        bad = [ln for ln in tags if ln[0] in "EW"]
        self.assertEqual(bad, [], r.stdout + r.stderr)
        # lintian exits 0 unless it found errors (or failed itself).
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_files_where_debian_puts_them(self):
        found = set()
        for top, _, files in os.walk(self.tree):
            for name in files:
                rel = os.path.relpath(os.path.join(top, name), self.tree)
                if not rel.startswith("DEBIAN/"):
                    found.add(rel)
        self.assertEqual(found, EXPECTED_FILES)
        for path, mode in (("usr/bin/tagd", 0o755), ("usr/sbin/tagdctl", 0o755),
                           ("etc/tagd/tagd.conf", 0o644),
                           ("lib/systemd/system/tagd.service", 0o644)):
            self.assertEqual(os.stat(os.path.join(self.tree, path)).st_mode & 0o7777, mode, path)

    def test_version_is_cmakes_everywhere(self):
        version = cmake_version()
        self.assertEqual(field(self.deb, "Version"), version)
        arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                              check=True).stdout.strip()
        self.assertEqual(field(self.deb, "Architecture"), arch)
        self.assertEqual(os.path.basename(self.deb), f"tagd_{version}_{arch}.deb")
        r = subprocess.run([os.path.join(self.tree, "usr/bin/tagd"), "--version"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.stdout, f"tagd {version}\n", r.stderr)
        self.assertTrue(self.read("usr/share/doc/tagd/changelog.gz").startswith(
            f"tagd ({version}) "))
        for page, name in (("tagd.8.gz", "TAGD"), ("tagdctl.8.gz", "TAGDCTL")):
            self.assertRegex(self.read(f"usr/share/man/man8/{page}"),
                             rf'\n\.TH {name} 8 "[^"]*" "tagd {re.escape(version)}" ')

    def test_depends_from_shared_libraries(self):
        depends = field(self.deb, "Depends")
        names = {d.strip().split(" ")[0] for d in depends.split(",")}
        self.assertEqual(names, EXPECTED_DEPENDS, depends)
        # Exactly the packages of the libraries the binary links: dpkg-shlibdeps
        # left none out and nothing is listed by hand.
        dynamic = subprocess.run(["objdump", "-p", os.path.join(self.tree, "usr/bin/tagd")],
                                 capture_output=True, text=True, check=True).stdout
        multiarch = subprocess.run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"],
                                   capture_output=True, text=True, check=True).stdout.strip()
        needed = re.findall(r"^\s*NEEDED\s+(\S+)$", dynamic, re.M)
        owners = set()
        for soname in needed:
            r = subprocess.run(["dpkg-query", "-S", f"*/{multiarch}/{soname}"],
                               capture_output=True, text=True, check=True)
            owners |= {ln.split(":")[0] for ln in r.stdout.splitlines()}
        self.assertEqual(owners, EXPECTED_DEPENDS, needed)

    def test_conffile_is_the_example_configuration(self):
        self.assertEqual(self.read("DEBIAN/conffiles").split(), ["/etc/tagd/tagd.conf"])
        with open(os.path.join(SOURCE, "packaging", "tagd.conf.example")) as f:
            example = f.read()
        self.assertEqual(self.read("etc/tagd/tagd.conf"), example)
        r = subprocess.run([os.path.join(self.tree, "usr/bin/tagd"), "config", "check",
                            "--config", os.path.join(self.tree, "etc/tagd/tagd.conf")],
                           capture_output=True, text=True, timeout=30,
                           env={"PATH": os.environ["PATH"]})
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_units_and_tagdctl_name_the_installed_binary(self):
        with open(os.path.join(SOURCE, "packaging", "systemd", "tagd.service.in")) as f:
            unit = f.read().replace("@TAGD_INSTALL_BIN@", "/usr/bin/tagd")
        self.assertEqual(self.read("lib/systemd/system/tagd.service"), unit)
        self.assertIn("\nExecStart=/usr/bin/tagd serve\n", unit)
        self.assertIn("\ntagd='/usr/bin/tagd'\n", self.read("usr/sbin/tagdctl"))

    def test_copyright_is_machine_readable_apache(self):
        text = self.read("usr/share/doc/tagd/copyright")
        self.assertTrue(text.startswith(
            "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"))
        self.assertIn("\nLicense: Apache-2.0\n", text)
        self.assertIn("/usr/share/common-licenses/Apache-2.0", text)

    def test_maintainer_scripts_use_the_debian_helpers(self):
        postinst = self.read("DEBIAN/postinst")
        self.assertIn("deb-systemd-helper enable 'tagd.service'", postinst)
        self.assertIn('deb-systemd-invoke "$action" tagd.service', postinst)
        self.assertIn("deb-systemd-invoke stop tagd.service tagd.socket", self.read("DEBIAN/prerm"))
        postrm = self.read("DEBIAN/postrm")
        self.assertIn("deb-systemd-helper purge 'tagd.service' 'tagd.socket'", postrm)
        self.assertRegex(postrm, r'if \[ "\$1" = "purge" \]; then\n\trm -rf /var/lib/tagd '
                                 r'/var/lib/private/tagd\n')
        for script in ("postinst", "prerm", "postrm"):
            r = subprocess.run(["sh", "-n", os.path.join(self.tree, "DEBIAN", script)],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main()
