"""AVA subsets: a few chosen videos of the AVA annotation set, made ready to train on (tools/make_subset.py)."""
