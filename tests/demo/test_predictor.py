"""The model is fed exactly as the dataset's test split feeds it, all people of a clip in one forward pass."""

import numpy as np
import pytest
import torch

from slowfast_custom.config import get_cfg
from slowfast_custom.data.custom_ava import scaled_size
from slowfast_custom.demo.people import Person
from slowfast_custom.demo.predictor import ActionPredictor, num_outputs
from slowfast_custom.engine.precision import StepPrecision
from slowfast_custom.inference import load_for_inference

from demo_fixtures import decode, demo_setup  # noqa: F401  (fixture)


def predictor_for(setup, tmp_path):
    from slowfast.models.model_builder import build_model

    cfg = setup.cfg(tmp_path / "out.mp4")
    model = build_model(cfg)
    load_for_inference(cfg, model)
    return cfg, model, ActionPredictor(cfg, model, StepPrecision(torch.device("cpu")))


def test_preprocessing_is_the_dataset_test_split(demo_setup, tmp_path):
    from slowfast_custom.data.custom_ava import Customava

    cfg, _, predictor = predictor_for(demo_setup, tmp_path)
    frames = decode(demo_setup.video)[:8]
    boxes = np.array([[0.1, 0.2, 0.5, 0.9], [0.6, 0.0, 1.0, 0.7]], dtype=np.float32)
    expected_clip, expected_boxes = Customava(cfg, "test")._images_and_boxes_preprocessing_cv2(frames, boxes.copy())
    clip = predictor.clip_tensor([predictor.scale(f) for f in frames])
    assert clip.shape == expected_clip.shape == (3, 8, 112, 149)
    torch.testing.assert_close(clip, expected_clip.float())
    people = [Person(tuple(b)) for b in boxes]
    np.testing.assert_allclose(predictor.model_boxes(people, 160, 120), expected_boxes, atol=1e-4)


@pytest.mark.parametrize("height, width", [(120, 160), (121, 161), (300, 161), (112, 150), (90, 60), (200, 200)])
def test_model_boxes_fit_the_frame_the_scaler_makes(height, width):
    """Sizes odd, portrait, landscape, already at size, smaller than it, square: the model input's size is
    computed, not measured, so it must be the size ``scale`` gives the frame."""
    cfg = get_cfg()
    cfg.DATA.TEST_CROP_SIZE = 112
    predictor = ActionPredictor(cfg, torch.nn.Identity(), StepPrecision(torch.device("cpu")))
    scaled_h, scaled_w = predictor.scale(np.zeros((height, width, 3), np.uint8)).shape[:2]
    assert scaled_size(height, width, 112) == (scaled_h, scaled_w)
    whole_frame = predictor.model_boxes([Person((0.0, 0.0, 1.0, 1.0))], width, height)
    np.testing.assert_allclose(whole_frame, [[0, 0, scaled_w - 1, scaled_h - 1]])


def test_all_people_of_a_clip_in_one_forward_pass(demo_setup, tmp_path):
    cfg, model, predictor = predictor_for(demo_setup, tmp_path)
    calls = []
    model.register_forward_hook(lambda module, inputs, output: calls.append(inputs[1].shape))
    frames = [predictor.scale(f) for f in decode(demo_setup.video)[:8]]
    people = [Person((0.1, 0.1, 0.3, 0.9)), Person((0.4, 0.1, 0.6, 0.9)), Person((0.7, 0.1, 0.9, 0.9))]
    scores = predictor(frames, people, 160, 120)
    assert calls == [torch.Size([3, 5])]
    assert scores.shape == (3, num_outputs(model, 0)) == (3, 4) and ((scores > 0) & (scores < 1)).all()
    assert predictor(frames, [], 160, 120).shape == (0, 4) and len(calls) == 1
