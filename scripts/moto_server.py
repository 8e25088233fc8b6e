"""Run moto's AWS emulator single-threaded on a free loopback port.

moto's own `moto_server` is threaded and its conditional writes are atomic only by
the GIL; serving one request at a time makes every DynamoDB conditional write and
transaction truly atomic, so the concurrency cases of the conformance suites are
deterministic. Usage: moto_server.py PORT_FILE  (the chosen port is written there
once the server listens).
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


def main() -> None:
    port_file = sys.argv[1]
    app = DomainDispatcherApplication(create_backend_app)
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
