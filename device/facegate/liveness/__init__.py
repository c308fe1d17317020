"""Is a live person in front of the camera: eye aspect ratio, blinks, photo attacks."""
