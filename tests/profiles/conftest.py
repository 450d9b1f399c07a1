import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
    torch.manual_seed(0)


@pytest.fixture
def fake_text(monkeypatch):
    """The sentence encoder replaced by a tiny deterministic one (no model load)."""
    from ctrlrec.cf import text

    class Fake:
        def encode(self, texts, **kw):
            out = np.array([[1.0, 0.1, len(t) % 7 / 7] if ("Space" in t or "space" in t) else
                            [0.1, 1.0, len(t) % 5 / 5] for t in texts], dtype=np.float32)
            return out / np.linalg.norm(out, axis=1, keepdims=True)

    monkeypatch.setattr(text, "_load_encoder", lambda encoder, device: Fake())
    return Fake()


@pytest.fixture
def stub_endpoint():
    """An OpenAI-compatible chat-completions stub; answers a fixed-shape profile per prompt, logs requests."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    calls = []
    words = ["student", "engineer", "parent", "space", "love", "war", "story"]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            calls.append(body)
            k = len(body["messages"][-1]["content"])
            w = [words[(k + j) % len(words)] for j in range(6)]
            text = f"User identity: {w[0]}, {w[1]}, {w[2]}; User interests: {w[3]}, {w[4]}, {w[5]}"
            data = json.dumps({"choices": [{"message": {"role": "assistant", "content": text}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *a):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/v1", calls
    server.shutdown()
