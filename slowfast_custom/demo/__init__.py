"""The demo: a video in, the same video out with person boxes and their predicted actions.

``runner.run_demo(cfg)`` is what ``tools/run_net.py`` calls with ``DEMO.ENABLE True``.
The pieces, each usable on its own:

* ``sources``: the frames of a file, a camera or a stream behind one interface (``FrameSource``);
* ``live``: reading a camera or stream at its own pace, and the latency budget;
* ``render``: the render loop, one for every source;
* ``video_io``: decode any video PyAV opens; encode H.264 (or a named fallback);
* ``people``: person boxes from a detector (optionally tracked, boxes for every frame) or from an AVA CSV;
* ``clips``: which frames form the clip of each prediction, and when a frame can be written;
* ``predictor``: the model on one clip, all people in one batched forward pass;
* ``draw``: boxes and top actions on a frame;
* ``results``: the predictions as an AVA CSV and as JSON beside the video.
"""
