"""Video work shared by the dataset tools: probing, frame extraction, cutting clips."""
