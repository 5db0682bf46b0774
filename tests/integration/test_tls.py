"""HTTPS: tagd serving TLS with certificates made here by openssl; what it
refuses at start, what it refuses on the wire, and SIGHUP reloading."""
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import unittest
import warnings

from tagdtest import TAGD_BIN, Tagd

OPENSSL = shutil.which("openssl")
CURL = shutil.which("curl")


def openssl(*args, cwd):
    subprocess.run([OPENSSL] + list(args), cwd=cwd, check=True, capture_output=True, timeout=60)


def make_cert(dirname, name, days="1", key_type="ec"):
    """A self-signed certificate for 127.0.0.1 and localhost: returns (cert, key) paths."""
    cert, key = os.path.join(dirname, name + ".pem"), os.path.join(dirname, name + ".key")
    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"] \
        if key_type == "ec" else ["-newkey", "rsa:2048"]
    if days.startswith("-"):
        # openssl req cannot date a certificate in the past; x509 -req -days -1 can.
        csr = os.path.join(dirname, name + ".csr")
        openssl("req", "-new", *newkey, "-nodes", "-keyout", key, "-out", csr,
                "-subj", "/CN=localhost", cwd=dirname)
        openssl("x509", "-req", "-in", csr, "-signkey", key, "-days", days, "-out", cert,
                cwd=dirname)
    else:
        openssl("req", "-x509", *newkey, "-nodes", "-keyout", key, "-out", cert,
                "-days", days, "-subj", "/CN=localhost",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", cwd=dirname)
    return cert, key


def client_context(cafile, minimum=ssl.TLSVersion.TLSv1_2, maximum=None, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.1 on purpose
        ctx.minimum_version = minimum
        if maximum is not None:
            ctx.maximum_version = maximum
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


def peer_cert(port, cafile):
    """The DER certificate the server shows to a new connection."""
    ctx = client_context(cafile)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            return t.getpeercert(binary_form=True)


def der_of(pem_path):
    with open(pem_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


@unittest.skipIf(OPENSSL is None, "openssl is not installed")
class TlsCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="tagd-tls-")
        cls.cert, cls.key = make_cert(cls.dir, "a")
        cls.cert_b, cls.key_b = make_cert(cls.dir, "b", key_type="rsa")
        # What the server reads: copies, so that tests can replace them.
        cls.live_cert = os.path.join(cls.dir, "live.pem")
        cls.live_key = os.path.join(cls.dir, "live.key")
        shutil.copy(cls.cert, cls.live_cert)
        shutil.copy(cls.key, cls.live_key)
        cls.tagd = Tagd(extra_args=["--tls-cert", cls.live_cert, "--tls-key", cls.live_key])
        try:
            cls.token = cls.tagd.new_org("acme")
            cls.tagd.start()
        except Exception:
            cls.tagd.cleanup()
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise
        cls.tagd.tls_context = client_context(cls.cert)

    @classmethod
    def tearDownClass(cls):
        rc = cls.tagd.stop()
        cls.tagd.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)
        if rc not in (0, None):
            raise AssertionError(f"tagd exited with {rc}")

    def handshake(self, ctx):
        """Connect with ctx; returns (version, cipher) or the SSL error."""
        try:
            with socket.create_connection(("127.0.0.1", self.tagd.port), timeout=10) as s:
                with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
                    return t.version(), t.cipher()[0]
        except (ssl.SSLError, ConnectionError) as e:
            return e

    def assertRefusedByServer(self, result):
        self.assertIsInstance(result, (ssl.SSLError, ConnectionError), result)
        # The client did offer the handshake: the refusal is the server's, not a local one.
        self.assertNotIn("NO_PROTOCOLS_AVAILABLE", str(result))
        self.assertNotIn("NO_CIPHERS_AVAILABLE", str(result))

    def test_https_end_to_end(self):
        self.tagd.wait_log(r'msg="TLS certificate loaded" cert="\S+live\.pem" '
                           r'expires=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ')
        r = self.tagd.request("POST", "/api/v1/commits", body={"name": "over tls"},
                              token=self.token)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["name"], "over tls")
        r = self.tagd.request("POST", "/api/v1/commits", body={}, token="tagd_nope")
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.json(), {"success": False, "error": "Invalid bearer token"})

    def test_plain_http_is_not_answered_on_the_tls_port(self):
        with socket.create_connection(("127.0.0.1", self.tagd.port), timeout=10) as s:
            s.sendall(b"GET /api/v1/commits HTTP/1.1\r\nHost: x\r\n\r\n")
            data = s.recv(4096)
        self.assertFalse(data.startswith(b"HTTP/1.1 2"), data)

    def test_tls12_and_tls13_with_aead(self):
        v, cipher = self.handshake(client_context(self.cert, maximum=ssl.TLSVersion.TLSv1_2))
        self.assertEqual(v, "TLSv1.2")
        self.assertRegex(cipher, r"^ECDHE-(ECDSA|RSA)-(AES\d+-GCM|CHACHA20-POLY1305)")
        v, _ = self.handshake(client_context(self.cert, minimum=ssl.TLSVersion.TLSv1_3))
        self.assertEqual(v, "TLSv1.3")

    def test_tls11_refused(self):
        ctx = client_context(self.cert, minimum=ssl.TLSVersion.TLSv1_1,
                             maximum=ssl.TLSVersion.TLSv1_1, ciphers="ALL:@SECLEVEL=0")
        self.assertRefusedByServer(self.handshake(ctx))

    def test_cbc_and_static_rsa_refused(self):
        for suite in ("ECDHE-ECDSA-AES128-SHA", "AES128-GCM-SHA256", "AES256-SHA"):
            ctx = client_context(self.cert, maximum=ssl.TLSVersion.TLSv1_2,
                                 ciphers=suite + ":@SECLEVEL=0")
            self.assertRefusedByServer(self.handshake(ctx))

    @unittest.skipIf(CURL is None, "curl is not installed")
    def test_curl_cacert_as_in_the_readme(self):
        r = subprocess.run([CURL, "-sS", "--fail-with-body", "--cacert", self.cert, "-H",
                            f"Authorization: Bearer {self.token}", "-H",
                            "Content-Type: application/json", "-d", "{}", "-w", "\n%{http_code}",
                            f"https://localhost:{self.tagd.port}/api/v1/commits"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines()[-1], "201", r.stdout)

    def test_sighup_reloads_and_keeps_connections(self):
        t = self.tagd
        # A keep-alive connection made with the first certificate.
        conn = t.connection()
        self.assertEqual(t.request("POST", "/api/v1/commits", body={}, token=self.token,
                                   conn=conn).status, 201)
        try:
            shutil.copy(self.cert_b, self.live_cert)
            shutil.copy(self.key_b, self.live_key)
            mark = t.log_count()
            t.proc.send_signal(signal.SIGHUP)
            t.wait_log(r'msg="TLS certificate reloaded"', start=mark)
            self.assertEqual(peer_cert(t.port, self.cert_b), der_of(self.cert_b))
            # The connection opened before goes on.
            self.assertEqual(t.request("POST", "/api/v1/commits", body={}, token=self.token,
                                       conn=conn).status, 201)

            # A broken pair is not taken: the old certificate stays.
            shutil.copy(self.cert, self.live_cert)  # key is still b's
            mark = t.log_count()
            t.proc.send_signal(signal.SIGHUP)
            m = t.wait_log(r'msg="TLS certificate not reloaded.*', start=mark)
            self.assertIn("does not match", m.group(0))
            self.assertEqual(peer_cert(t.port, self.cert_b), der_of(self.cert_b))
        finally:
            conn.close()
            shutil.copy(self.cert, self.live_cert)
            shutil.copy(self.key, self.live_key)
            mark = t.log_count()
            t.proc.send_signal(signal.SIGHUP)
            t.wait_log(r'msg="TLS certificate reloaded"', start=mark)
        self.assertEqual(peer_cert(t.port, self.cert), der_of(self.cert))


@unittest.skipIf(OPENSSL is None, "openssl is not installed")
class TlsRefusedAtStart(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="tagd-tls-")
        cls.cert, cls.key = make_cert(cls.dir, "good")
        cls.other_cert, cls.other_key = make_cert(cls.dir, "other")
        cls.expired_cert, cls.expired_key = make_cert(cls.dir, "expired", days="-1")
        cls.db = os.path.join(cls.dir, "tagd.db")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def serve(self, *args):
        """Run tagd serve; it must exit at once (before listening)."""
        r = subprocess.run([TAGD_BIN, "serve", "--listen", "127.0.0.1:0", "--db", self.db]
                           + list(args), capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=60)
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertNotIn('msg="listening"', r.stderr)
        return r.stderr.strip().splitlines()[-1]

    def test_expired_certificate(self):
        line = self.serve("--tls-cert", self.expired_cert, "--tls-key", self.expired_key)
        self.assertRegex(line, r"^tagd serve: TLS certificate \S+expired\.pem expired on "
                               r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def test_key_of_another_certificate(self):
        line = self.serve("--tls-cert", self.cert, "--tls-key", self.other_key)
        self.assertEqual(line, f"tagd serve: TLS key {self.other_key} does not match "
                               f"certificate {self.cert}")

    def test_unreadable_files(self):
        missing = os.path.join(self.dir, "missing.pem")
        line = self.serve("--tls-cert", missing, "--tls-key", self.key)
        self.assertEqual(line, f"tagd serve: cannot read TLS certificate {missing}: "
                               "No such file or directory")
        line = self.serve("--tls-cert", self.cert, "--tls-key", missing)
        self.assertIn(f"cannot read TLS key {missing}", line)
        # A key where the certificate should be.
        line = self.serve("--tls-cert", self.key, "--tls-key", self.key)
        self.assertIn(f"TLS certificate {self.key}:", line)

    def test_half_configured_and_bad_priorities(self):
        line = self.serve("--tls-cert", self.cert)
        self.assertEqual(line, "tagd serve: HTTPS needs both a certificate and a key file")
        line = self.serve("--tls-cert", self.cert, "--tls-key", self.key,
                          "--tls-priorities", "NORMAL:+NOPE")
        self.assertIn("TLS priorities:", line)
        self.assertIn("+NOPE", line)


if __name__ == "__main__":
    unittest.main()
