"""Health scores, renewal risk and the accuracy audit: pure over model data, never calling out."""
