"""helpers.py - HTTP client, problem+json checks and small utilities shared
by the black-box tests of articles-rest. Only the standard library speaks
HTTP here (http.client, and raw sockets where a request must be malformed or
a large body may be cut short), so what is tested is the server's bytes."""
import datetime
import http.client
import json
import re
import socket
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
OPENAPI_YAML = REPO_ROOT / "schema" / "openapi.yaml"

MIB = 1024 * 1024
MAX_ID = 2**63 - 1
MAX_JSON_ID = 2**53 - 1
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ARTICLE_KEYS = {"id", "title", "content", "author", "created_at", "updated_at"}

# The reason phrase of each status the contract uses. RFC 9110 renamed 413
# and 422; the older names are accepted as well.
REASONS = {
    400: {"Bad Request"},
    404: {"Not Found"},
    405: {"Method Not Allowed"},
    413: {"Content Too Large", "Payload Too Large", "Request Entity Too Large"},
    415: {"Unsupported Media Type"},
    422: {"Unprocessable Content", "Unprocessable Entity"},
    500: {"Internal Server Error"},
    503: {"Service Unavailable"},
}

_UNSET = object()


def media_type(value):
    """'application/json; charset=utf-8' -> 'application/json'."""
    if value is None:
        return None
    return value.split(";", 1)[0].strip().lower()


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # http.client.HTTPMessage: case-insensitive get()
        self.body = body

    def header(self, name):
        return self.headers.get(name)

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise AssertionError(f"response body is not JSON ({e}): {self.body[:300]!r}") from None

    def __repr__(self):
        return f"<{self.status} {self.reason} {dict(self.headers)} {self.body[:300]!r}>"


class Client:
    """One new connection per request: simple, and a server that closes a
    connection after an error cannot disturb the next request."""

    def __init__(self, host, port, timeout=15):
        self.host = host
        self.port = port
        self.timeout = timeout

    def request(self, method, path, body=None, *, json_body=_UNSET, headers=None,
                content_type=_UNSET, chunked=False):
        hdrs = dict(headers or {})
        if json_body is not _UNSET:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        if isinstance(body, str):
            body = body.encode("utf-8")
        if content_type is _UNSET:
            content_type = "application/json" if body is not None else None
        if content_type is not None:
            hdrs["Content-Type"] = content_type
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            try:
                if chunked:
                    hdrs["Transfer-Encoding"] = "chunked"
                    chunks = [body[i:i + 65536] for i in range(0, len(body), 65536)]
                    conn.request(method, path, body=iter(chunks), headers=hdrs, encode_chunked=True)
                else:
                    conn.request(method, path, body=body, headers=hdrs)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered early (413) and closed: read its answer
            try:
                r = conn.getresponse()
                data = r.read()
            except (ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError) as e:
                raise AssertionError(
                    f"{method} {path}: the connection was closed without a complete answer ({e!r})"
                ) from None
            return Response(r.status, r.reason, r.headers, data)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def post(self, path, obj=_UNSET, **kw):
        if isinstance(obj, (bytes, str)):
            kw["body"] = obj  # raw bytes as given
        elif obj is not _UNSET:
            kw["json_body"] = obj
        return self.request("POST", path, **kw)

    def put(self, path, obj=_UNSET, **kw):
        if isinstance(obj, (bytes, str)):
            kw["body"] = obj  # raw bytes as given
        elif obj is not _UNSET:
            kw["json_body"] = obj
        return self.request("PUT", path, **kw)

    def patch(self, path, obj=_UNSET, **kw):
        if isinstance(obj, (bytes, str)):
            kw["body"] = obj  # raw bytes as given
        elif obj is not _UNSET:
            kw["json_body"] = obj
        return self.request("PATCH", path, **kw)

    # -- raw sockets ---------------------------------------------------
    def raw(self, method, path, headers, body=b"", read_timeout=15):
        """Sends a request byte by byte as given (headers a list of pairs,
        nothing added) and reads the answer even when the server answered
        before reading the whole body (as it may for 413)."""
        sock = socket.create_connection((self.host, self.port), timeout=read_timeout)
        try:
            head = f"{method} {path} HTTP/1.1\r\n".encode()
            for k, v in headers:
                head += f"{k}: {v}\r\n".encode()
            head += b"\r\n"
            sock.sendall(head)
            try:
                for i in range(0, len(body), 65536):
                    sock.sendall(body[i:i + 65536])
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered early and closed: read its answer
            r = http.client.HTTPResponse(sock, method=method)
            try:
                r.begin()
                data = r.read()
            except (ConnectionResetError, http.client.RemoteDisconnected) as e:
                raise AssertionError(
                    f"{method} {path}: the connection was closed without a complete answer ({e!r})"
                ) from None
            return Response(r.status, r.reason, r.headers, data)
        finally:
            sock.close()

    # -- helpers on articles ---------------------------------------------
    def create(self, title="t", content=_UNSET, author=_UNSET, **extra):
        obj = {"title": title}
        if content is not _UNSET:
            obj["content"] = content
        if author is not _UNSET:
            obj["author"] = author
        obj.update(extra)
        r = self.post("/articles", obj)
        assert r.status == 201, f"POST /articles {obj!r} -> {r!r}"
        return r.json()

    def snapshot(self, page_size=None):
        """Every stored article, ordered by id (pages of 1000, or of
        self.page_size for a server started with a smaller --max-limit)."""
        size = page_size or getattr(self, "page_size", 1000)
        out = []
        offset = 0
        while True:
            r = self.get(f"/articles?limit={size}&offset={offset}")
            assert r.status == 200, f"snapshot GET /articles -> {r!r}"
            page = r.json()
            out.extend(page)
            if len(page) < size:
                return out
            offset += size


def assert_problem(resp, status, *, field=_UNSET, parameter=_UNSET, index=_UNSET,
                   fields=None):
    """Checks an RFC 9457 problem answer of the contract and returns its body.
    field/parameter/index: the expected value of that member. fields: a set
    of accepted values for "field" where the contract leaves the spelling
    open."""
    assert resp.status == status, f"expected {status}, got {resp!r}"
    ct = resp.header("Content-Type")
    assert media_type(ct) == "application/problem+json", f"Content-Type {ct!r} in {resp!r}"
    body = resp.json()
    assert isinstance(body, dict), f"problem is not an object: {body!r}"
    assert body.get("type") == "about:blank", body
    assert body.get("status") == status, body
    assert body.get("title") in REASONS[status], f"title {body.get('title')!r} is not the reason phrase of {status}"
    assert body.get("title") == resp.reason, (
        f"problem title {body.get('title')!r} differs from the status line's reason {resp.reason!r}")
    detail = body.get("detail")
    assert isinstance(detail, str) and len(detail.strip()) >= 10, f"detail must be a sentence: {body!r}"
    if field is not _UNSET:
        assert body.get("field") == field, f"expected field {field!r}: {body!r}"
    if fields is not None:
        assert body.get("field") in fields, f"expected field in {sorted(fields)!r}: {body!r}"
    if parameter is not _UNSET:
        assert body.get("parameter") == parameter, f"expected parameter {parameter!r}: {body!r}"
    if index is not _UNSET:
        assert body.get("index") == index, f"expected index {index!r}: {body!r}"
    return body


def assert_article(obj, **expected):
    assert isinstance(obj, dict) and set(obj) == ARTICLE_KEYS, f"not an article: {obj!r}"
    assert type(obj["id"]) is int and 1 <= obj["id"] <= MAX_ID, obj
    assert isinstance(obj["title"], str) and obj["title"], obj
    assert isinstance(obj["content"], str), obj
    assert obj["author"] is None or isinstance(obj["author"], str), obj
    for k in ("created_at", "updated_at"):
        assert isinstance(obj[k], str) and TIMESTAMP_RE.match(obj[k]), f"{k}: {obj[k]!r}"
    assert obj["updated_at"] >= obj["created_at"], obj
    for k, v in expected.items():
        assert obj[k] == v, f"{k}: expected {v!r}, got {obj[k]!r}"
    return obj


def parse_ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)


def assert_json_response(resp, status):
    assert resp.status == status, f"expected {status}, got {resp!r}"
    assert media_type(resp.header("Content-Type")) == "application/json", resp
    return resp.json()


def q(**params):
    """Query string with %-encoding (never '+' for spaces)."""
    return "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


def tick():
    """Sleeps long enough for the millisecond timestamps to move on."""
    time.sleep(0.005)


def allow_set(resp):
    value = resp.header("Allow")
    assert value is not None, f"405 without an Allow header: {resp!r}"
    return {m.strip().upper() for m in value.split(",") if m.strip()}


def parse_metrics(text):
    """Parses the Prometheus text format: returns (types, helps, samples)
    with samples a list of (name, labels dict, float value)."""
    types, helps, samples = {}, {}, []
    label_re = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(None, 3)
            types[name] = typ.strip()
            continue
        if line.startswith("# HELP "):
            parts = line.split(None, 3)
            helps[parts[2]] = parts[3] if len(parts) > 3 else ""
            continue
        if line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$", line)
        assert m, f"unparsable metrics line: {line!r}"
        labels = {}
        if m.group(3):
            rest = m.group(3)
            pos = 0
            while pos < len(rest):
                lm = label_re.match(rest, pos)
                assert lm, f"bad labels in {line!r}"
                labels[lm.group(1)] = lm.group(2).replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
                pos = lm.end()
        samples.append((m.group(1), labels, float(m.group(4))))
    return types, helps, samples


def sample_value(samples, name, **labels):
    vals = [v for n, l, v in samples if n == name and all(l.get(k) == x for k, x in labels.items())]
    return sum(vals) if vals else None


def prometheus_query(port, expr):
    """The result of an instant query to the Prometheus on port; a refusal fails the test."""
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as r:
        body = json.load(r)
    assert body["status"] == "success", body
    return body["data"]["result"]
