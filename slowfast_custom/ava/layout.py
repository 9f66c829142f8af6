"""The AVA dataset layout: file and folder names of a dataset folder, once.

    <dataset>/detections/tracks.csv    TRACKS_DIR, TRACKS (tools/detect_and_track.py)
"""

TRACKS_DIR = "detections"  # outputs of the detection step
TRACKS = "tracks.csv"  # tracked people on the keyframes (tools/detect_and_track.py, the labelling app's input)
