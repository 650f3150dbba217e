"""Routines, FAQ, commands and phrases: loaded from YAML into frozen dataclasses."""
