// Self-test of validate_openapi.mjs: the real document passes, and a
// document that drifted from tagd's rules or from the real Vers document is
// refused with the reasons.
// Run: node --test tests/contract/
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { HERE, loadDoc } from "./lib.mjs";

const VALIDATOR = path.join(HERE, "validate_openapi.mjs");

function validate(doc) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tagd-openapi-"));
  try {
    const file = path.join(dir, "tagd.json");
    fs.writeFileSync(file, JSON.stringify(doc));
    const r = spawnSync(process.execPath, [VALIDATOR, file], { encoding: "utf8" });
    return { code: r.status, out: r.stdout + r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("openapi/tagd.json passes", () => {
  const r = validate(loadDoc());
  assert.equal(r.code, 0, r.out);
});

test("drift is refused with its reasons", () => {
  const doc = loadDoc();
  const paths = doc.paths;
  delete paths["/api/v1/repositories/{repo_name}"].get.responses["401"];
  paths["/api/v1/repositories"].get.operationId = "list_commits";
  delete paths["/api/v1/commits"].post["x-tagd-extension"];
  paths["/api/v1/commits/{commit_id}"].delete.responses["204"].content = { "application/json": { schema: {} } };
  delete paths["/api/v1/repositories"].post.responses["415"];
  paths["/openapi.json"].get.responses["200"].content["application/json"].schema = { $ref: "#/components/schemas/Nope" };
  delete doc.components.schemas.RepoTagInfo.properties.tag_name;
  delete paths["/openapi.json"];
  const r = validate(doc);
  assert.equal(r.code, 1, r.out);
  for (const want of [
    /GET \/api\/v1\/repositories\/\{repo_name\}: authenticated but no 401/,
    /operationId list_commits also used by/,
    /POST \/api\/v1\/commits: in neither real service; mark it x-tagd-extension/,
    /DELETE \/api\/v1\/commits\/\{commit_id\} 204: a 204 has no body/,
    /POST \/api\/v1\/repositories: takes a body but declares no 415/,
    /schema RepoTagInfo: real property tag_name is missing/,
    /route GET \/openapi.json is not in the document/,
  ]) {
    assert.match(r.out, want);
  }
});

test("a document that is not OpenAPI 3.1 is refused", () => {
  const doc = loadDoc();
  doc.openapi = "3.1.0";
  delete doc.info;
  const r = validate(doc);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /not a valid OpenAPI document/);
});
