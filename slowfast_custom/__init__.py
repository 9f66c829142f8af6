"""slowfast-custom: AVA-style action detection on your own videos, as a plugin on PySlowFast 1.0.

Importing the package does nothing else: it imports no torch, checks no
upstream release and registers nothing, so the tools that need no model start
fast and work whatever upstream's state. The code that uses upstream calls
``slowfast_custom.plugin.setup_plugin()`` first: it checks that the pinned
release is installed and patched, then registers the plugin's dataset.
"""

import warnings

# fvcore (imported by upstream's model code) calls torch.jit.script at import time, which torch 2.x reports as
# deprecated in every process that imports it (spawned workers too); it is not actionable for users.
warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated", category=FutureWarning)

__version__ = "0.1.0"
