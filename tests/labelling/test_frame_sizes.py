"""Image facts of extracted frames for the labelling tools."""

import pytest

from slowfast_custom.errors import DataError
from slowfast_custom.labelling.images import image_sizes_from_frames

from rendered_frames import write_video_frames


def test_image_sizes_from_frames(tmp_path):
    write_video_frames(tmp_path, "v1", seconds=1, size=(161, 97))
    assert image_sizes_from_frames(tmp_path, ["v1"]) == {"v1": (161, 97)}
    with pytest.raises(DataError, match="no frames folder for video v2"):
        image_sizes_from_frames(tmp_path, ["v2"])
