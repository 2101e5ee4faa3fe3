"""ciliumlab benchmarks: `python -m benchmarks` prints the figures the issues name."""
