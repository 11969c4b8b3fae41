"""Benchmarks and call-count reports; run with `make bench` (`python -m bench`)."""
