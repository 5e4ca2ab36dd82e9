"""Benchmarks for jwtcookie: ``python -m benchmarks.run`` (see benchmarks/README.md)."""
