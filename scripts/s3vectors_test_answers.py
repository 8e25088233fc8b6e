"""TEST INFRASTRUCTURE ONLY: the S3 Vectors calls moto 5.2.5 lacks, answered in
front of moto from the vectors moto stores.

* QueryVectors: exact k-nearest neighbours by brute force (S3 Vectors itself is
  approximate), cosine or euclidean distance, the metadata filter evaluated with
  the semantics `skiff_core::ports::vectors::MetadataFilter::matches` states
  (S3 Vectors' documented operators; arrays match when one element does; a
  missing key fails every condition but `$ne`, `$nin` and `$exists: false`).
* ListVectors: pages of `maxResults` (default 500) in key order with a
  `nextToken`; moto returns every vector at once.
* CreateIndex of an existing name: 409 ConflictException, as S3 Vectors answers;
  moto would replace the index and lose its vectors.

Everything else passes through to moto unchanged.
"""

import base64
import io
import json
import math
import re

from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3vectors.models import s3vectors_backends

_SERVICE = re.compile(r"Credential=[^/]+/[^/]+/([^/]+)/([^/]+)/")


def _error(start_response, status, code, message):
    body = json.dumps({"__type": code, "message": message}).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", code),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


def _ok(start_response, result):
    body = json.dumps(result).encode()
    start_response(
        "200 OK",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return float(a) == float(b)
    return type(a) is type(b) and a == b


def _any(value, test):
    if isinstance(value, list):
        return any(test(x) for x in value)
    return test(value)


def _condition(metadata, key, cond):
    present = key in metadata
    value = metadata.get(key)
    if not isinstance(cond, dict):
        cond = {"$eq": cond}
    for op, arg in cond.items():
        if op == "$eq":
            ok = present and _any(value, lambda x: _same(x, arg))
        elif op == "$ne":
            ok = not (present and _any(value, lambda x: _same(x, arg)))
        elif op == "$in":
            ok = present and _any(value, lambda x: any(_same(x, a) for a in arg))
        elif op == "$nin":
            ok = not (present and _any(value, lambda x: any(_same(x, a) for a in arg)))
        elif op in ("$gt", "$gte", "$lt", "$lte"):
            compare = {
                "$gt": lambda x: x > arg,
                "$gte": lambda x: x >= arg,
                "$lt": lambda x: x < arg,
                "$lte": lambda x: x <= arg,
            }[op]
            ok = present and _any(value, lambda x: _is_number(x) and compare(x))
        elif op == "$exists":
            ok = present == bool(arg)
        else:
            raise ValueError(f"unsupported filter operator {op}")
        if not ok:
            return False
    return True


def matches(filter_doc, metadata):
    """Whether `metadata` passes S3 Vectors' filter document `filter_doc`."""
    for key, cond in filter_doc.items():
        if key == "$and":
            ok = all(matches(f, metadata) for f in cond)
        elif key == "$or":
            ok = any(matches(f, metadata) for f in cond)
        else:
            ok = _condition(metadata, key, cond)
        if not ok:
            return False
    return True


def _distance(metric, q, v):
    if metric == "euclidean":
        return math.sqrt(sum((a - b) ** 2 for a, b in zip(q, v)))
    dot = sum(a * b for a, b in zip(q, v))
    norms = math.sqrt(sum(a * a for a in q)) * math.sqrt(sum(b * b for b in v))
    return 1.0 - dot / norms


class S3VectorsTestAnswers:
    """WSGI middleware in front of moto's app (see the module's docstring)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        found = _SERVICE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if not found or found.group(2) != "s3vectors" or environ["REQUEST_METHOD"] != "POST":
            return self.app(environ, start_response)
        region = found.group(1)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)
        path = environ.get("PATH_INFO", "")
        handler = {
            "/QueryVectors": self.query_vectors,
            "/ListVectors": self.list_vectors,
            "/CreateIndex": self.create_index,
        }.get(path)
        if handler is None:
            return self.app(environ, start_response)
        backend = s3vectors_backends[DEFAULT_ACCOUNT_ID]["aws"]
        try:
            return handler(backend, json.loads(raw or b"{}"), environ, start_response)
        except LookupError as e:
            return _error(start_response, "404 Not Found", "NotFoundException", str(e))
        except ValueError as e:
            return _error(start_response, "400 Bad Request", "ValidationException", str(e))

    @staticmethod
    def _index(backend, body):
        try:
            return backend.get_index(
                body.get("vectorBucketName"), body.get("indexName"), body.get("indexArn")
            )
        except Exception as e:  # moto's IndexNotFound
            raise LookupError("The specified index could not be found") from e

    def query_vectors(self, backend, body, environ, start_response):
        index = self._index(backend, body)
        q = body["queryVector"]["float32"]
        if len(q) != index.dimension:
            raise ValueError(
                f"query vector has {len(q)} dimensions, the index {index.dimension}"
            )
        top_k = int(body["topK"])
        if not 1 <= top_k <= 100:
            raise ValueError("topK must be between 1 and 100")
        filter_doc = body.get("filter")
        scored = []
        for vector in index.vectors.values():
            metadata = vector.metadata or {}
            if filter_doc is not None and not matches(filter_doc, metadata):
                continue
            scored.append(
                (_distance(index.distance_metric, q, vector.data["float32"]), vector.key, vector)
            )
        scored.sort(key=lambda t: (t[0], t[1]))
        out = []
        for distance, key, vector in scored[:top_k]:
            item = {"key": key}
            if body.get("returnDistance"):
                item["distance"] = distance
            if body.get("returnMetadata"):
                item["metadata"] = vector.metadata or {}
            out.append(item)
        return _ok(start_response, {"vectors": out, "distanceMetric": index.distance_metric})

    def list_vectors(self, backend, body, environ, start_response):
        index = self._index(backend, body)
        limit = int(body.get("maxResults") or 500)
        if not 1 <= limit <= 1000:
            raise ValueError("maxResults must be between 1 and 1000")
        keys = sorted(index.vectors)
        token = body.get("nextToken")
        if token:
            after = base64.urlsafe_b64decode(token.encode()).decode()
            keys = [k for k in keys if k > after]
        page = keys[:limit]
        out = []
        for key in page:
            vector = index.vectors[key]
            item = {"key": key}
            if body.get("returnData"):
                item["data"] = vector.data
            if body.get("returnMetadata"):
                item["metadata"] = vector.metadata or {}
            out.append(item)
        result = {"vectors": out}
        if len(keys) > limit:
            result["nextToken"] = base64.urlsafe_b64encode(page[-1].encode()).decode()
        return _ok(start_response, result)

    def create_index(self, backend, body, environ, start_response):
        try:
            self._index(backend, body)
        except LookupError:
            return self.app(environ, start_response)
        return _error(
            start_response,
            "409 Conflict",
            "ConflictException",
            "An index with the specified name already exists",
        )
