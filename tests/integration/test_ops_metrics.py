"""Health and metrics: /livez, /readyz, and /metrics in the Prometheus text
format, counting requests by dialect, route template, method and status."""
import re
import unittest

from tagdtest import TagdCase

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Parse the text exposition format strictly: returns (types, samples) where
    samples is a list of (name, labels dict, float value)."""
    types, samples = {}, []
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            if kind not in ("counter", "gauge", "histogram", "summary", "untyped"):
                raise ValueError(f"bad type line {line!r}")
            types[name] = kind
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            raise ValueError(f"bad sample line {line!r}")
        name, labels_text, value = m.groups()
        labels = {}
        if labels_text:
            rebuilt = ",".join(f'{k}="{v}"' for k, v in LABEL_RE.findall(labels_text))
            if rebuilt != labels_text:
                raise ValueError(f"bad labels in {line!r}")
            labels = dict(LABEL_RE.findall(labels_text))
        base = re.sub(r'_(bucket|sum|count)$', '', name)
        if name not in types and base not in types:
            raise ValueError(f"sample {name} has no TYPE line")
        samples.append((name, labels, float(value)))
    return types, samples


def value(samples, name, **labels):
    found = [v for n, ls, v in samples if n == name and all(ls.get(k) == x
                                                            for k, x in labels.items())]
    return sum(found)


class MetricsTest(TagdCase):
    def scrape(self):
        r = self.tagd.request("GET", "/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type").startswith("text/plain; version=0.0.4"), r)
        return parse_metrics(r.body.decode())

    def test_livez_and_readyz(self):
        r = self.tagd.request("GET", "/livez")
        self.assertEqual((r.status, r.body), (200, b"ok\n"))
        r = self.tagd.request("GET", "/readyz")
        self.assertEqual((r.status, r.body), (200, b"ready\n"))
        self.assertEqual(self.tagd.request("HEAD", "/readyz").status, 200)
        self.assertEqual(self.tagd.request("POST", "/readyz").status, 405)

    def test_counts_requests_by_route_and_status(self):
        _, before = self.scrape()
        repo = self.unique("mrepo")
        self.assertEqual(self.req("POST", "/api/v1/repositories", {"name": repo}).status, 201)
        self.assertEqual(self.req("POST", "/api/v1/repositories", {"name": repo}).status, 409)
        self.tagd.request("GET", "/no/such/path")
        for _ in range(3):
            self.req("POST", "/api/v1/repositories", {"name": repo}, token="tagd_bogus")
        types, after = self.scrape()

        def delta(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        route = "/api/v1/repositories"
        self.assertEqual(types["tagd_http_requests_total"], "counter")
        self.assertEqual(delta("tagd_http_requests_total", dialect="vers", route=route,
                               method="POST", status="201"), 1)
        self.assertEqual(delta("tagd_http_requests_total", dialect="vers", route=route,
                               method="POST", status="409"), 1)
        self.assertEqual(delta("tagd_http_requests_total", dialect="vers", route=route,
                               method="POST", status="401"), 3)
        self.assertEqual(delta("tagd_http_requests_total", route="unmatched", status="404",
                               dialect="none"), 1)
        # The write went through the store's writer.
        self.assertGreaterEqual(delta("tagd_db_write_operations_total"), 2)
        self.assertGreaterEqual(delta("tagd_db_write_duration_seconds_count"), 1)
        self.assertEqual(value(after, "tagd_repositories"),
                         value(before, "tagd_repositories") + 1)
        self.assertEqual(types["tagd_repositories"], "gauge")
        self.assertEqual(types["tagd_tags"], "gauge")
        self.assertEqual(types["tagd_commits"], "gauge")

    def test_histograms_are_consistent(self):
        self.tagd.request("GET", "/livez")
        types, samples = self.scrape()
        self.assertEqual(types["tagd_http_request_duration_seconds"], "histogram")
        self.assertEqual(types["tagd_db_write_duration_seconds"], "histogram")
        self.assertEqual(types["tagd_db_write_batch_operations"], "histogram")
        series = {}
        for name, labels, v in samples:
            if name.endswith("_bucket"):
                key = (name[:-7], tuple(sorted((k, x) for k, x in labels.items() if k != "le")))
                series.setdefault(key, []).append((labels["le"], v))
        self.assertTrue(any(k[0] == "tagd_http_request_duration_seconds" and
                            ("route", "/livez") in k[1] for k in series))
        for (name, labels), buckets in series.items():
            counts = [v for _, v in buckets]
            self.assertEqual(counts, sorted(counts), (name, labels))
            self.assertEqual(buckets[-1][0], "+Inf")
            bounds = [float(le) for le, _ in buckets[:-1]]
            self.assertEqual(bounds, sorted(bounds))
            count = value(samples, name + "_count", **dict(labels))
            self.assertEqual(buckets[-1][1], count, (name, labels))

    def test_in_flight_and_build_info(self):
        _, samples = self.scrape()
        # The scrape itself is in flight while it is rendered.
        self.assertEqual(value(samples, "tagd_http_requests_in_flight"), 1)
        info = [ls for n, ls, _ in samples if n == "tagd_build_info"]
        self.assertEqual(len(info), 1)
        self.assertRegex(info[0]["version"], r"^\d+\.\d+\.\d+")
        self.assertIn(info[0]["systemd"], ("yes", "no"))

    def test_metrics_reveal_no_tokens(self):
        self.req("POST", "/api/v1/repositories", {"name": self.unique("tok")})
        r = self.tagd.request("GET", "/metrics")
        self.assertNotIn(self.token.encode(), r.body)
        self.assertNotIn(b"acme", r.body)


if __name__ == "__main__":
    unittest.main()
