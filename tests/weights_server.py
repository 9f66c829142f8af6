"""A local stand-in for a weights host (model zoos, torchvision): files served from memory on 127.0.0.1, requests
counted, Host checked; an empty torch cache; and a port where nothing listens, as when offline."""

import http.server
import socket
import threading

import pytest


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: connecting to it fails at once, as offline."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WeightsServer:
    """Serves files from memory on 127.0.0.1 (answering only requests addressed to it) and counts requests."""

    def __init__(self, files):
        self.files, self.requests = files, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                body = server.files.get(self.path)
                if self.headers.get("Host") != server.host or body is None:
                    self.send_error(403 if body is not None else 404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, name):
        return f"http://{self.host}/{name}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty torch cache, and no proxy between urllib and 127.0.0.1."""
    home = tmp_path / "torch_home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    return home
