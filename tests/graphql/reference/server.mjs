// server.mjs - the reference GraphQL server (graphql-js) the C gateway is compared against.
//
//   node server.mjs --port P --rest-api-url URL [--schema PATH]
//
// POST /graphql takes {query, variables, operationName} and answers graphql-js's result as JSON,
// always with status 200. Every field resolves through the REST core, as the gateway's must.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildSchema, graphql, GraphQLError } from "graphql";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const MAX_ID = 2n ** 63n - 1n;
const REST_TIMEOUT_MS = 10000;

function parseArgs(argv) {
  const opts = { port: 4000, restApiUrl: null, schema: path.join(REPO_ROOT, "schema/articles.graphql") };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = inline ?? argv[++i];
    if (value === undefined) fail(`${flag} needs a value`);
    if (flag === "--port") opts.port = Number(value);
    else if (flag === "--rest-api-url") opts.restApiUrl = value.replace(/\/+$/, "");
    else if (flag === "--schema") opts.schema = path.resolve(value);
    else fail(`unknown flag ${flag}`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) fail("--port must be 0 to 65535");
  if (!opts.restApiUrl) fail("--rest-api-url is required");
  return opts;
}

function fail(message) {
  process.stderr.write(`server.mjs: ${message}\n`);
  process.exit(2);
}

function badInput(message) {
  return new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT" } });
}

function unavailable(message) {
  return new GraphQLError(message, { extensions: { code: "UPSTREAM_UNAVAILABLE" } });
}

// The REST path segment of a GraphQL ID: decimal digits only, 1 to 2^63-1, in canonical form.
function restId(id) {
  if (!/^[0-9]+$/.test(id) || BigInt(id) < 1n || BigInt(id) > MAX_ID) {
    throw badInput(`Invalid id "${id}": an article id is a decimal integer from 1 to ${MAX_ID}.`);
  }
  return BigInt(id).toString();
}

// One REST call: {status, body} for 2xx and 404; a GraphQLError for everything else.
async function rest(baseUrl, method, pathAndQuery, body, contentType = "application/json") {
  const init = { method, headers: { Accept: "application/json" }, signal: AbortSignal.timeout(REST_TIMEOUT_MS) };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = contentType;
  }
  let res;
  let text;
  try {
    res = await fetch(baseUrl + pathAndQuery, init);
    text = await res.text();
  } catch (e) {
    throw unavailable(`The REST core is unreachable: ${e.cause?.code ?? e.name}.`);
  }
  const json = text ? safeJson(text) : null;
  if ((res.status >= 200 && res.status < 300) || res.status === 404) return { status: res.status, body: json };
  if (res.status === 400 || res.status === 422) {
    throw badInput(json?.detail ?? `The REST core refused the request (${res.status}).`);
  }
  throw unavailable(`The REST core answered ${res.status}.`);
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// A REST article as the GraphQL Article type.
function toArticle(a) {
  return {
    id: String(a.id),
    title: a.title,
    content: a.content,
    author: a.author,
    createdAt: a.created_at,
    updatedAt: a.updated_at,
  };
}

function rootValue(baseUrl) {
  return {
    async getArticles({ limit, offset, author, search }) {
      const params = [];
      for (const [name, value] of [["limit", limit], ["offset", offset], ["author", author], ["q", search]]) {
        if (value !== undefined && value !== null) params.push(`${name}=${encodeURIComponent(String(value))}`);
      }
      const r = await rest(baseUrl, "GET", "/articles" + (params.length ? "?" + params.join("&") : ""));
      if (r.status === 404) throw unavailable("The REST core has no /articles route.");
      return r.body.map(toArticle);
    },
    async getArticle({ id }) {
      const r = await rest(baseUrl, "GET", `/articles/${restId(id)}`);
      return r.status === 404 ? null : toArticle(r.body);
    },
    async createArticle({ input }) {
      const r = await rest(baseUrl, "POST", "/articles", { ...input });
      if (r.status === 404) throw unavailable("The REST core has no /articles route.");
      return toArticle(r.body);
    },
    async updateArticle({ id, input }) {
      const r = await rest(baseUrl, "PATCH", `/articles/${restId(id)}`, { ...input }, "application/merge-patch+json");
      return r.status === 404 ? null : toArticle(r.body);
    },
    async deleteArticle({ id }) {
      const r = await rest(baseUrl, "DELETE", `/articles/${restId(id)}`);
      return r.status !== 404;
    },
  };
}

// The GraphQL request in a POST body, or a message saying why there is none.
function parseRequest(raw) {
  const body = safeJson(raw);
  if (body === null || typeof body !== "object" || Array.isArray(body)) return "The body must be a JSON object.";
  if (typeof body.query !== "string") return "The body must have a string \"query\".";
  return body;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const schema = buildSchema(fs.readFileSync(opts.schema, "utf8"));
  const root = rootValue(opts.restApiUrl);

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const send = (result) => {
        res.writeHead(200, { "Content-Type": "application/json; charset=utf-8" });
        res.end(JSON.stringify(result));
      };
      if (req.method !== "POST" || req.url.split("?")[0] !== "/graphql") {
        return send({ errors: [{ message: "Only POST /graphql is served here." }] });
      }
      const request = parseRequest(Buffer.concat(chunks).toString("utf8"));
      if (typeof request === "string") return send({ errors: [{ message: request }] });
      send(
        await graphql({
          schema,
          source: request.query,
          rootValue: root,
          variableValues: request.variables ?? undefined,
          operationName: request.operationName ?? undefined,
        }),
      );
    });
  });
  server.listen(opts.port, "127.0.0.1", () => {
    process.stdout.write(`reference GraphQL server on http://127.0.0.1:${server.address().port}/graphql\n`);
  });
  for (const sig of ["SIGTERM", "SIGINT"]) {
    process.on(sig, () => {
      server.close(() => process.exit(0));
      server.closeAllConnections();
    });
  }
}

main();
