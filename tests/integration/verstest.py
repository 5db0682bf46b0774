"""Helpers shared by the Vers integration tests (test_vers_*.py)."""
import re
import urllib.parse

from tagdtest import TagdCase

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
MISSING_UUID = "00000000-0000-4000-8000-000000000000"

REPO_KEYS = {"repo_id", "name", "description", "is_public", "created_at"}
PUBLIC_REPO_KEYS = {"repo_id", "org_name", "name", "full_name", "description", "created_at"}
REPO_TAG_KEYS = {"tag_id", "tag_name", "reference", "commit_id", "description", "created_at",
                 "updated_at"}
TAG_KEYS = {"tag_id", "tag_name", "commit_id", "description", "created_at", "updated_at"}
COMMIT_KEYS = {"commit_id", "owner_id", "name", "description", "parent_vm_id",
               "grandparent_commit_id", "is_public", "created_at"}


def q(name):
    """A name as one path segment ('/' as %2F)."""
    return urllib.parse.quote(name, safe="")


class VersCase(TagdCase):
    """TagdCase with shortcuts for repositories, tags, commits and fresh organizations."""

    def new_org(self):
        """A fresh organization of its own; returns (name, token)."""
        name = self.unique("org")
        return name, self.tagd.new_org(name)

    def new_repo(self, name=None, token="default", description=None, public=False):
        name = name or self.unique("repo")
        body = {"name": name}
        if description is not None:
            body["description"] = description
        r = self.req("POST", "/api/v1/repositories", body, token=token)
        self.assertEqual(r.status, 201, r)
        if public:
            r = self.req("PATCH", f"/api/v1/repositories/{q(name)}/visibility",
                         {"is_public": True}, token=token)
            self.assertEqual(r.status, 204, r)
        return name

    def new_tag(self, repo, tag, commit, token="default", description=None):
        body = {"tag_name": tag, "commit_id": commit}
        if description is not None:
            body["description"] = description
        r = self.req("POST", f"/api/v1/repositories/{q(repo)}/tags", body, token=token)
        self.assertEqual(r.status, 201, r)
        return r.json()

    def commit(self, org="acme", **kw):
        return self.tagd.new_commit(org, **kw)

    def public_commit(self, org="acme"):
        return self.tagd.cli("commit", "create", "--org", org, "--public").stdout.strip()

    def assertNoContent(self, r):
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"")

    def assertTime(self, value):
        self.assertIsInstance(value, str)
        self.assertRegex(value, TIME_RE)
