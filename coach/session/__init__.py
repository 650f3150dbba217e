"""Sessions: the coaching loop and the wiring of every mode (hands-free, typed, WAV, play)."""
