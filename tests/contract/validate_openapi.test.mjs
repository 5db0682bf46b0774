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
import { HERE, ROOT, loadDoc } from "./lib.mjs";

const VALIDATOR = path.join(HERE, "validate_openapi.mjs");
// Found as validate_openapi.mjs finds it: beside the clone, as CI has it.
const REAL = process.env.TAGD_VERS_SPEC || path.resolve(ROOT, "..", "shared", "spec", "vers-orchestrator-openapi.json");
const NO_REAL = fs.existsSync(REAL) ? false : `${REAL} not found`;

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

test("drift from tagd's rules is refused with its reasons", () => {
  const doc = loadDoc();
  const paths = doc.paths;
  delete paths["/api/v1/repositories/{repo_name}"].get.responses["401"];
  paths["/api/v1/repositories"].get.operationId = "list_commits";
  paths["/api/v1/commits/{commit_id}"].delete.responses["204"].content = { "application/json": { schema: {} } };
  delete paths["/api/v1/repositories"].post.responses["415"];
  paths["/livez"].get.responses["200"].content["application/json"].schema = { $ref: "#/components/schemas/Nope" };
  delete paths["/v1/{project_id}/git/auths"].get.responses["403"];
  delete paths["/openapi.json"];
  const r = validate(doc);
  assert.equal(r.code, 1, r.out);
  for (const want of [
    "GET /api/v1/repositories/{repo_name}: authenticated but no 401",
    "operationId list_commits also used by",
    "DELETE /api/v1/commits/{commit_id} 204: a 204 has no body",
    "POST /api/v1/repositories: takes a body but declares no 415",
    "$ref #/components/schemas/Nope does not resolve",
    "GET /v1/{project_id}/git/auths: authenticated but no 403",
    "route GET /openapi.json is not in the document",
  ]) {
    assert.ok(r.out.includes(want), `missing "${want}" in:\n${r.out}`);
  }
});

test("drift from the real Vers document is refused", { skip: NO_REAL }, () => {
  const doc = loadDoc();
  delete doc.paths["/api/v1/commits"].post["x-tagd-extension"];
  delete doc.components.schemas.RepoTagInfo.properties.tag_name;
  doc.paths["/api/v1/repositories"].post.operationId = "make_repository";
  delete doc.paths["/api/v1/commit_tags"].post.responses["409"];
  const r = validate(doc);
  assert.equal(r.code, 1, r.out);
  for (const want of [
    "POST /api/v1/commits: in neither real service; mark it x-tagd-extension",
    "schema RepoTagInfo: real property tag_name is missing",
    "POST /api/v1/repositories: operationId make_repository, the real document says create_repository",
    "POST /api/v1/commit_tags: real status 409 is missing",
  ]) {
    assert.ok(r.out.includes(want), `missing "${want}" in:\n${r.out}`);
  }
});

test("a document that is not OpenAPI 3.1 is refused", () => {
  const doc = loadDoc();
  delete doc.info;
  const r = validate(doc);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /not a valid OpenAPI document/);
});
