// Self-test of check_contract.mjs: it passes what openapi/tagd.json
// describes and fails, naming the problem, on everything else.
// Run: node --test tests/contract/
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { HERE } from "./lib.mjs";

const CHECKER = path.join(HERE, "check_contract.mjs");
const UUID = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
const TIME = "2026-11-22T22:38:20.388318Z";
const JSON_TYPE = "application/json";

function run(records, { raw } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tagd-contract-"));
  try {
    if (records !== null) {
      const text = raw ?? records.map((r) => JSON.stringify(r)).join("\n") + "\n";
      fs.writeFileSync(path.join(dir, "exchanges-1.jsonl"), text);
    }
    const r = spawnSync(process.execPath, [CHECKER, dir], { encoding: "utf8" });
    return { code: r.status, out: r.stdout + r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const rec = (method, p, status, body, type = JSON_TYPE) => ({
  method, path: p, status, content_type: type,
  body: typeof body === "string" ? body : JSON.stringify(body), test: "selftest",
});
const commit = {
  commit_id: UUID, owner_id: UUID, name: "n", description: null, parent_vm_id: null,
  grandparent_commit_id: null, is_public: false, created_at: TIME,
};
const verr = (msg) => ({ success: false, error: msg });

test("declared exchanges pass", () => {
  const r = run([
    rec("POST", "/api/v1/commits", 201, commit),
    rec("POST", "/api/v1/commits", 409, verr("commit already exists")),
    rec("POST", "/api/v1/repositories/a%2Fb/tags", 201, { tag_id: UUID, reference: "a/b:v1", commit_id: UUID }),
    rec("DELETE", "/api/v1/repositories/r/tags/t", 204, "", null),
    rec("HEAD", "/openapi.json", 200, ""),
    rec("GET", "/nope", 404, verr("not found")),
    rec("PUT", "/openapi.json", 405, verr("method not allowed")),
    rec("GET", "/v1/p/git/repos/ns/pr/tags", 200, { tags: ["v1", "a/b"] }),
    rec("GET", "/v1/p/git/repos/ns/pr/tags", 401, { error_code: "APIGW.0301", error_msg: "x" }),
    rec("POST", "/v1/p/git/repos/ns/pr/tags", 413, { error_code: "SVCSTG.REPO.0400", error_msg: "request body too large" }),
    rec("GET", "/metrics", 200, "tagd_up 1\n", "text/plain; version=0.0.4"),
  ]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /all 11 exchanges match/);
});

test("no records at all fail", () => {
  const empty = run([]);
  assert.equal(empty.code, 1, empty.out);
  assert.match(empty.out, /no exchange was logged/);
  const missing = run(null);
  assert.equal(missing.code, 1, missing.out);
});

test("an undeclared status fails", () => {
  const r = run([rec("POST", "/api/v1/repositories", 418, verr("teapot"))]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /POST \/api\/v1\/repositories 418: status not declared/);
});

test("a body off its schema fails: missing, extra, wrong type, bad format", () => {
  const { description, ...noDescription } = commit;
  for (const body of [noDescription, { ...commit, extra: 1 }, { ...commit, is_public: "no" },
    { ...commit, created_at: "yesterday" }]) {
    const r = run([rec("POST", "/api/v1/commits", 201, body)]);
    assert.equal(r.code, 1, `${JSON.stringify(body)}\n${r.out}`);
    assert.match(r.out, /does not match the schema/);
  }
});

test("error envelopes are checked too", () => {
  let r = run([rec("POST", "/api/v1/repositories", 409, { error: "x" })]);
  assert.equal(r.code, 1, r.out);
  r = run([rec("GET", "/v1/p/git/repos/ns/pr/tags", 401, { error_code: "APIGW.0302", error_msg: "x" })]);
  assert.equal(r.code, 1, r.out);
  r = run([rec("GET", "/v1/p/git/repos/ns/pr/tags", 400, { error_code: "SVCSTG.REPO.9999", error_msg: "x" })]);
  assert.equal(r.code, 1, r.out);
});

test("unknown paths may only be 404, unknown methods only 405", () => {
  let r = run([rec("GET", "/nope", 200, {})]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /no path template matches/);
  r = run([rec("PUT", "/openapi.json", 200, {})]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /no PUT operation/);
});

test("a 204 with a body, a wrong content type, or a non-JSON body fail", () => {
  let r = run([rec("DELETE", "/api/v1/repositories/r", 204, "{}")]);
  assert.equal(r.code, 1, r.out);
  r = run([rec("POST", "/api/v1/commits", 201, JSON.stringify(commit), "text/plain")]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /Content-Type text\/plain is not declared/);
  r = run([rec("POST", "/api/v1/commits", 201, "{not json")]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /not JSON/);
});

test("static segments win over parameters, as in the router", () => {
  // /api/v1/repositories/fork is the fork operation (501), not a repository named "fork".
  let r = run([rec("POST", "/api/v1/repositories/fork", 501, verr("not implemented"))]);
  assert.equal(r.code, 0, r.out);
  r = run([rec("GET", "/api/v1/repositories/fork", 405, verr("method not allowed"))]);
  assert.equal(r.code, 0, r.out);
  r = run([rec("GET", "/api/v1/repositories/fork", 200, { repo_id: UUID, name: "fork", description: null, is_public: false, created_at: TIME })]);
  assert.equal(r.code, 1, r.out);
});

test("required headers are checked when the record has them", () => {
  const withHeaders = (r, headers) => ({ ...r, headers });
  const ok = rec("POST", "/api/v1/commits", 401, verr("Invalid bearer token"));
  let r = run([withHeaders(ok, { "x-request-id": "a", "www-authenticate": "Bearer" })]);
  assert.equal(r.code, 0, r.out);
  r = run([withHeaders(ok, { "www-authenticate": "Bearer" })]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /required header X-Request-Id is missing/);
  r = run([withHeaders(ok, { "x-request-id": "a", "www-authenticate": "Basic" })]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /header WWW-Authenticate/);
  r = run([withHeaders(rec("PUT", "/openapi.json", 405, verr("method not allowed")), { "x-request-id": "a" })]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /required header Allow is missing/);
});

test("a malformed log line fails", () => {
  const r = run([], { raw: "{\"method\": \"GET\"\n" });
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /not a valid exchange record/);
});

test("webhook deliveries are checked against the document's webhooks", () => {
  const event = {
    repository: "app", action: "create", actor: null, at: TIME, commit_id: UUID, description: null,
    description_changed: false, dialect: "vers", hash: "a".repeat(64), id: UUID,
    previous_commit_id: null, previous_description: null, previous_hash: "0".repeat(64),
    previous_seq: null, request_id: null, scope: { kind: "repository", repository: "app" }, seq: 1,
    tag: "v1",
  };
  const headers = {
    "webhook-id": `msg_${"0".repeat(32)}`, "webhook-timestamp": "1796122117",
    "webhook-signature": `v1,${"A".repeat(43)}=`, "x-hub-signature-256": `sha256=${"f".repeat(64)}`,
  };
  const delivery = (name, body, h = headers) => ({
    webhook: name, method: "POST", path: "/h/x", status: 0, headers: h, body: JSON.stringify(body),
    test: "selftest",
  });
  const good = run([delivery("tagEvent", event)]);
  assert.equal(good.code, 0, good.out);
  assert.match(good.out, /1 webhook deliveries checked/);
  const { repository, ...bare } = event;
  assert.equal(repository, "app");
  const noRepo = run([delivery("tagEvent", bare)]);
  assert.equal(noRepo.code, 1, noRepo.out);
  assert.match(noRepo.out, /webhook tagEvent: the body does not match the schema/);
  const { "webhook-signature": _, ...unsigned } = headers;
  const noSig = run([delivery("tagEvent", event, unsigned)]);
  assert.equal(noSig.code, 1, noSig.out);
  assert.match(noSig.out, /required header webhook-signature is missing/);
  const unknown = run([delivery("tagNope", event)]);
  assert.equal(unknown.code, 1, unknown.out);
  assert.match(unknown.out, /no such webhook/);
});
