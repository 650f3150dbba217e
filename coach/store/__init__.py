"""Store: the speech model catalog, downloads, installs and checks."""
