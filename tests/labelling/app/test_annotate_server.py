"""The app's HTTP rules: only its own address, only its own files, only well-formed bodies."""

import http.client
import json
import threading

import pytest
from werkzeug.serving import make_server

from slowfast_custom.labelling.app.project import PROJECT_NAME, Project
from slowfast_custom.labelling.app.server import allowed_hosts, create_app

from annotate_helpers import make_dataset

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"


def fake_export(project, options):
    return {"message": "exported", "options": options}


@pytest.fixture
def dataset(tmp_path):
    root = make_dataset(tmp_path / "data")
    (tmp_path / "secret.txt").write_text("not yours")
    return root


@pytest.fixture
def client(dataset):
    app = create_app(Project.load(dataset / PROJECT_NAME), dataset, "127.0.0.1", PORT, fake_export)
    return app.test_client()


def change(client, **body):
    return client.post("/api/change", base_url=BASE, json=body)


def test_the_page_the_project_and_a_keyframe(client):
    assert b"/static/app.js" in client.get("/", base_url=BASE).data
    state = client.get("/api/project", base_url=BASE).get_json()
    assert state["revision"] == 0 and state["file"] == PROJECT_NAME
    assert [v["name"] for v in state["videos"]] == ["alpha", "beta"]
    frame = client.get("/api/frame/alpha/3", base_url=BASE)
    assert frame.status_code == 200 and frame.mimetype == "image/jpeg" and frame.data[:2] == b"\xff\xd8"
    assert client.get("/api/frame/alpha/99", base_url=BASE).status_code == 404


def test_suggestions_are_shown_and_become_labels_only_when_accepted(dataset):
    project = Project.load(dataset / PROJECT_NAME)
    uids = {(b.video, b.person, b.second): b.uid for b in project.boxes.values()}
    suggestions = {uids[("alpha", 1, s)]: (2,) for s in range(1, 9)}
    suggestions[uids[("beta", 1, 3)]] = (1, 3)
    suggestions[999] = (1,)  # a box that no longer exists is not shown
    client = create_app(project, dataset, "127.0.0.1", PORT, fake_export, suggestions).test_client()
    state = client.get("/api/project", base_url=BASE).get_json()
    assert state["suggestions"] == {str(uid): list(a) for uid, a in suggestions.items() if uid != 999}
    assert all(not b["actions"] for b in state["boxes"])
    response = change(client, op="accept", revision=0, video="alpha", person=1, first=4, last=8)
    assert response.get_json()["result"] == {"boxes": 5}
    response = change(client, op="accept_video", revision=1, video="beta")
    assert response.get_json()["result"] == {"boxes": 1}
    saved = {(b.video, b.person, b.second): b.actions for b in Project.load(dataset / PROJECT_NAME).boxes.values()}
    assert [saved[("alpha", 1, s)] for s in range(1, 9)] == [()] * 3 + [(2,)] * 5
    assert saved[("beta", 1, 3)] == (1, 3) and saved[("beta", 1, 2)] == ()


def test_a_change_returns_the_saved_state(client, dataset):
    response = change(client, op="label", revision=0, video="alpha", person=1, first=1, last=8, actions=[2])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["result"] == {"boxes": 8} and response.get_json()["state"]["revision"] == 1
    assert Project.load(dataset / PROJECT_NAME).revision == 1


@pytest.mark.parametrize("path", [
    "/static/../project.py", "/static/..%2fproject.py", "/static/%2e%2e/%2e%2e/%2e%2e/secret.txt",
    "/api/frame/..%2F..%2Fsecret.txt/1", "/api/frame/../1", "/annotate_project.json", "/frames/alpha/alpha_000001.jpg",
    "/../secret.txt",
])
def test_no_path_leads_out_of_the_app(client, path):
    response = client.get(path, base_url=BASE)
    assert response.status_code == 404, path
    assert b"not yours" not in response.data


@pytest.mark.parametrize("host", ["evil.example:8765", "127.0.0.1:9999", "127.0.0.1", "localhost.evil.example:8765"])
def test_requests_for_another_host_are_refused(client, host):
    for response in (client.get("/api/project", headers={"Host": host}),
                     client.post("/api/change", headers={"Host": host}, json={"op": "undo", "revision": 0})):
        assert response.status_code == 403
        assert "is not the address this app serves" in response.get_json()["error"]


def test_both_local_names_are_accepted():
    assert allowed_hosts("127.0.0.1", 8765) == ["127.0.0.1:8765", "localhost:8765"]
    assert allowed_hosts("::1", 80) == ["[::1]:80", "[::1]"]


def test_changes_from_another_origin_are_refused(client):
    response = client.post("/api/change", base_url=BASE, headers={"Origin": "http://evil.example"},
                           json={"op": "undo", "revision": 0})
    assert response.status_code == 403 and "may not change the project" in response.get_json()["error"]


@pytest.mark.parametrize("kwargs, status, message", [
    ({"data": "op=undo", "content_type": "application/x-www-form-urlencoded"}, 415, "Content-Type: application/json"),
    ({"data": '{"op": "undo", "revision": 0', "content_type": "application/json"}, 400, "not valid JSON"),
    ({"json": ["undo"]}, 400, "must be a JSON object, got list"),
    ({"json": {"op": "rename", "revision": 0}}, 400, "field 'op' must be one of label, move"),
    ({"json": {"op": "undo"}}, 400, "missing field(s) revision"),
    ({"json": {"op": "undo", "revision": 0, "force": True}}, 400, "unknown field(s) force"),
    ({"json": {"op": "undo", "revision": True}}, 400, "'revision' must be a non-negative integer, got True"),
    ({"json": {"op": "label", "revision": 0, "video": "alpha", "person": 1, "first": 1, "last": 2}}, 400,
     "missing field(s) actions"),
    ({"json": {"op": "label", "revision": 0, "video": "alpha", "person": "1", "first": 1, "last": 2, "actions": [1]}},
     400, "'person' must be a non-negative integer, got '1'"),
    ({"json": {"op": "label", "revision": 0, "video": "alpha", "person": 1, "first": 1, "last": 2, "actions": "1"}},
     400, "'actions' must be a list of integers"),
    ({"json": {"op": "label", "revision": 0, "video": "alpha", "person": 1, "first": -1, "last": 2, "actions": [1]}},
     400, "'first' must be a non-negative integer, got -1"),
    ({"json": {"op": "label", "revision": 0, "video": "", "person": 1, "first": 1, "last": 2, "actions": [1]}},
     400, "'video' must be a non-empty string"),
    ({"json": {"op": "move", "revision": 0, "uid": 0, "box": [0.5, 0.1, 0.2, 0.9]}}, 400, "empty or inverted"),
    ({"json": {"op": "move", "revision": 0, "uid": 0, "box": [0.1, 0.1, 1.5, 0.9]}}, 400, "fractions of the frame"),
    ({"json": {"op": "add", "revision": 0, "video": "alpha", "second": 2, "box": [0.1, 0.1, 0.2]}}, 400,
     "a box is [x1, y1, x2, y2]"),
    ({"data": '{"op": "move", "revision": 0, "uid": 0, "box": [NaN, 0, 1, 1]}', "content_type": "application/json"},
     400, "finite numbers"),
    ({"data": '{"op": "add", "revision": 0, "video": "alpha", "second": 2, "box": [0.1, 0.1, Infinity, 0.9]}',
      "content_type": "application/json"}, 400, "finite numbers"),
    ({"data": '{"op": "move", "revision": 0, "uid": 0, "box": [0.1, 0.1, 1e999, 0.9]}',
      "content_type": "application/json"}, 400, "finite numbers"),
    # Python's JSON parser recurses once per level: 100,000 levels were a RecursionError, a 500 and a traceback.
    ({"data": '{"op": "undo", "revision": 0, "x": ' + "[" * 100000 + "]" * 100000 + "}",
      "content_type": "application/json"}, 400, "nests JSON more than 32 levels deep"),
    ({"json": {"op": "label", "revision": 0, "video": "gamma", "person": 1, "first": 1, "last": 2, "actions": [1]}},
     400, "unknown video 'gamma'"),
    ({"json": {"op": "label", "revision": 0, "video": "alpha", "person": 1, "first": 1, "last": 2, "actions": [9]}},
     400, "unknown action id(s) [9]"),
    ({"json": {"op": "label", "revision": 3, "video": "alpha", "person": 1, "first": 1, "last": 2, "actions": [1]}},
     409, "at revision 0, this page showed 3"),
    ({"json": {"op": "merge", "revision": 0, "video": "alpha", "keep": 1, "absorb": 2}}, 409, "both have a box"),
    ({"json": {"op": "undo", "revision": 0}}, 409, "nothing to undo"),
    ({"data": json.dumps({"op": "undo", "revision": 0, "pad": "x" * (1 << 20)}), "content_type": "application/json"},
     413, "too large"),
])
def test_bad_bodies_get_a_clear_error(client, dataset, kwargs, status, message):
    before = (dataset / PROJECT_NAME).read_text()
    response = client.post("/api/change", base_url=BASE, **kwargs)
    assert response.status_code == status, response.get_json()
    assert message in response.get_json()["error"]
    assert (dataset / PROJECT_NAME).read_text() == before


@pytest.mark.parametrize("body, message", [
    ({"val_videos": "beta"}, "'val_videos' must be a list of strings"),
    ({"val_ratio": 1.5}, "'val_ratio' must be a number in [0, 1)"),
    ({"val_ratio": 0.5, "val_videos": ["beta"]}, "not both"),
    ({"split": "beta"}, "unknown field(s) split"),
    ({"val_ranges": ["beta"]}, "'val_ranges' 'beta' is not VIDEO:FIRST-LAST"),
])
def test_bad_export_bodies(client, body, message):
    response = client.post("/api/export", base_url=BASE, json=body)
    assert response.status_code == 400 and message in response.get_json()["error"]
    ok = client.post("/api/export", base_url=BASE, json={"val_videos": ["beta"]})
    assert ok.get_json() == {"message": "exported", "options": {"val_videos": ["beta"]}}


def test_raw_dot_segments_on_a_real_socket(dataset):
    """A client that sends ``..`` unnormalised (curl --path-as-is) gets nothing outside the app either."""
    server = make_server("127.0.0.1", 0, None, threaded=True)
    server.app = create_app(Project.load(dataset / PROJECT_NAME), dataset, "127.0.0.1", server.server_port,
                            fake_export)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for path in ("/static/../../../secret.txt", "/api/frame/alpha/../../../secret.txt", "/../../secret.txt"):
            conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
            conn.putrequest("GET", path, skip_host=True)
            conn.putheader("Host", f"127.0.0.1:{server.server_port}")
            conn.endheaders()
            response = conn.getresponse()
            assert response.status == 404 and b"not yours" not in response.read(), path
            conn.close()
    finally:
        server.shutdown()
        server.server_close()
