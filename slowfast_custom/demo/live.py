"""Live input for the demo: a camera (``DEMO.WEBCAM``) or a stream URL (``DEMO.INPUT_VIDEO``), read by PyAV.

A live source runs at its own pace, not the demo's. A reader thread decodes
it as it comes and keeps only the newest frames in a bounded buffer
(``LiveReader``): when the demo falls behind, the oldest waiting frames are
dropped and counted, never queued without bound. Each frame carries the
moment it was decoded here, from which the demo measures its latency
(the sender's encoder and the network come on top, and are not seen here).

The reader stops at the end of the stream, when no packet arrives within
``DEMO.STREAM_TIMEOUT`` seconds, or on a decoding error; the demo then
finishes what it has, and ``LiveReader.ended`` says why.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Deque, Dict, Iterator, Optional, Tuple
from urllib.parse import urlsplit

import numpy as np

from slowfast_custom.errors import UserError
from slowfast_custom.video.frames import VideoInfo, frame_rate

logger = logging.getLogger(__name__)

# Weight of the previous estimate in the running mean of a piece of work's duration (LatencyBudget):
# follows a machine that slows down within a few runs, without jumping on one slow run.
WORK_SMOOTHING = 0.5
# URL schemes read as live streams (FFmpeg's protocols); anything else in DEMO.INPUT_VIDEO is a file.
STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "tcp", "srt")


# Why a live run ended, as DemoSummary.ended begins: a run that ends otherwise (the sender closed the stream, nothing
# came for DEMO.STREAM_TIMEOUT, a decoding error) kept its outputs but did not run to its planned end (exit 3).
SENDER_CLOSED = "the sender closed the stream"
PLANNED_ENDS = ("DEMO.MAX_SECONDS", "interrupted", "stopped")


def is_stream_url(text: str) -> bool:
    return "://" in text and text.split("://", 1)[0].lower() in STREAM_SCHEMES


@dataclass(frozen=True)
class LiveSource:
    url: str  # what PyAV opens: the URL or the camera device
    format: Optional[str]  # FFmpeg input format: "v4l2" for a camera, None to let FFmpeg tell from the URL
    name: str  # the video id of the outputs (predictions' video column, CSV rows matched by DEMO.PREDS_BOXES)
    option: str  # the config key that names it, for messages

    @classmethod
    def from_cfg(cls, cfg) -> Optional["LiveSource"]:
        """The camera or stream the config names; None for a video file."""
        webcam = int(cfg.DEMO.WEBCAM)
        if webcam >= 0:  # as upstream: the camera wins over DEMO.INPUT_VIDEO
            return cls(f"/dev/video{webcam}", "v4l2", f"webcam{webcam}", f"DEMO.WEBCAM {webcam}")
        url = cfg.DEMO.INPUT_VIDEO
        if not is_stream_url(url):
            return None
        parts = urlsplit(url)
        # The video id is the URL path's last name (rtsp://cam/lobby.sdp: "lobby"), as a file's is its stem.
        name = PurePosixPath(parts.path).stem or "stream"
        return cls(url, None, name, "DEMO.INPUT_VIDEO")

    def check(self) -> None:
        """UserError when the camera is not there (a stream can only be told by opening it)."""
        if self.format == "v4l2" and not Path(self.url).exists():
            raise UserError(f"{self.option}: no camera {self.url} on this machine; connect one, or set "
                            "DEMO.WEBCAM -1 to read DEMO.INPUT_VIDEO (a file or a stream URL)")


def open_live(source: LiveSource, timeout: float, fallback_fps: float):
    """``(PyAV container, VideoInfo)`` of the live source; one-line UserError when it cannot be opened."""
    import av

    source.check()
    try:
        # timeout: (to open, to wait for each packet); a stalled stream then ends the read instead of hanging.
        container = av.open(source.url, format=source.format, timeout=(timeout, timeout))
    except (av.error.FFmpegError, OSError) as err:
        raise UserError(f"{source.url}: cannot open the live source ({_why(err, timeout)}); check that it is "
                        f"running and reachable ({source.option})") from None
    if not container.streams.video:
        container.close()
        raise UserError(f"{source.url}: the live source has no video stream ({source.option})")
    stream = container.streams.video[0]
    ctx = stream.codec_context
    if not ctx.width or not ctx.height:
        container.close()
        raise UserError(f"{source.url}: the live source's video has no frame size yet; is it sending video?")
    info = VideoInfo(Path(source.name), ctx.width, ctx.height, frame_rate(stream, fallback_fps), 0.0, ctx.name)
    return container, info


def _why(err: Exception, timeout: float) -> str:
    import av

    if isinstance(err, av.error.ExitError):  # PyAV's timeout interrupts FFmpeg with "immediate exit requested"
        return f"nothing received for {timeout:g} s, DEMO.STREAM_TIMEOUT"
    return str(getattr(err, "strerror", None) or err)


@dataclass(frozen=True)
class LiveFrame:
    index: int  # 0-based among the frames the demo takes (dropped ones are not counted)
    time: float  # seconds since the first frame, from its number in the stream (dropped ones included)
    image: np.ndarray  # H x W x 3, BGR uint8
    captured: float  # time.perf_counter() when the reader decoded it


class LiveReader:
    """Decodes a live source in a thread; ``frames()`` yields the newest frames, the buffer holds at most
    ``max_frames`` (older ones are dropped and counted in ``dropped``)."""

    def __init__(self, container, fps: float, max_frames: int, max_seconds: float = 0.0,
                 timeout: float = 0.0) -> None:
        """``timeout``: the seconds the container was opened to wait for a packet (for the message)."""
        self._container = container
        self._timeout = timeout
        self._fps = fps
        self._max_seconds = max_seconds
        self._buffer: Deque[Tuple[int, np.ndarray, float]] = deque(maxlen=max(1, max_frames))
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._done = False
        self.decoded = 0
        self.dropped = 0
        self.ended = ""  # why the reader stopped
        self._thread = threading.Thread(target=self._run, name="live-reader", daemon=True)

    def _run(self) -> None:
        import av

        reason = ""
        try:
            stream = self._container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in self._container.decode(stream):
                if self._stop.is_set():
                    reason = "stopped"
                    break
                if self._max_seconds > 0 and self.decoded / self._fps >= self._max_seconds:
                    reason = f"DEMO.MAX_SECONDS {self._max_seconds:g} reached"
                    break
                image = frame.to_ndarray(format="bgr24")
                with self._cond:
                    if len(self._buffer) == self._buffer.maxlen:
                        self.dropped += 1  # the deque drops the oldest as the new one goes in
                    self._buffer.append((self.decoded, image, time.perf_counter()))
                    self.decoded += 1
                    self._cond.notify()
        except (av.error.FFmpegError, OSError) as err:
            reason = f"the stream was lost ({_why(err, self._timeout)})"
        except Exception as err:  # a thread's error would otherwise vanish: the demo reports it and ends
            reason = f"the reader failed ({type(err).__name__}: {err})"
        finally:
            self._container.close()
            # A live source has no end of its own: when the sender closes the stream, say so and how much came.
            reason = reason or f"{SENDER_CLOSED} after {self.decoded / self._fps:.1f} s"
            with self._cond:
                self.ended = reason
                self._done = True
                self._cond.notify_all()

    def start(self) -> None:
        self._thread.start()

    def frames(self) -> Iterator[LiveFrame]:
        """The frames in order as they come (with gaps where frames were dropped), until the reader stops."""
        taken = 0
        while True:
            with self._cond:
                while not self._buffer and not self._done:
                    self._cond.wait()
                if not self._buffer:
                    return
                number, image, captured = self._buffer.popleft()
            yield LiveFrame(taken, number / self._fps, image, captured)
            taken += 1

    @property
    def waiting(self) -> int:
        """Frames decoded and not yet taken."""
        with self._cond:
            return len(self._buffer)

    def stop(self) -> None:
        """Ask the reader to stop after the frame it is decoding, and wait for it (the container is closed)."""
        self._stop.set()
        if self._thread.ident is None and not self._done:  # never started: the container is ours to close
            self._container.close()
            self._done = True
        elif self._thread.is_alive():
            self._thread.join()


class LatencyBudget:
    """Whether live work can still be shown in time: the age of the newest frame plus the expected duration
    of the work still to do (a running mean of its past runs) must stay within ``max_delay`` seconds.

    Checking only the frame's age would let a prediction start just in time and finish long after; a
    machine that gets slower (other jobs, a hot CPU) is followed within a few runs.
    """

    def __init__(self, max_delay: float) -> None:
        self.max_delay = max_delay
        self.expected: Dict[str, float] = {}  # work -> seconds

    def allows(self, captured: Optional[float], *works: str) -> bool:
        """True for frames from a file (``captured`` None) and for live frames with time left for ``works``."""
        if captured is None:
            return True
        age = time.perf_counter() - captured
        return age + sum(self.expected.get(w, 0.0) for w in works) <= self.max_delay

    def skipped(self, *works: str) -> None:
        """Work was skipped: lower its estimate, so that one slow spell does not stop every later run
        (a skipped run measures nothing); the next run that goes ahead measures it again."""
        for work in works:
            if work in self.expected:
                self.expected[work] *= WORK_SMOOTHING

    @contextlib.contextmanager
    def timing(self, work: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        took = time.perf_counter() - start
        previous = self.expected.get(work)
        self.expected[work] = took if previous is None else WORK_SMOOTHING * previous + (1 - WORK_SMOOTHING) * took
