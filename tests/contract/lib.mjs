// Shared by validate_openapi.mjs and check_contract.mjs: loading tagd's
// OpenAPI document, resolving its references, matching request paths to its
// path templates the way tagd's router does, and validating response bodies
// with Ajv (JSON Schema 2020-12, the dialect of OpenAPI 3.1).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, "../..");
export const DOC_PATH = path.join(ROOT, "openapi", "tagd.json");
export const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

export function loadDoc(file = DOC_PATH) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

export function escapePointer(s) {
  return String(s).replaceAll("~", "~0").replaceAll("/", "~1");
}

// The value at a local reference "#/a/b"; undefined when it does not resolve.
export function resolvePointer(doc, ref) {
  if (!ref.startsWith("#")) return undefined;
  let cur = doc;
  for (const raw of ref.slice(1).split("/").slice(1)) {
    const key = decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~");
    if (cur === null || typeof cur !== "object" || !(key in cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

// Follow $ref chains; returns {value, pointer} where pointer locates value in doc.
export function deref(doc, value, pointer) {
  const seen = new Set();
  while (value && typeof value === "object" && typeof value.$ref === "string") {
    if (seen.has(value.$ref)) throw new Error(`reference cycle at ${value.$ref}`);
    seen.add(value.$ref);
    pointer = value.$ref.slice(1);
    value = resolvePointer(doc, value.$ref);
  }
  return { value, pointer };
}

// ---- path templates, as include/router.h describes them ----

function segmentsOf(p) {
  return p.split("/").slice(1);
}

export function compileTemplates(doc) {
  return Object.keys(doc.paths).map((template) => ({
    template,
    segs: segmentsOf(template).map((s) => (/^\{[^}]+\}$/.test(s) ? null : s)),
  }));
}

// The template matching rawPath (still percent-encoded, no query), or null.
// A parameter matches one non-empty segment; where two templates differ
// first, the static segment wins, as in tagd's router.
export function matchTemplate(templates, rawPath) {
  const segs = segmentsOf(rawPath);
  const hits = templates.filter(
    (t) =>
      t.segs.length === segs.length &&
      t.segs.every((s, i) => (s === null ? segs[i] !== "" : s === segs[i])),
  );
  hits.sort((a, b) => {
    for (let i = 0; i < a.segs.length; i++) {
      const as = a.segs[i] !== null;
      const bs = b.segs[i] !== null;
      if (as !== bs) return as ? -1 : 1;
    }
    return 0;
  });
  return hits[0] || null;
}

// ---- schemas ----

// Response objects carry exactly the properties their schema lists (tagd's
// convention, stated in the document's info): close every object schema
// that lists properties and says nothing about others.
function closeObjects(schema) {
  if (!schema || typeof schema !== "object") return;
  if (Array.isArray(schema)) {
    schema.forEach(closeObjects);
    return;
  }
  if (schema.properties && schema.additionalProperties === undefined && !schema.allOf) {
    schema.additionalProperties = false;
  }
  for (const k of ["properties", "$defs", "patternProperties"]) {
    if (schema[k]) Object.values(schema[k]).forEach(closeObjects);
  }
  for (const k of ["items", "additionalProperties", "not", "contains"]) {
    if (schema[k] && typeof schema[k] === "object") closeObjects(schema[k]);
  }
  for (const k of ["oneOf", "anyOf", "prefixItems"]) {
    if (Array.isArray(schema[k])) schema[k].forEach(closeObjects);
  }
}

// Every schema position of the document: components' schemas and the
// schemas of media types in responses (including x-tagd-unrouted).
function forEachMediaSchema(node, fn) {
  if (!node || typeof node !== "object") return;
  if (Array.isArray(node)) {
    node.forEach((n) => forEachMediaSchema(n, fn));
    return;
  }
  if (node.content && typeof node.content === "object") {
    for (const mt of Object.values(node.content)) if (mt && mt.schema) fn(mt.schema);
  }
  for (const [k, v] of Object.entries(node)) {
    if (k !== "schema" && k !== "schemas") forEachMediaSchema(v, fn);
  }
}

export class SchemaValidator {
  constructor(doc, { closed = true } = {}) {
    this.doc = doc;
    const copy = structuredClone(doc);
    if (closed) {
      Object.values(copy.components?.schemas || {}).forEach(closeObjects);
      forEachMediaSchema(copy.paths, closeObjects);
      forEachMediaSchema(copy["x-tagd-unrouted"], closeObjects);
      forEachMediaSchema(copy.components?.responses, closeObjects);
    }
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats(this.ajv);
    this.ajv.addSchema(copy, "tagd.json");
    this.cache = new Map();
  }

  // A validate function for the schema at JSON pointer (e.g. "/components/schemas/X").
  at(pointer) {
    let fn = this.cache.get(pointer);
    if (!fn) {
      fn = this.ajv.compile({ $ref: `tagd.json#${pointer.split("/").map(encodeURIComponent).join("/")}` });
      this.cache.set(pointer, fn);
    }
    return fn;
  }

  // Validate value against the schema at pointer; returns a list of messages.
  check(pointer, value) {
    const fn = this.at(pointer);
    if (fn(value)) return [];
    return fn.errors.map((e) => {
      const extra = e.params && e.params.additionalProperty ? ` (${e.params.additionalProperty})` : "";
      const allowed = e.params && e.params.allowedValues ? ` ${JSON.stringify(e.params.allowedValues)}` : "";
      return `${e.instancePath || "/"} ${e.message}${extra}${allowed}`;
    });
  }
}

// The media type's base ("application/json" of "Application/JSON; charset=utf-8").
export function mediaBase(type) {
  return String(type || "").split(";")[0].trim().toLowerCase();
}

export function isJsonMedia(base) {
  return base === "application/json" || /^application\/[^/]+\+json$/.test(base);
}
