"""From extracted frames to an AVA-format dataset: keyframes, pre-labelling, VIA round trip, writing."""
