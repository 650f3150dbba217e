"""Sessions: the coaching loop, and one small function per mode that wires it.

events (what a session reports) -> printer (JSON lines or lines for people); inputs (what
drives it) -> coach (decisions -> player/FAQ -> voice) -> loop (the real clock). wiring
builds the parts from Settings once; the modes are hands_free (with audio_thread), typed,
wav_file (`coach listen` and `coach run --input`, with virtual_voice) and play.
"""
