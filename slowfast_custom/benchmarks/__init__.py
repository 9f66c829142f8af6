"""Measurements behind tools/benchmark.py and docs/BENCHMARKS.md: clip loading, training step, demo.

``data`` generates AVA-layout datasets of textured full-HD frames that both
upstream's ``Ava`` and the plugin's ``Customava`` read; ``loading``,
``training`` and ``demo`` measure one thing each; ``runner`` runs them in one
process and writes the table and the JSON.
"""
