"""Meaning: a sentence-meaning model (all-MiniLM-L6-v2 on ONNX Runtime) that says how close
a sentence is to each example the templates and FAQ phrasings spell out."""
