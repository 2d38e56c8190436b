"""Serve the app over HTTP (Chalice's local server) for the flash-crowd benchmark; env says where the engines are."""

import sys

from chalice import local
from chalice.config import Config

import app
from chalicelib.config.services import build_services

# socketserver's listen backlog is 5: a crowd of 100 would be reset by the kernel before the app
# saw it. API Gateway has no such queue; this keeps the harness from being what is measured.
local.ThreadedHTTPServer.request_queue_size = 1024

app.use_services(build_services())
config = Config.create(chalice_stage="local", app_name="uketsuke")
server = local.create_local_server(app.app, config, "127.0.0.1", int(sys.argv[1]))
print("ready", flush=True)
server.serve_forever()
