"""The dataset checker (slowfast-custom check): every problem of a dataset folder as file:line with a fix (dataset),
and the boxes per class and split it prints (class_counts)."""
