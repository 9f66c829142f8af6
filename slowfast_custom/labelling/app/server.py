"""The labelling app's HTTP side: a Flask app over one ``Project``, with the safety rules of a local tool.

- It answers only requests whose ``Host`` header names the address it serves
  (a DNS-rebinding page gets 403), and changes only from JSON requests whose
  ``Origin``, when sent, is that address too (a cross-site form cannot post).
- Files come from two places only: the app's own ``static/`` folder and the
  keyframe images, which are looked up by (video, second) in the frame
  listing of ``<dataset>/frames``; no request names a path.
- Every request body is checked field by field; a bad one gets 400 with a
  message that names the field.

Routes: ``GET /`` (the page), ``GET /api/project`` (the project as JSON),
``GET /api/frame/<video>/<second>`` (a keyframe JPEG), ``POST /api/change``
(one change, see ``CHANGES``), ``POST /api/export`` (write the AVA files).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from flask import Flask, Response, jsonify, request, send_file
from werkzeug.exceptions import HTTPException

from slowfast_custom.ava.naming import frame_list_from_dir, parse_video_range
from slowfast_custom.ava.timing import second_to_frame
from slowfast_custom.errors import UserError
from slowfast_custom.labelling.app.project import ChangeError, Project, check_box, check_count

STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_BODY = 1 << 20  # bytes; the largest legitimate body is a few hundred
# Bodies are objects of numbers, strings and flat lists (depth 2); Python's JSON parser recurses once per level,
# so a body nested thousands deep would end in RecursionError (a 500 and a traceback) without this bound.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(rb"[][{}]")
LOCAL_NAMES = ("127.0.0.1", "localhost")


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# -- request bodies -----------------------------------------------------------


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"must be a non-empty string, got {value!r}")
    return value


def _ints(value: object) -> List[int]:
    if not isinstance(value, list):
        raise ValueError(f"must be a list of integers, got {value!r}")
    return [check_count(v) for v in value]


def _texts(value: object) -> List[str]:
    if not isinstance(value, list):
        raise ValueError(f"must be a list of strings, got {value!r}")
    return [_text(v) for v in value]


def _fraction(value: object) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value < 1.0:
        raise ValueError(f"must be a number in [0, 1), got {value!r}")
    return float(value)


Fields = Mapping[str, Callable[[object], object]]

# Each change: its fields (besides "op" and "revision") and what it does to the project.
CHANGES: Dict[str, Fields] = {
    "label": {"video": _text, "person": check_count, "first": check_count, "last": check_count, "actions": _ints},
    "move": {"uid": check_count, "box": check_box},
    "add": {"video": _text, "second": check_count, "box": check_box},
    "delete": {"video": _text, "person": check_count, "first": check_count, "last": check_count},
    "merge": {"video": _text, "keep": check_count, "absorb": check_count},
    "split": {"video": _text, "person": check_count, "second": check_count},
    "accept": {"video": _text, "person": check_count, "first": check_count, "last": check_count},
    "accept_video": {"video": _text},
    "undo": {},
    "redo": {},
}
def _video_ranges(value: object) -> List[Tuple[str, Tuple[int, int]]]:
    return [parse_video_range(v) for v in _texts(value)]


EXPORT_FIELDS: Fields = {"val_videos": _texts, "val_ratio": _fraction, "val_ranges": _video_ranges}


def json_depth(data: bytes) -> int:
    """How deep the arrays and objects of JSON text ``data`` nest (brackets inside strings aside), without
    parsing it."""
    depth = deepest = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub(b"", data)):
        if match.group() in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def request_object() -> Dict[str, object]:
    """The request's body as a JSON object; 415 or 400 otherwise."""
    if request.mimetype != "application/json":
        raise BadRequest(f"send the body as JSON with Content-Type: application/json, not {request.mimetype or 'none'}",
                         415)
    if json_depth(request.get_data(cache=True)) > MAX_JSON_DEPTH:
        raise BadRequest(f"the body nests JSON more than {MAX_JSON_DEPTH} levels deep; a change is a flat object")
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest("the body is not valid JSON")
    if not isinstance(body, dict):
        raise BadRequest(f"the body must be a JSON object, got {type(body).__name__}")
    return body


def check_fields(body: Mapping[str, object], fields: Fields, required: Sequence[str]) -> Dict[str, object]:
    """``body`` checked against ``fields`` (name -> checker); 400 naming the first bad field otherwise."""
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise BadRequest(f"unknown field(s) {', '.join(unknown)}; expected {', '.join(fields) or 'none'}")
    missing = [name for name in required if name not in body]
    if missing:
        raise BadRequest(f"missing field(s) {', '.join(missing)}")
    checked = {}
    for name, value in body.items():
        try:
            checked[name] = fields[name](value)
        except ValueError as err:
            raise BadRequest(f"field {name!r} {err}") from None
    return checked


def parse_change() -> Dict[str, object]:
    """A change request: ``{"op": name, "revision": n, ...the op's fields}``."""
    body = request_object()
    op = body.get("op")
    if op not in CHANGES:
        raise BadRequest(f"field 'op' must be one of {', '.join(CHANGES)}, got {op!r}")
    fields = dict(CHANGES[str(op)], op=_text, revision=check_count)
    return check_fields(body, fields, list(fields))


def apply_change(project: Project, change: Mapping[str, object],
                 suggestions: Optional[Mapping[int, Sequence[int]]] = None) -> Dict[str, object]:
    """Run one checked change on the project; return what the page needs to know besides the new state.
    ``suggestions``: the model's actions per box uid, which ``accept`` and ``accept_video`` make labels."""
    op = change["op"]
    args = {k: v for k, v in change.items() if k not in ("op", "revision")}
    project.check_revision(int(change["revision"]))  # type: ignore[arg-type]
    if op == "label":
        return {"boxes": project.label(**args)}  # type: ignore[arg-type]
    if op == "move":
        return {"uid": project.set_box(**args).uid}  # type: ignore[arg-type]
    if op == "add":
        box = project.add_box(**args)  # type: ignore[arg-type]
        return {"uid": box.uid, "person": box.person}
    if op == "delete":
        return {"boxes": project.delete(**args)}  # type: ignore[arg-type]
    if op == "merge":
        return {"boxes": project.merge(**args)}  # type: ignore[arg-type]
    if op == "split":
        return {"person": project.split(**args)}  # type: ignore[arg-type]
    suggestions = suggestions or {}
    if op == "accept":
        return {"boxes": project.accept(suggestions=suggestions, **args)}  # type: ignore[arg-type]
    if op == "accept_video":
        seconds = project.videos.get(str(args["video"])) or [0]
        return {"boxes": project.accept(str(args["video"]), None, seconds[0], seconds[-1], suggestions)}
    if op == "undo":
        return {"undone": project.undo()}
    return {"redone": project.redo()}


# -- keyframe images ----------------------------------------------------------


class Keyframes:
    """Keyframe image of (video, second): frame ``second * fps`` of ``<dataset>/frames/<video>``."""

    def __init__(self, dataset: Path, fps: float, videos: Sequence[str]) -> None:
        self.frame_dir = Path(os.path.abspath(dataset)) / "frames"
        self.fps = fps
        self.videos = set(videos)
        self._frames: Dict[str, List[str]] = {}
        self._lock = threading.Lock()

    def path(self, video: str, second: int) -> Optional[Path]:
        if video not in self.videos:
            return None
        with self._lock:
            if video not in self._frames:
                folder = self.frame_dir / video
                self._frames[video] = frame_list_from_dir(self.frame_dir, [video])[video] if folder.is_dir() else []
        frames = self._frames[video]
        index = second_to_frame(second, self.fps, 0)
        if not 0 <= index < len(frames):
            return None
        path = Path(os.path.normpath(self.frame_dir / frames[index]))
        # The names come from listing the folder, so this only fails on a video named like "..": never serve it.
        return path if path.parent.parent == self.frame_dir else None


# -- the app ------------------------------------------------------------------


def allowed_hosts(host: str, port: int) -> List[str]:
    """``Host`` header values that name the served address (both local names for a loopback address)."""
    names = list(LOCAL_NAMES) if host in LOCAL_NAMES else [f"[{host}]" if ":" in host else host]
    return [f"{name}:{port}" for name in names] + (names if port == 80 else [])


def create_app(project: Project, dataset: Path, host: str, port: int,
               export: Callable[[Project, Dict[str, object]], Dict[str, object]],
               suggestions: Optional[Mapping[int, Sequence[int]]] = None) -> Flask:
    """The app for ``project``; ``export(project, options)`` writes the AVA files and returns a summary;
    ``suggestions`` (a model's actions per box uid) are shown, and become labels only when accepted."""
    app = Flask(__name__, static_folder=str(STATIC_DIR), static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    hosts = set(allowed_hosts(host, port))
    suggestions = suggestions or {}
    origins = {f"http://{h}" for h in hosts}
    keyframes = Keyframes(dataset, project.fps, list(project.videos))
    lock = threading.Lock()  # one change at a time: each is applied and saved before the next

    def state() -> Dict[str, object]:
        return dict(project.state(), suggestions={str(uid): list(suggestions[uid]) for uid in project.boxes
                                                  if uid in suggestions})

    @app.before_request
    def check_host():
        if request.host not in hosts:
            return _error(f"Host {request.host!r} is not the address this app serves ({', '.join(sorted(hosts))})",
                          403)
        origin = request.headers.get("Origin")
        if request.method not in ("GET", "HEAD") and origin is not None and origin not in origins:
            return _error(f"requests from {origin} may not change the project", 403)
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'"
        response.headers["X-Content-Type-Options"] = "nosniff"
        if request.path.startswith("/api/") and not request.path.startswith("/api/frame/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(BadRequest)
    def bad_request(err: BadRequest):
        return _error(str(err), err.status)

    @app.errorhandler(ChangeError)
    def change_error(err: ChangeError):
        return _error(str(err), err.status)

    @app.errorhandler(UserError)
    def user_error(err: UserError):
        return _error(str(err), 422)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        if err.code == 413:
            return _error(f"the body is too large (more than {MAX_BODY} bytes); no change is that big", 413)
        cause = getattr(err, "original_exception", None)
        if cause is not None:  # a bug or a full disk; a change that raised was not saved (Project rolls back)
            return _error(f"the server failed ({type(cause).__name__}: {cause}); the change was not saved", 500)
        return _error(err.description or err.name, err.code or 500)

    @app.get("/")
    def index():
        return app.send_static_file("index.html")

    @app.get("/favicon.ico")
    def favicon():
        return Response(status=204)

    @app.get("/api/project")
    def get_project():
        with lock:
            return jsonify(dict(state(), dataset=Path(dataset).resolve().name, file=project.path.name))

    @app.get("/api/frame/<video>/<int:second>")
    def frame(video: str, second: int):
        path = keyframes.path(video, second)
        if path is None or not path.is_file():
            return _error(f"no keyframe image for video {video!r} second {second}", 404)
        return send_file(path, max_age=3600)

    @app.post("/api/change")
    def change():
        body = parse_change()
        with lock:
            result = apply_change(project, body, suggestions)
            return jsonify(result=result, state=state())

    @app.post("/api/export")
    def export_ava():
        options = check_fields(request_object(), EXPORT_FIELDS, ())
        if "val_videos" in options and "val_ratio" in options:
            raise BadRequest("give val_videos or val_ratio, not both")
        with lock:
            return jsonify(export(project, options))

    return app


def _error(message: str, status: int):
    return jsonify(error=message), status


def serve(project: Project, dataset: Path, host: str, port: int,
          export: Callable[[Project, Dict[str, object]], Dict[str, object]],
          suggestions: Optional[Mapping[int, Sequence[int]]] = None) -> None:
    """Serve the app until interrupted; print its address first (``port`` 0: any free port)."""
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request; errors still show
    if host in ("0.0.0.0", "::", ""):
        raise UserError(f"--host {host!r} listens on every network: give the one address to serve "
                        "(127.0.0.1, the default, or this machine's address on a trusted network), so that the "
                        "Host header check knows it")
    try:
        server = make_server(host, port, None, threaded=True)  # bound first, so port 0 gets its number
    except OSError as err:
        raise UserError(f"cannot listen on {host}:{port} ({err.strerror}); choose another --port") from None
    port = server.server_port
    server.app = create_app(project, dataset, host, port, export, suggestions)
    shown = f"[{host}]" if ":" in host else host
    print(f"Labelling {dataset} ({len(project.boxes)} boxes); open http://{shown}:{port}/ (Ctrl+C stops)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
