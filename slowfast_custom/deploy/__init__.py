"""Deploying a trained model: export it (ONNX, TorchScript) and run the exported file (onnxruntime)."""
