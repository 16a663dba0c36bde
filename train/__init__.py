"""Training binaries (absl) and the library they share."""
