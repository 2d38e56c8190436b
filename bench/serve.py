"""Serve the app over HTTP (Chalice's local server) for the flash-crowd benchmark; env says where the engines are."""

import os
import sys

from chalice import local
from chalice.config import Config

import app
from chalicelib.config.services import build_services
from local.faults import ConflictingClient

# socketserver's listen backlog is 5: a crowd of 100 would be reset by the kernel before the app
# saw it. API Gateway has no such queue; this keeps the harness from being what is measured.
local.ThreadedHTTPServer.request_queue_size = 1024

services = build_services()
# The share of transactions the fault layer cancels for a conflict, as real DynamoDB would under load.
share = float(os.environ.get("BENCH_CONFLICT_SHARE", "0"))
if share:
    services.table.client = ConflictingClient(services.table.client, share)  # type: ignore[assignment]
app.use_services(services)
config = Config.create(chalice_stage="local", app_name="uketsuke")
server = local.create_local_server(app.app, config, "127.0.0.1", int(sys.argv[1]))
print("ready", flush=True)
server.serve_forever()
