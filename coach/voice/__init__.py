"""Voice: text-to-speech engines and the playback the coach controls itself."""
