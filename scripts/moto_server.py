"""Run moto's AWS emulator single-threaded on a free loopback port.

moto's own `moto_server` is threaded and its conditional writes are atomic only by
the GIL; serving one request at a time makes every DynamoDB conditional write and
transaction truly atomic, so the concurrency cases of the conformance suites are
deterministic. Usage: moto_server.py PORT_FILE  (the chosen port is written there
once the server listens).

TEST INFRASTRUCTURE: moto 5.2.5 emulates S3 Vectors' buckets, indexes and
Put/Get/List/Delete, but not QueryVectors, and it neither pages ListVectors nor
refuses a second CreateIndex of one name (it silently replaces the index and its
vectors). `S3VectorsTestAnswers` (scripts/s3vectors_test_answers.py) answers those
three calls from moto's own stored vectors, the way S3 Vectors documents them, so
the vector index's conformance suite can run the S3 Vectors adapter. Nothing of it
is part of Skiff.
"""

import os
import signal
import sys

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from s3vectors_test_answers import S3VectorsTestAnswers


def main() -> None:
    port_file = sys.argv[1]
    app = S3VectorsTestAnswers(DomainDispatcherApplication(create_backend_app))
    server = make_server(
        "127.0.0.1", 0, app, threaded=False, request_handler=MotoRequestHandler
    )
    os.environ["MOTO_PORT"] = str(server.server_port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_port))
    os.replace(tmp, port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
