"""The labelling step, from keyframes to AVA files: keyframes, the VIA 2 and VIA 3 round trips, the AVA writer.

``app`` is the track-aware labelling web app (``tools/annotate.py``); both end
in ``ava_writer``. Detecting and tracking people is ``detection.prelabel``.
"""
