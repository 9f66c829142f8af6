"""The AVA dataset layout: every file and folder name, and the defaults of AVA's recipe, once.

A dataset folder (what ``tools/import_via.py``, ``tools/make_subset.py`` and
the synthetic generator write, and what ``configs/Base-Customava.yaml`` reads)::

    <dataset>/frames/<video>/<video>_000001.jpg     FRAMES_DIR (names: ava.naming)
    <dataset>/frames/<video>/.extract.json          EXTRACT_MARKER (the extraction's settings)
    <dataset>/frame_lists/train.csv, val.csv        FRAME_LISTS_DIR, TRAIN_LIST, VAL_LIST
    <dataset>/annotations/ava_train_v2.2.csv        ANNOTATIONS_DIR, TRAIN_GT, VAL_GT
    <dataset>/annotations/ava_val_predicted_boxes.csv
    <dataset>/annotations/<label map>.pbtxt         LABEL_MAP (60 evaluated ids), FULL_LABEL_MAP (80)
    <dataset>/annotations/ava.json                  CLASS_NAMES (the demo's class names)
    <dataset>/annotations/ava_*_excluded_timestamps_v2.2.csv
    <dataset>/detections/tracks.csv                 TRACKS_DIR, TRACKS (tools/detect_and_track.py)

AVA's own annotation archive uses the same names (``ava_subset`` reads them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Union

# Folders of a dataset.
FRAMES_DIR = "frames"
FRAME_LISTS_DIR = "frame_lists"
ANNOTATIONS_DIR = "annotations"
TRACKS_DIR = "detections"

# Frame lists (in FRAME_LISTS_DIR).
TRAIN_LIST = "train.csv"
VAL_LIST = "val.csv"
ALL_FRAMES_LIST = "all.csv"  # every extracted video, written by tools/extract_frames.py

# Annotation files (in ANNOTATIONS_DIR), AVA v2.2's names.
TRAIN_GT = "ava_train_v2.2.csv"
VAL_GT = "ava_val_v2.2.csv"
# Predicted person boxes of the Long-Term Feature Bank release (PySlowFast's DATASET.md layout); upstream's default
# AVA.TEST_PREDICT_BOX_LISTS names the val one.
TRAIN_PREDICTED = "ava_train_predicted_boxes.csv"
VAL_PREDICTED = "ava_val_predicted_boxes.csv"
TRAIN_EXCLUSIONS = "ava_train_excluded_timestamps_v2.2.csv"
VAL_EXCLUSIONS = "ava_val_excluded_timestamps_v2.2.csv"
LABEL_MAP = "ava_action_list_v2.2_for_activitynet_2019.pbtxt"  # the 60 evaluated classes (item form)
FULL_LABEL_MAP = "ava_action_list_v2.2.pbtxt"  # all 80 trained classes (label form)
CLASS_NAMES = "ava.json"
# AVA's person detections, as its annotation archive ships them.
TRAIN_DETECTIONS = "person_box_67091280_iou90/ava_detection_train_boxes_and_labels_include_negative_v2.2.csv"
VAL_DETECTIONS = "person_box_67091280_iou90/ava_detection_val_boxes_and_labels.csv"

# Every name a file of each role has in AVA's releases (v2.1, v2.2, the LFB release) and upstream's recipes, for the
# checker's search for a file the config names but that is there under another name.
ROLE_NAMES = {
    "label map": (LABEL_MAP, FULL_LABEL_MAP, "ava_action_list_v2.1_for_activitynet_2018.pbtxt",
                  "ava_action_list_v2.1.pbtxt", "ava_action_list_v2.0.pbtxt"),
    "exclusion file": (VAL_EXCLUSIONS, "ava_val_excluded_timestamps_v2.1.csv", TRAIN_EXCLUSIONS,
                       "ava_train_excluded_timestamps_v2.1.csv"),
    "train ground-truth box file": (TRAIN_GT, "ava_train_v2.1.csv"),
    "val ground-truth box file": (VAL_GT, "ava_val_v2.1.csv"),
    "train predicted box file": (TRAIN_PREDICTED, TRAIN_DETECTIONS, TRAIN_GT),
    "val predicted box file": (VAL_PREDICTED, VAL_DETECTIONS),
    "train frame list": (TRAIN_LIST,),
    "val frame list": (VAL_LIST,),
}

# Outputs of the detection step (in TRACKS_DIR).
TRACKS = "tracks.csv"
PREDICTED = "predicted_boxes.csv"

# Written in each video's frame folder by the extraction: its settings, so an unchanged video is skipped.
EXTRACT_MARKER = ".extract.json"

# Defaults of AVA's recipe.
DEFAULT_FPS = 30.0  # frame rate of the extracted frames (AVA.FPS)
AVA_START_SEC = 900  # AVA's videos are labelled from 15:00 ...
AVA_END_SEC = 1801  # ... to 30:00 (exclusive end of the cut AVA's frames cover)
DEFAULT_MARGIN_SEC = 2  # seconds left unlabelled at each end (AVA labels 902-1798 of 900-1800)
DEFAULT_TRACK_FPS = 5.0  # frames per second the person tracker sees


def frames_dir(dataset: Union[str, Path]) -> Path:
    return Path(dataset) / FRAMES_DIR


def frame_lists_dir(dataset: Union[str, Path]) -> Path:
    return Path(dataset) / FRAME_LISTS_DIR


def annotations_dir(dataset: Union[str, Path]) -> Path:
    return Path(dataset) / ANNOTATIONS_DIR
