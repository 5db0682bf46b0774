// The contract test: every HTTP exchange the integration tests made (logged
// by tests/integration/tagdtest.py when TAGD_CONTRACT_LOG=<dir> is set, one
// JSON line per exchange in <dir>/*.jsonl) must be described by
// openapi/tagd.json:
//  - the path matches a path template (static segments win, as in tagd's
//    router) and the method is an operation of it; otherwise the answer must
//    be the document's x-tagd-unrouted 404 / 405;
//  - the status is declared by the operation (or is one that any request
//    can get: x-tagd-unrouted.any_request);
//  - the headers the response declares required are there;
//  - a response declared without content (204) has no body; otherwise the
//    content type is declared and the body matches its schema, with objects
//    closed (no properties beyond those listed).  HEAD is checked as GET,
//    without a body.
// Records with "webhook": NAME are deliveries tagd made to a test's receiver
// (tests/integration/hooktest.py): the body must match that webhook's request
// body schema and the headers its required header parameters.
// Fails when it finds no exchange at all: a contract test that saw nothing
// proves nothing.
// Usage: node check_contract.mjs <log-dir> [openapi.json]
import fs from "node:fs";
import path from "node:path";
import {
  DOC_PATH, SchemaValidator, compileTemplates, deref, escapePointer, isJsonMedia, loadDoc,
  matchTemplate, mediaBase,
} from "./lib.mjs";

const [logDir, docPath = DOC_PATH] = process.argv.slice(2);
if (!logDir) {
  console.error("usage: node check_contract.mjs <log-dir> [openapi.json]");
  process.exit(2);
}

const doc = loadDoc(docPath);
const templates = compileTemplates(doc);
const schemas = new SchemaValidator(doc);
const unrouted = doc["x-tagd-unrouted"];

// ---- read the records ----
let files = [];
try {
  files = fs.readdirSync(logDir).filter((f) => f.endsWith(".jsonl")).sort();
} catch (e) {
  if (e.code !== "ENOENT") throw e;
}
const records = [];
const failures = new Map(); // key -> {message, count, examples}

function fail(key, message, rec) {
  let f = failures.get(key);
  if (!f) {
    f = { message, count: 0, examples: [] };
    failures.set(key, f);
  }
  f.count++;
  if (f.examples.length < 3 && rec) {
    const body = typeof rec.body === "string" ? rec.body.slice(0, 200) : "";
    f.examples.push(`${rec.test || "?"}: ${rec.method} ${rec.path} -> ${rec.status} ${JSON.stringify(body)}`);
  }
}

for (const f of files) {
  const lines = fs.readFileSync(path.join(logDir, f), "utf8").split("\n");
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      const rec = JSON.parse(line);
      if (rec.webhook !== undefined && typeof rec.body !== "string") {
        throw new Error("a webhook delivery needs its body");
      }
      if (typeof rec.method !== "string" || typeof rec.path !== "string" || !Number.isInteger(rec.status)) {
        throw new Error("needs method, path and status");
      }
      records.push(rec);
    } catch (e) {
      fail(`bad-record ${f}:${i + 1}`, `${f} line ${i + 1}: not a valid exchange record (${e.message})`);
    }
  });
}

// ---- check them ----
const exercised = new Map(); // "METHOD template" -> Set of statuses

// Headers the response declares required must be there, with a value its
// schema accepts (records without headers skip this).
function checkHeaders(rec, r, rp, where) {
  if (!rec.headers || typeof rec.headers !== "object") return;
  const got = Object.fromEntries(Object.entries(rec.headers).map(([k, v]) => [k.toLowerCase(), v]));
  for (const [name, raw] of Object.entries(r.headers || {})) {
    const { value: h, pointer: hp } = deref(doc, raw, `${rp}/headers/${escapePointer(name)}`);
    if (!h || !h.required) continue;
    const value = got[name.toLowerCase()];
    if (value === undefined) {
      fail(`${where} header ${name}`, `${where}: required header ${name} is missing`, rec);
      continue;
    }
    if (h.schema) {
      const problems = schemas.check(`${hp}/schema`, value);
      if (problems.length) fail(`${where} header ${name} value`, `${where}: header ${name}: ${problems.join("; ")}`, rec);
    }
  }
}

function checkBody(rec, response, pointer, where) {
  const { value: r, pointer: rp } = deref(doc, response, pointer);
  checkHeaders(rec, r, rp, where);
  const body = typeof rec.body === "string" ? rec.body : "";
  if (!r.content) {
    if (body.length !== 0) fail(`${where} body`, `${where}: declared without a body, but one was sent`, rec);
    return;
  }
  if (rec.method === "HEAD") return;
  const base = mediaBase(rec.content_type);
  const declared = Object.keys(r.content);
  const mt = declared.find((d) => mediaBase(d) === base);
  if (!mt) {
    fail(`${where} type ${base}`, `${where}: Content-Type ${rec.content_type || "(none)"} is not declared (declared: ${declared.join(", ")})`, rec);
    return;
  }
  let value = body;
  if (isJsonMedia(base)) {
    try {
      value = JSON.parse(body);
    } catch (e) {
      fail(`${where} json`, `${where}: the body is not JSON (${e.message})`, rec);
      return;
    }
  }
  const problems = schemas.check(`${rp}/content/${escapePointer(mt)}/schema`, value);
  if (problems.length) {
    fail(`${where} schema ${problems.join("; ")}`, `${where}: the body does not match the schema: ${problems.join("; ")}`, rec);
  }
}

// A delivery tagd sent: the webhook's header parameters and request body.
let deliveries = 0;
function checkWebhook(rec) {
  const where = `webhook ${rec.webhook}`;
  const base = `/webhooks/${escapePointer(String(rec.webhook))}/post`;
  const op = doc.webhooks?.[rec.webhook]?.post;
  if (!op) {
    fail(`webhook ${rec.webhook}`, `${where}: the document has no such webhook`, rec);
    return;
  }
  deliveries++;
  const got = Object.fromEntries(Object.entries(rec.headers || {}).map(([k, v]) => [k.toLowerCase(), v]));
  (op.parameters || []).forEach((raw, i) => {
    const { value: p, pointer } = deref(doc, raw, `${base}/parameters/${i}`);
    if (!p || p.in !== "header" || !p.required) return;
    const value = got[p.name.toLowerCase()];
    if (value === undefined) {
      fail(`${where} header ${p.name}`, `${where}: required header ${p.name} is missing`, rec);
    } else if (p.schema) {
      const problems = schemas.check(`${pointer}/schema`, value);
      if (problems.length) fail(`${where} header ${p.name} value`, `${where}: header ${p.name}: ${problems.join("; ")}`, rec);
    }
  });
  let value;
  try {
    value = JSON.parse(rec.body);
  } catch (e) {
    fail(`${where} json`, `${where}: the body is not JSON (${e.message})`, rec);
    return;
  }
  const problems = schemas.check(`${base}/requestBody/content/application~1json/schema`, value);
  if (problems.length) {
    fail(`${where} schema ${problems.join("; ")}`, `${where}: the body does not match the schema: ${problems.join("; ")}`, rec);
  }
}

for (const rec of records) {
  if (rec.webhook !== undefined) {
    checkWebhook(rec);
    continue;
  }
  const method = rec.method.toUpperCase();
  const m = method === "HEAD" ? "get" : method.toLowerCase();
  const status = String(rec.status);
  const t = matchTemplate(templates, rec.path);
  const anyRequest = unrouted.any_request[status];

  if (!t) {
    const where = `${method} ${rec.path} (no path template) ${status}`;
    const r = unrouted.unmatched_path[status] || anyRequest;
    if (!r) fail(`unmatched ${method} ${rec.path} ${status}`, `${where}: no path template matches; only ${Object.keys(unrouted.unmatched_path).join(", ")} is declared for that`, rec);
    else checkBody(rec, r, unrouted.unmatched_path[status] ? `/x-tagd-unrouted/unmatched_path/${status}` : `/x-tagd-unrouted/any_request/${status}`, where);
    continue;
  }
  const op = doc.paths[t.template][m];
  if (!op) {
    const where = `${method} ${t.template} (no such operation) ${status}`;
    const r = unrouted.unmatched_method[status] || anyRequest;
    if (!r) fail(`nomethod ${method} ${t.template} ${status}`, `${where}: the document has no ${method} operation here; only ${Object.keys(unrouted.unmatched_method).join(", ")} is declared for that`, rec);
    else checkBody(rec, r, unrouted.unmatched_method[status] ? `/x-tagd-unrouted/unmatched_method/${status}` : `/x-tagd-unrouted/any_request/${status}`, where);
    continue;
  }
  const key = `${m.toUpperCase()} ${t.template}`;
  if (!exercised.has(key)) exercised.set(key, new Set());
  exercised.get(key).add(status);
  const where = `${method} ${t.template} ${status}`;
  if (op.responses[status]) {
    checkBody(rec, op.responses[status], `/paths/${escapePointer(t.template)}/${m}/responses/${status}`, where);
  } else if (anyRequest) {
    checkBody(rec, anyRequest, `/x-tagd-unrouted/any_request/${status}`, where);
  } else {
    fail(`status ${where}`, `${where}: status not declared (declared: ${Object.keys(op.responses).join(", ")})`, rec);
  }
}

// ---- report ----
const allOps = [];
for (const [p, item] of Object.entries(doc.paths)) {
  for (const m of Object.keys(item)) if (item[m] && item[m].responses) allOps.push(`${m.toUpperCase()} ${p}`);
}
const unexercised = allOps.filter((k) => !exercised.has(k));
console.log(`contract: ${records.length} exchanges in ${files.length} log file(s) from ${logDir}`);
console.log(`contract: ${exercised.size} of ${allOps.length} operations exercised`);
console.log(`contract: ${deliveries} webhook deliveries checked`);
for (const [k, s] of [...exercised].sort()) console.log(`  ${k}: ${[...s].sort().join(" ")}`);
if (unexercised.length) console.log(`contract: not exercised:\n  ${unexercised.sort().join("\n  ")}`);

let failed = false;
if (failures.size) {
  const total = [...failures.values()].reduce((n, f) => n + f.count, 0);
  console.error(`contract: FAILED: ${total} exchange(s) or record(s) break the document, ${failures.size} distinct problem(s):`);
  for (const f of failures.values()) {
    console.error(`  - ${f.message}  [x${f.count}]`);
    for (const e of f.examples) console.error(`      e.g. ${e}`);
  }
  failed = true;
}
if (records.length === 0) {
  console.error(`contract: FAILED: no exchange was logged in ${logDir}; did the integration tests run with TAGD_CONTRACT_LOG set?`);
  failed = true;
}
if (failed) process.exit(1);
console.log(`contract: all ${records.length} exchanges match ${path.basename(docPath)}`);
