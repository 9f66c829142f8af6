"""Videos of any container -> ``<dataset>/frames/<video>/<video>_%06d.jpg`` and ``frame_lists/all.csv``.

The extraction itself is ``slowfast_custom.video.frames`` (resumable, one
ffmpeg per video, parallel across videos), shared with the subset builder;
this module only finds the videos, names them and lists the frames.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence

from slowfast_custom.ava.formats import PathLike, write_frame_list
from slowfast_custom.ava.layout import ALL_FRAMES_LIST, DEFAULT_FPS, frame_lists_dir, frames_dir
from slowfast_custom.ava.naming import check_video_id, frame_list_from_dir
from slowfast_custom.errors import DataError, UserError
from slowfast_custom.video.frames import ExtractJob, ExtractResult, extract_many

# Containers looked for in folders; a file named explicitly is tried whatever its suffix.
VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts")


def collect_videos(inputs: Sequence[PathLike], video_id: Optional[str] = None) -> Dict[str, Path]:
    """``{video id: path}`` for video files and folders of videos; the id is the file name's stem."""
    found: Dict[str, Path] = {}
    for item in map(Path, inputs):
        if item.is_dir():
            paths = sorted(p for p in item.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
        elif item.is_file():
            paths = [item]
        else:
            raise DataError(item, "video or folder not found")
        for path in paths:
            name = video_id if video_id else path.stem
            check_video_id(name, path)
            if name in found and found[name] != path:
                raise DataError(path, f"video id {name} is used by {found[name]} too",
                                hint="Rename one of the videos (ids are file names without the suffix)")
            found[name] = path
    if not found:
        raise UserError(f"no videos found in {', '.join(map(str, inputs))} (looked for {', '.join(VIDEO_SUFFIXES)})")
    if video_id and len(found) > 1:
        raise UserError("--id names one video; give a single video file")
    return found


def extract_dataset_frames(videos: Dict[str, Path], dataset_dir: PathLike, *, fps: float = DEFAULT_FPS,
                           start_sec: Optional[float] = None, end_sec: Optional[float] = None, quality: int = 1,
                           workers: int = 2) -> List[ExtractResult]:
    """Extract ``videos`` into ``dataset_dir/frames`` and list every video there in ``frame_lists/all.csv``.

    Videos already extracted with the same settings are kept. ``start_sec``
    and ``end_sec`` cut every video to that window; its first frame is then
    second 0 of the dataset's seconds (AVA.START_SEC 0).
    """
    dataset_dir = Path(dataset_dir)
    frame_dir = frames_dir(dataset_dir)
    jobs = [ExtractJob(path, frame_dir, video, fps, start_sec, end_sec, quality) for video, path in videos.items()]
    results = extract_many(jobs, workers)
    write_frame_list(frame_lists_dir(dataset_dir) / ALL_FRAMES_LIST, frame_list_from_dir(frame_dir))
    return results
