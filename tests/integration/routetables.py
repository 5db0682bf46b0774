"""The route tables of tagd's dialects as src/ declares them (vers_routes in
vers_api.c, ss_routes in ss_api.c): what tests that must cover every route
compare their own lists with, so that a new route without a case fails them."""
import os
import re

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
ROUTE_RE = re.compile(r'\{CALL_(\w+),\s*"([^"]+)",\s*ROUTE_AUTH_(\w+),\s*TOKEN_SCOPE_(\w+)')


def route_table():
    """{(METHOD, path template): (auth, scope)} of every route of both dialects."""
    routes = {}
    for name, table in (("vers_api.c", "vers_routes"), ("ss_api.c", "ss_routes")):
        with open(os.path.join(ROOT, "src", name), encoding="utf-8") as f:
            text = f.read()
        start = text.index(f"const struct route {table}[]")
        body = text[start:text.index("};", start)]
        for method, path, auth, scope in ROUTE_RE.findall(body):
            routes[(method, path)] = (auth, scope.lower())
    return routes


def source_routes():
    """(METHOD, path) of every authenticated route in the dialects' route tables."""
    return {key for key, (auth, _) in route_table().items() if auth != "NONE"}
