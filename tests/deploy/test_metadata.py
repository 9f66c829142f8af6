"""Exported files describe themselves: an .onnx file alone scores a clip of a video in a process without the
project, and a TorchScript file loads with torch (and torchvision) only and keeps the frame-count check."""

import json
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest

from slowfast_custom.deploy.export import export_model
from slowfast_custom.deploy.metadata import EXAMPLE_SCRIPT, read_metadata
from slowfast_custom.deploy.runtime import OnnxActionModel, session_threads

from conftest import require_onnxruntime, run_tool, untrained_checkpoint

# Runs a script in a fresh interpreter, then fails if the project was imported on the way.
WITHOUT_PROJECT = textwrap.dedent("""\
    import runpy, sys
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
    assert "slowfast_custom" not in sys.modules, "the project was imported"
""")


@pytest.fixture(scope="module")
def trained(tiny_dataset, tmp_path_factory):
    return untrained_checkpoint(tiny_dataset, tmp_path_factory.mktemp("metadata_run"), head_scale=30)


def _video(path, frames=60, size=(320, 240), fps=30):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    rng = np.random.default_rng(0)
    for i in range(frames):
        image = np.full((size[1], size[0], 3), 40, np.uint8)
        x = 40 + 3 * i
        cv2.rectangle(image, (x, 60), (x + 50, 200), (30, 120, 220), -1)  # a walking "person"
        image[::7] = rng.integers(0, 255, image[::7].shape, dtype=np.uint8)
        writer.write(image)
    writer.release()
    return path


def _without_project(tmp_path, script, *args):
    (tmp_path / "run.py").write_text(WITHOUT_PROJECT)
    return subprocess.run([sys.executable, str(tmp_path / "run.py"), str(script), *map(str, args)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)


def test_onnx_file_alone_scores_a_clip_of_a_video(trained, tmp_path):
    require_onnxruntime()
    from slowfast_custom.ava.timing import clip_frame_indices
    from slowfast_custom.demo.people import Person
    from slowfast_custom.demo.predictor import OnnxActionPredictor

    cfg, checkpoint = trained
    model = export_model(cfg, checkpoint, "onnx", tmp_path / "model.onnx", config_file="tiny.yaml").path
    meta = read_metadata(model)
    assert json.loads(meta["class_names"]) and len(json.loads(meta["class_names"])) == 4
    assert meta["colour_order"] == "RGB" and json.loads(meta["crop_size"]) == cfg.DATA.TEST_CROP_SIZE
    assert [p["frames"] for p in json.loads(meta["pathways"])] == [2, 8] and meta["config_file"] == "tiny.yaml"

    video = _video(tmp_path / "clip.avi")
    script = tmp_path / "score_clip.py"
    script.write_text(EXAMPLE_SCRIPT)
    boxes = [[30, 50, 150, 220], [170, 40, 300, 230]]
    proc = _without_project(tmp_path, script, model, video, 1.0, *sum(boxes, []))
    assert proc.returncode == 0, proc.stderr
    got = np.array(json.loads(proc.stdout.strip().splitlines()[-1]))

    # The project's own demo preprocessing of the same frames gives the same scores.
    capture = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    predictor = OnnxActionPredictor(cfg, OnnxActionModel(model))
    clip = [predictor.scale(frames[i]) for i in clip_frame_indices(30, cfg.DATA.NUM_FRAMES, cfg.DATA.SAMPLING_RATE,
                                                                   len(frames))]
    people = [Person((x1 / 320, y1 / 240, min(x2 / 320, 1.0), min(y2 / 240, 1.0))) for x1, y1, x2, y2 in boxes]
    want = predictor(clip, people, 320, 240)
    assert got.shape == want.shape == (2, 4)
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_print_shows_the_recipe(trained, tmp_path):
    require_onnxruntime()
    cfg, checkpoint = trained
    model = export_model(cfg, checkpoint, "onnx", tmp_path / "model.onnx").path
    proc = run_tool("export_model.py", "--print", model)
    assert proc.returncode == 0, proc.stderr
    for key in ("class_names", "mean", "std", "colour_order", "crop_size", "sampling_rate", "pathways"):
        assert key in proc.stdout
    assert "custom_metadata_map" in proc.stdout  # the script that runs the file alone


def test_torchscript_loads_with_torch_alone_and_refuses_a_wrong_clip(trained, tmp_path):
    cfg, checkpoint = trained
    model = export_model(cfg, checkpoint, "torchscript", tmp_path / "model.pt").path
    assert json.loads(read_metadata(model)["num_frames"]) == 8
    script = tmp_path / "load.py"
    script.write_text(textwrap.dedent(f"""\
        import sys
        import torch
        import torchvision  # registers torchvision::roi_align, which the file's graph calls

        model = torch.jit.load({str(model)!r})
        boxes = torch.tensor([[0.0, 10, 10, 60, 60]])
        print(tuple(model(torch.zeros(1, 3, 2, 64, 80), torch.zeros(1, 3, 8, 64, 80), boxes).shape))
        print(tuple(model(torch.zeros(1, 3, 2, 64, 80), torch.zeros(1, 3, 8, 64, 80), boxes[:0]).shape))
        try:
            model(torch.zeros(1, 3, 1, 64, 80), torch.zeros(1, 3, 4, 64, 80), boxes)
        except Exception as err:
            print("refused:", str(err).strip().splitlines()[-1])
        assert not [m for m in sys.modules if m.startswith(("slowfast", "onnx"))]
    """))
    proc = _without_project(tmp_path, script)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:2] == ["(1, 4)", "(0, 4)"]
    assert lines[2].startswith("refused:") and "must be B x 3 x 2" in lines[2], lines


def test_onnxruntime_threads_follow_the_setting_then_omp_num_threads(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert session_threads(2) == 2 and session_threads(0) == 3
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert session_threads(0) == 0
