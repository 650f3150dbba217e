"""Test support shared by the tests and the bench (virtual audio devices)."""
