"""Hearing: microphone and WAV input, endpointing, echo cancellation and speech recognisers."""
