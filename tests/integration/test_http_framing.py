"""Request framing as a hostile client (or a request-smuggling proxy) sees it.

Every case sends raw bytes on a fresh connection: a request whose framing is
ambiguous (RFC 9112 §6: Content-Length with Transfer-Encoding, duplicate or bad
Content-Length, obfuscated Transfer-Encoding values), a head that parsers read
differently (no Host, obs-fold, spaces in field names, bare CR), or more query
parameters or header fields than tagd keeps.  Each is refused in the dialect's
envelope; where the framing cannot be trusted the connection is closed after
the answer, and a request smuggled behind it on the same connection is never
answered nor run.
"""
import json
import socket
import time
import unittest

from tagdtest import TagdCase

READ_TIMEOUT = 10.0  # only reached when the server fails to answer or to close


def parse_responses(data):
    """Split raw bytes into complete responses: [(status, headers, body)], and leftover bytes."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.split(b"\r\n")
        headers = {}
        for line in lines[1:]:
            k, _, v = line.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        if len(rest) < n:
            break
        out.append((int(lines[0].split()[1]), headers, rest[:n]))
        data = rest[n:]
    return out, data


class Conversation:
    """One raw connection: send bytes, read answers until the server closes or enough came."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT)
        self.data = b""
        self.closed = False

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError:
            pass  # the server may answer and close before reading everything

    def read(self, want=None):
        """Read until the server closes, or (want) until that many answers are in."""
        deadline = time.monotonic() + READ_TIMEOUT
        while not self.closed and time.monotonic() < deadline:
            if want is not None and len(parse_responses(self.data)[0]) >= want:
                break
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.closed = True
                break
            self.data += chunk
        return parse_responses(self.data)

    def close(self):
        self.sock.close()


class FramingTest(TagdCase):
    def setUp(self):
        self.assertIsNone(self.tagd.proc.poll())
        self.auth = b"Authorization: Bearer " + self.token.encode() + b"\r\n"

    def tearDown(self):
        # Whatever came before, the server is alive and serves the next client.
        self.assertIsNone(self.tagd.proc.poll(), "tagd died:\n" + self.tagd.log())
        r = self.req("GET", "/api/v1/repositories")
        self.assertEqual(r.status, 200, r)

    # -- helpers --
    def post_repo(self, framing):
        """A create-repository request head with the given framing lines (bytes)."""
        return (b"POST /api/v1/repositories HTTP/1.1\r\nHost: tagd\r\n" + self.auth +
                b"Content-Type: application/json\r\n" + framing + b"\r\n")

    def smuggled(self, name):
        """A complete request that creates repository name, to hide behind another."""
        body = json.dumps({"name": name}).encode()
        return (b"POST /api/v1/repositories HTTP/1.1\r\nHost: tagd\r\n" + self.auth +
                b"Content-Type: application/json\r\nContent-Length: " +
                str(len(body)).encode() + b"\r\n\r\n" + body)

    def assertRepoAbsent(self, name):
        r = self.req("GET", "/api/v1/repositories/" + name)
        self.assertEqual(r.status, 404, f"the smuggled request ran: {r}")

    def assertRefused(self, data, status, message=None, ss=False, closes=True, smuggle=None):
        """Send data (then, when smuggle names a repository, a request creating it on the
        same connection): exactly one answer, status in the envelope, the connection closed
        (when closes), and the smuggled request neither answered nor run."""
        conv = Conversation(self.tagd.port)
        try:
            conv.send(data + (self.smuggled(smuggle) if smuggle else b""))
            answers, rest = conv.read()
        finally:
            conv.close()
        self.assertGreaterEqual(len(answers), 1, f"no answer to {data[:120]!r}: {conv.data!r}")
        got, headers, body = answers[0]
        self.assertEqual(got, status, body)
        doc = json.loads(body)
        if ss:
            self.assertEqual(headers.get("content-type"), "application/json;charset=utf8")
            self.assertEqual(set(doc), {"error_code", "error_msg"}, doc)
            self.assertTrue(doc["error_code"].startswith("SVCSTG.REPO."), doc)
            text = doc["error_msg"]
        else:
            self.assertEqual(headers.get("content-type"), "application/json")
            self.assertEqual(set(doc), {"success", "error"}, doc)
            self.assertIs(doc["success"], False)
            text = doc["error"]
        if message is not None:
            self.assertEqual(text, message)
        self.assertTrue(headers.get("x-request-id"), headers)
        if closes:
            self.assertEqual(headers.get("connection", "").lower(), "close", headers)
            self.assertTrue(conv.closed, "the connection stayed open")
            self.assertEqual(len(answers), 1, f"a second request was answered: {answers[1:]}")
            self.assertEqual(rest, b"", "bytes after the answer")
        if smuggle:
            self.assertRepoAbsent(smuggle)
        return doc

    # -- the control: well-framed requests on one connection are all answered --
    def test_control_pipelined_requests_are_answered(self):
        # Proves that assertRefused can see a second answer: here there must be two.
        first, second = self.unique("ctl"), self.unique("ctl")
        chunked = json.dumps({"name": first}).encode()
        conv = Conversation(self.tagd.port)
        try:
            conv.send(self.post_repo(b"Transfer-Encoding: chunked\r\n") +
                      b"%x\r\n" % len(chunked) + chunked + b"\r\n0\r\n\r\n" +
                      self.smuggled(second))
            answers, _ = conv.read(want=2)
        finally:
            conv.close()
        self.assertEqual([a[0] for a in answers], [201, 201], answers)
        self.assertFalse(conv.closed)
        for name in (first, second):
            self.assertEqual(self.req("GET", "/api/v1/repositories/" + name).status, 200)

    # -- Content-Length and Transfer-Encoding together (RFC 9112 §6.1) --
    def test_cl_te_is_400_and_closes(self):
        name = self.unique("clte")
        body = json.dumps({"name": name}).encode()
        # A front end that trusts Content-Length forwards 4 bytes; one that trusts chunked
        # reads the chunk and takes the rest as the next request.
        data = (self.post_repo(b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n") +
                b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
        self.assertRefused(data, 400,
                           "Content-Length and Transfer-Encoding cannot be used together",
                           smuggle=self.unique("behind"))
        self.assertRepoAbsent(name)

    def test_te_cl_is_400_and_closes(self):
        name = self.unique("tecl")
        data = (self.post_repo(b"Transfer-Encoding: chunked\r\nContent-Length: 6\r\n") +
                b"0\r\n\r\n")
        self.assertRefused(data, 400,
                           "Content-Length and Transfer-Encoding cannot be used together",
                           smuggle=self.unique("behind"))

    def test_cl_te_in_the_servicestage_envelope(self):
        data = (b"POST /v1/proj-acme/git/repos/ns/projects HTTP/1.1\r\nHost: tagd\r\n"
                b"X-Auth-Token: " + self.token.encode() + b"\r\n"
                b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        doc = self.assertRefused(data, 400, ss=True)
        self.assertEqual(doc["error_code"], "SVCSTG.REPO.0400")

    # -- Transfer-Encoding that is not exactly chunked (TE.TE obfuscations) --
    def test_obfuscated_transfer_encodings_are_400_and_close(self):
        for value in (b"xchunked", b"chunked, identity", b"chunked\t", b"chunked;x=1",
                      b"chunked,", b"\"chunked\"", b"x chunked", b"identity", b""):
            with self.subTest(value=value):
                name = self.unique("tete")
                data = self.post_repo(b"Transfer-Encoding: " + value + b"\r\n") + \
                    b"0\r\n\r\n"
                self.assertRefused(data, 400, "invalid Transfer-Encoding",
                                   smuggle=self.unique("behind"))

    def test_second_transfer_encoding_field_is_400(self):
        for second in (b"identity", b"chunked", b"x"):
            with self.subTest(second=second):
                data = self.post_repo(b"Transfer-Encoding: chunked\r\n"
                                      b"Transfer-Encoding: " + second + b"\r\n") + b"0\r\n\r\n"
                self.assertRefused(data, 400, "invalid Transfer-Encoding",
                                   smuggle=self.unique("behind"))

    def test_space_before_the_colon_is_400(self):
        # "Transfer-Encoding : chunked": a proxy may ignore the field, or not.
        data = self.post_repo(b"Transfer-Encoding : chunked\r\n") + b"0\r\n\r\n"
        self.assertRefused(data, 400, "invalid request header field",
                           smuggle=self.unique("behind"))

    def test_codings_before_chunked_are_501(self):
        data = self.post_repo(b"Transfer-Encoding: gzip, chunked\r\n") + b"0\r\n\r\n"
        self.assertRefused(data, 501,
                           "transfer coding not implemented: only chunked is supported",
                           smuggle=self.unique("behind"))

    def test_chunked_in_http_1_0_is_400(self):
        data = (b"POST /api/v1/repositories HTTP/1.0\r\nHost: tagd\r\n" + self.auth +
                b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        self.assertRefused(data, 400, "invalid Transfer-Encoding")

    # -- Content-Length (RFC 9112 §6.3) --
    def test_duplicate_content_length_is_400_and_closes(self):
        name = self.unique("dupcl")
        body = json.dumps({"name": name}).encode()
        for lengths in ((len(body), 0), (len(body), len(body))):
            with self.subTest(lengths=lengths):
                framing = b"".join(b"Content-Length: %d\r\n" % n for n in lengths)
                self.assertRefused(self.post_repo(framing) + body, 400,
                                   "invalid Content-Length", smuggle=self.unique("behind"))
        self.assertRepoAbsent(name)

    def test_bad_content_length_is_refused(self):
        # libmicrohttpd reads a single Content-Length itself and answers a value that is
        # not digits with its own HTML page before tagd sees the request (see README);
        # it is refused and the connection closed all the same.
        conv = Conversation(self.tagd.port)
        try:
            conv.send(self.post_repo(b"Content-Length: +2\r\n") + b"{}" +
                      self.smuggled(self.unique("behind")))
            answers, _ = conv.read()
        finally:
            conv.close()
        self.assertTrue(conv.closed)
        self.assertEqual([a[0] for a in answers], [400])

    # -- Host (RFC 9112 §3.2) --
    def test_missing_host_is_400(self):
        self.assertRefused(b"GET /api/v1/repositories HTTP/1.1\r\n" + self.auth + b"\r\n", 400,
                           "an HTTP/1.1 request needs exactly one valid Host header",
                           smuggle=self.unique("behind"))

    def test_two_hosts_or_a_bad_one_is_400(self):
        for hosts in (b"Host: a\r\nHost: b\r\n", b"Host: a b\r\n", b"Host: a/b\r\n"):
            with self.subTest(hosts=hosts):
                self.assertRefused(b"GET /api/v1/repositories HTTP/1.1\r\n" + hosts +
                                   self.auth + b"\r\n", 400,
                                   "an HTTP/1.1 request needs exactly one valid Host header")

    def test_http_1_0_without_host_is_served(self):
        conv = Conversation(self.tagd.port)
        try:
            conv.send(b"GET /api/v1/repositories HTTP/1.0\r\n" + self.auth + b"\r\n")
            answers, _ = conv.read()
        finally:
            conv.close()
        self.assertEqual(answers[0][0], 200, answers)

    # -- field syntax --
    def test_obs_fold_is_400(self):
        for fold in (b"X-Note: one\r\n two\r\n", b"X-Note: one\r\n\tand two\r\n",
                     b"Transfer-Encoding: gzip\r\n chunked\r\n"):
            with self.subTest(fold=fold):
                data = (b"GET /api/v1/repositories HTTP/1.1\r\nHost: tagd\r\n" + fold +
                        self.auth + b"\r\n")
                self.assertRefused(data, 400, "invalid request header field",
                                   smuggle=self.unique("behind"))

    def test_fold_right_after_the_request_line_is_400(self):
        data = b"GET /api/v1/repositories HTTP/1.1\r\n X-Note: a\r\nHost: tagd\r\n" + self.auth
        self.assertRefused(data + b"\r\n", 400, "invalid request header field")

    def test_field_names_with_spaces_are_400(self):
        for field in (b"X Note: a\r\n", b"X-Note\t: a\r\n"):
            with self.subTest(field=field):
                data = (b"GET /api/v1/repositories HTTP/1.1\r\nHost: tagd\r\n" + field +
                        self.auth + b"\r\n")
                self.assertRefused(data, 400, "invalid request header field")

    def test_bare_cr_and_control_bytes_are_400(self):
        for field in (b"X-A: a\rX-B: b\r\n", b"X-A: a\x01b\r\n", b"X-A: a\x7f\r\n"):
            with self.subTest(field=field):
                data = (b"GET /api/v1/repositories HTTP/1.1\r\nHost: tagd\r\n" + field +
                        self.auth + b"\r\n")
                self.assertRefused(data, 400, "invalid request header field",
                                   smuggle=self.unique("behind"))

    def test_whitespace_in_the_target_is_400(self):
        self.assertRefused(b"GET /api/v1/repo sitories HTTP/1.1\r\nHost: tagd\r\n" +
                           self.auth + b"\r\n", 400, "invalid request target")

    # -- no silent truncation --
    def test_40_query_parameters_are_414_not_dropped(self):
        # Before: parameters past the 32nd were dropped, so limit=abc was never seen (200).
        query = "&".join(f"k{i}=v" for i in range(40)) + "&limit=abc"
        r = self.req("GET", "/api/v1/commits?" + query)
        self.assertVersError(r, 414, "too many query parameters")
        # 32 are kept, and the bad limit among them is found.
        query = "&".join(f"k{i}=v" for i in range(31)) + "&limit=abc"
        r = self.req("GET", "/api/v1/commits?" + query)
        self.assertVersError(r, 400)
        r = self.req("GET", "/v1/proj-acme/git/repos/ns/projects?" +
                     "&".join(f"k{i}=v" for i in range(33)),
                     headers={"X-Auth-Token": self.token})
        self.assertEqual(r.status, 414, r)
        self.assertEqual(r.json()["error_msg"], "too many query parameters")

    def test_too_many_header_fields_are_431_not_dropped(self):
        many = {f"X-H{i}": "v" for i in range(70)}
        r = self.req("GET", "/api/v1/repositories", headers=many)
        self.assertVersError(r, 431, "too many request headers")
        # The Authorization header past the 64th is not silently lost either: 431 again.
        r = self.req("GET", "/api/v1/repositories", headers={f"X-H{i}": "v" for i in range(64)})
        self.assertVersError(r, 431)

    def test_refusals_are_logged_with_their_status(self):
        mark = self.tagd.log_mark()
        self.assertRefused(b"GET /api/v1/repositories HTTP/1.1\r\n\r\n", 400)
        self.tagd.wait_log(r'msg="request" .*route="unmatched" status=400', start=mark)


if __name__ == "__main__":
    unittest.main()
