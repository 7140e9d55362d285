"""Helpers that the tests and the benchmarks share: servers and sites made for them on loopback.

Not part of the installed package (pyproject's packages are archive, crawler and pipelines): it is
imported from a checkout, by tests/ and bench/, so that a benchmark never imports a test module.
"""
