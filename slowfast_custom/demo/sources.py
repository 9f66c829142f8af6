"""Where the demo's frames come from: a video file, a camera or a stream, behind one interface (``FrameSource``).

The render loop (``render.RenderLoop``) takes any source and never asks which
kind it is, as upstream's ``demo_net.run_demo(cfg, frame_provider)`` swaps
``VideoManager`` for ``ThreadVideoManager``. What differs is said by the
source: whether it runs at its own pace (``live``), how many frames to
expect, what a Ctrl-C means, why reading stopped, and what to report.

* ``FileSource``: a file decoded in order, as fast as the demo goes.
* ``LiveFrameSource``: a camera or stream read by ``live.LiveReader``'s thread at
  the sender's pace, newest frames first when the demo falls behind.
"""

from __future__ import annotations

import math
from typing import Dict, Iterator, Optional, Union

from slowfast_custom.demo.live import LiveFrame, LiveReader, LiveSource, open_live
from slowfast_custom.demo.video_io import Frame, read_frames
from slowfast_custom.errors import DataError, UserError
from slowfast_custom.video.frames import VideoInfo

SourceFrame = Union[Frame, LiveFrame]  # both: index, time, image; a live frame also ``captured``


class FrameSource:
    """Frames of one input, in order. Use as a context manager: ``close`` stops reading."""

    info: VideoInfo  # size and frame rate; ``info.path.stem`` is the video id of the outputs
    where: str  # the file or URL, for the log and the JSON
    live: bool = False  # runs at its own pace: latency counts, frames may be dropped, Ctrl-C ends it normally
    expected_frames: Optional[int] = None  # for the progress bar; None when unknown
    dropped: int = 0  # frames the source dropped because the demo was behind

    def frames(self) -> Iterator[SourceFrame]:
        raise NotImplementedError

    def close(self) -> None:
        """Stop reading (a no-op once stopped)."""

    @property
    def ended(self) -> str:
        """Why reading stopped, once it has ("" for a file read to its end)."""
        return ""

    def interrupted(self) -> Optional[str]:
        """Ctrl-C while reading: None to stop the run (nothing is kept), or why it ended (the output is kept)."""
        return None

    def nothing_read(self, ended: str) -> Exception:
        """The error for a source that gave no frame."""
        raise NotImplementedError

    def report(self) -> Dict[str, object]:
        """Facts about the reading for the predictions' JSON (none for a file)."""
        return {}

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class FileSource(FrameSource):
    def __init__(self, info: VideoInfo, max_seconds: float, duration: float) -> None:
        """``duration``: seconds that will be read (the video's, or ``max_seconds`` when shorter)."""
        self.info = info
        self.where = str(info.path)
        self.expected_frames = int(round(duration * float(info.fps))) or None
        self._max_seconds = max_seconds

    def frames(self) -> Iterator[Frame]:
        return read_frames(self.info, self._max_seconds)

    def nothing_read(self, ended: str) -> Exception:
        return DataError(self.info.path, "no frame could be decoded", hint="Check that the video plays")


class LiveFrameSource(FrameSource):
    live = True

    def __init__(self, source: LiveSource, info: VideoInfo, reader: LiveReader, max_delay: float) -> None:
        self.info = info
        self.where = source.url
        self._reader = reader
        self._max_delay = max_delay

    @classmethod
    def open(cls, source: LiveSource, *, timeout: float, fallback_fps: float, max_delay: float,
             max_seconds: float) -> "LiveFrameSource":
        """Open the camera or stream and start reading it (one-line UserError when it cannot be opened)."""
        container, info = open_live(source, timeout, fallback_fps)
        # The buffer holds twice the delay: a demo that falls behind skips predictions (frames older than the
        # delay) and catches up on the frames waiting; only when even that is too slow are frames dropped.
        buffer_frames = int(math.ceil(2 * max_delay * float(info.fps)))
        reader = LiveReader(container, float(info.fps), buffer_frames, max_seconds, timeout)
        reader.start()
        return cls(source, info, reader, max_delay)

    def frames(self) -> Iterator[LiveFrame]:
        return self._reader.frames()

    def close(self) -> None:
        self._reader.stop()

    @property
    def dropped(self) -> int:  # type: ignore[override]
        return self._reader.dropped

    @property
    def ended(self) -> str:
        return self._reader.ended

    def interrupted(self) -> Optional[str]:
        return "interrupted (Ctrl-C)"  # a live source runs until stopped: keep what was made

    def nothing_read(self, ended: str) -> Exception:
        return UserError(f"{self.where}: no frame came from the live source ({ended})")

    def report(self) -> Dict[str, object]:
        return {"max_delay_s": self._max_delay}
