"""The pure core: routines on a clock, understanding text, judging echo. No device or speech
library is imported here (a test enforces it)."""
