"""AVA file formats, the keyframe index, the registered dataset, and dataset generators."""
