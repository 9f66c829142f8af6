"""Measurements behind tools/benchmark.py and docs/BENCHMARKS.md: the keyframe index, clip loading, training
step, demo; behind tools/benchmark_subset.py: the AVA subset builder; and behind tools/benchmark_labelling.py:
user actions in the labelling app (docs/labelling.md). Not installed with the plugin: the tools put this
checkout on ``sys.path``, and pytest does (setup.cfg's ``pythonpath``).

``data`` generates AVA-layout datasets of textured full-HD frames that both
upstream's ``Ava`` and the plugin's ``Customava`` read, and ``configs`` the
configs that run on them; ``index``, ``loading``, ``training`` and ``demo``
measure one thing each; ``runner`` runs them in one process and writes the
table and the JSON. ``subset`` times the subset build on a generated
full-size AVA annotation set. ``labelling`` counts the clicks and keys of
scripted labelling sessions, which ``browser`` drives in a headless Chromium
(the labelling app's browser tests use it too). ``timing`` holds the
interleaved A/B timer and the memory sampler; ``record`` what every results
file shares (date, command, host; the table's layout; the atomic write).
"""
