"""Measurements behind tools/benchmark.py and docs/BENCHMARKS.md: clip loading, training step, demo; and behind
tools/benchmark_labelling.py: user actions in the labelling app (docs/annotate.md).

``data`` generates AVA-layout datasets of textured full-HD frames that both
upstream's ``Ava`` and the plugin's ``Customava`` read; ``loading``,
``training`` and ``demo`` measure one thing each; ``runner`` runs them in one
process and writes the table and the JSON. ``labelling`` counts the clicks and
keys of scripted labelling sessions, which ``browser`` drives in a headless
Chromium (the browser tests use it too). ``subset`` measures the AVA subset
builder (tools/benchmark_subset.py). ``record`` holds what every results file
shares (date, command, host; the table's layout; the atomic write).
"""
