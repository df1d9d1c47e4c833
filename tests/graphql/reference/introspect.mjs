// introspect.mjs - checks that a GraphQL server's introspection describes exactly the schema of an SDL file.
//
//   node introspect.mjs URL SDL_PATH
//
// Sends graphql-js's full introspection query to URL, rebuilds the schema from the answer and prints
// it; compares that with the SDL file printed the same way. Exit 0 when equal, 1 with a diff when not.
import fs from "node:fs";
import { buildClientSchema, buildSchema, getIntrospectionQuery, printSchema } from "graphql";

const [url, sdlPath] = process.argv.slice(2);
if (!url || !sdlPath) {
  process.stderr.write("usage: node introspect.mjs URL SDL_PATH\n");
  process.exit(2);
}

// A unified-style diff of two line arrays (longest common subsequence; the schemas are small).
function diffLines(a, b, nameA, nameB) {
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Int32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const lines = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      lines.push(` ${a[i]}`);
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      lines.push(`-${a[i++]}`);
    } else {
      lines.push(`+${b[j++]}`);
    }
  }
  // Keep three lines of context around each change; "..." marks what is left out.
  const near = (k) => lines.slice(Math.max(0, k - 3), k + 4).some((l) => l[0] !== " ");
  const out = [`--- ${nameA}`, `+++ ${nameB}`];
  lines.forEach((l, k) => {
    if (near(k)) out.push(l);
    else if (out[out.length - 1] !== "...") out.push("...");
  });
  return out.join("\n");
}

async function main() {
  const query = getIntrospectionQuery({
    descriptions: true,
    specifiedByUrl: true,
    directiveIsRepeatable: true,
    schemaDescription: false,
    inputValueDeprecation: true,
  });
  let res;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ query }),
    });
  } catch (e) {
    throw new Error(`cannot reach ${url}: ${e.cause?.code ?? e.message}`);
  }
  const text = await res.text();
  let result;
  try {
    result = JSON.parse(text);
  } catch {
    throw new Error(`${url} answered ${res.status} with a body that is not JSON: ${text.slice(0, 300)}`);
  }
  if (result.errors || !result.data) {
    throw new Error(`${url} answered ${res.status} with errors: ${JSON.stringify(result.errors ?? result)}`);
  }
  const expected = printSchema(buildSchema(fs.readFileSync(sdlPath, "utf8")));
  const actual = printSchema(buildClientSchema(result.data));
  if (actual === expected) {
    process.stdout.write("introspection matches the SDL\n");
    return 0;
  }
  process.stdout.write(diffLines(expected.split("\n"), actual.split("\n"), sdlPath, url) + "\n");
  return 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`introspect.mjs: ${e.message}\n`);
    process.exit(1);
  },
);
