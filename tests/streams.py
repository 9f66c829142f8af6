"""Live streams for the tests: ffmpeg (the set-up's own) sending a video at its pace to 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time

from slowfast_custom.video.frames import ffmpeg_exe


def free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    """Whether a TCP socket listens on 127.0.0.1:port (read from /proc: connecting would take ffmpeg's one client)."""
    wanted = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as f:
        return any(line.split()[1] == wanted and line.split()[3] == "0A" for line in f.readlines()[1:])


def send(video, url, *extra, gop: int = 15):
    """ffmpeg sending ``video`` at its own pace (-re) as MPEG-TS to ``url``, a keyframe every ``gop`` frames."""
    return subprocess.Popen([ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-re", "-i", str(video),
                             "-c:v", "libx264", "-preset", "ultrafast", "-g", str(gop), "-f", "mpegts", *extra, url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@contextlib.contextmanager
def http_stream(video, name: str, gop: int = 15):
    """``video`` served once over HTTP on 127.0.0.1 (ffmpeg -listen 1) as ``<name>.ts``; yields the URL (its name
    is the stream's video id)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/{name}.ts"
    proc = send(video, url, "-listen", "1", gop=gop)
    try:
        deadline = time.monotonic() + 30
        while not listening(port):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode()
            time.sleep(0.05)
        yield url
    finally:
        proc.kill()
        proc.wait()
