// Driver for tests/e2e/openapi_validate.sh: validates one OpenAPI 3.1 document
// (YAML or JSON) in two passes and prints one line per finding.
//
//   1. @seriousme/openapi-schema-validator: the official OpenAPI 3.1 JSON Schema
//      (spec.openapis.org/oas/3.1/schema), then a check that every "$ref" in the
//      document resolves.
//   2. @hyperjump/json-schema: the official "schema-base" schema
//      (spec.openapis.org/oas/3.1/schema-base), which also validates every
//      Schema Object against the OAS 3.1 base dialect (JSON Schema 2020-12 plus
//      discriminator/xml/externalDocs/example). Pass 1 treats Schema Objects as
//      opaque, so e.g. `type: float` in a component schema is only caught here.
//
// Usage: node openapi_validate.mjs MODULES_DIR FILE
//   MODULES_DIR  the npm --prefix directory both packages were installed into
// Exit status: 0 valid, 1 invalid (or not YAML/JSON), 2 usage or internal error.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { argv, exit } from "node:process";

// Anything unexpected (a package that fails to load, a crash) is exit 2, so the
// caller can tell it from an invalid document (exit 1).
process.on("uncaughtException", (err) => {
  console.error(`openapi_validate.mjs: internal error: ${err?.stack ?? err}`);
  exit(2);
});

const [modulesDir, file] = argv.slice(2);
if (!modulesDir || !file) {
  console.error("usage: node openapi_validate.mjs MODULES_DIR FILE");
  exit(2);
}

// The packages live in MODULES_DIR/node_modules, not next to this script.
const require = createRequire(`${modulesDir}/`);
const load = (name) => import(pathToFileURL(require.resolve(name)).href);
const versionOf = (name) =>
  JSON.parse(readFileSync(`${modulesDir}/node_modules/${name}/package.json`, "utf8")).version;

const { Validator } = await load("@seriousme/openapi-schema-validator");
const hyperjump = await load("@hyperjump/json-schema/openapi-3-1");

const findings = [];
const seen = new Set(); // JSON pointers that pass 1 reported

const escapePointer = (key) => key.replace(/~/g, "~0").replace(/\//g, "~1");

// JSON pointers of every {"$ref": ref} in node.
function refsTo(node, ref, path = "") {
  if (node === null || typeof node !== "object") return [];
  const found = node.$ref === ref ? [path || "/"] : [];
  for (const [key, value] of Object.entries(node)) {
    found.push(...refsTo(value, ref, `${path}/${escapePointer(key)}`));
  }
  return found;
}

// Pass 1: OAS 3.1 schema + $ref resolution.
const validator = new Validator({ allErrors: true });
const result = await validator.validate(file);
const doc = validator.specification;
if (doc === undefined || doc === null || typeof doc !== "object") {
  // The validator hides the parser's message; ask its YAML parser again.
  let detail = typeof result.errors === "string" ? result.errors : "not a YAML/JSON object";
  try {
    const { parse } = await load("yaml");
    parse(readFileSync(file, "utf8"));
  } catch (err) {
    detail = `${detail}: ${String(err.message).split("\n")[0].replace(/:$/, "")}`;
  }
  console.log(`${file}: ${detail}`);
  exit(1);
}
if (typeof doc.openapi !== "string" || !/^3\.1\.\d+$/.test(doc.openapi)) {
  console.log(`${file}: /openapi: expected an OpenAPI 3.1.x document, found ${JSON.stringify(doc.openapi)}`);
  exit(1);
}
if (!result.valid) {
  if (typeof result.errors === "string") {
    // An unresolvable "$ref" and the like. The message names the reference
    // but not where it is used, so add the places it is used.
    const ref = /^Can't resolve (.*?)(, only internal refs are supported\.)?$/.exec(result.errors)?.[1];
    const where = ref === undefined ? [] : refsTo(doc, ref);
    findings.push(`[oas-3.1] ${where.length ? where.join(", ") : "/"}: ${result.errors}`);
  } else {
    for (const e of result.errors ?? []) {
      // "if/then/else" wrappers only repeat the finding beneath them.
      if (e.keyword === "if") continue;
      const params = e.params?.allowedValues ? ` ${JSON.stringify(e.params.allowedValues)}` : "";
      // Name the offending member itself, as pass 2 does.
      const extra = e.params?.unevaluatedProperty ?? e.params?.additionalProperty;
      const where = (extra === undefined ? e.instancePath : `${e.instancePath}/${escapePointer(extra)}`) || "/";
      seen.add(where);
      findings.push(`[oas-3.1] ${where}: ${e.message}${params} (${e.schemaPath})`);
    }
  }
}

// Pass 2: OAS 3.1 schema-base, i.e. Schema Objects against the base dialect.
const output = await hyperjump.validate("https://spec.openapis.org/oas/3.1/schema-base", doc, "BASIC");
if (!output.valid) {
  // One line per place: the keywords that failed there, and the innermost one.
  const byPlace = new Map();
  for (const e of output.errors ?? []) {
    const where = decodeURIComponent(e.instanceLocation.replace(/^#/, "")) || "/";
    if (seen.has(where)) continue; // already reported by pass 1
    if (!byPlace.has(where)) byPlace.set(where, []);
    byPlace.get(where).push(e.absoluteKeywordLocation);
  }
  for (const [where, locations] of byPlace) {
    const keywords = [...new Set(locations.map((l) => l.split("/").pop()))];
    findings.push(`[oas-3.1-schema-base] ${where}: fails ${keywords.join(", ")} (${locations.at(-1)})`);
  }
}

const tools = `@seriousme/openapi-schema-validator ${versionOf("@seriousme/openapi-schema-validator")}` +
  `, @hyperjump/json-schema ${versionOf("@hyperjump/json-schema")}`;
if (findings.length > 0) {
  for (const f of findings) console.log(`${file}: ${f}`);
  console.log(`${file}: INVALID, ${findings.length} finding(s) (${tools})`);
  exit(1);
}
console.log(`${file}: valid OpenAPI ${doc.openapi} (${tools})`);
