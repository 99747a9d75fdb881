"""Real peers for tests, benchmarks and `make demo`: processes on loopback and in network namespaces.

Not part of the installed package. Everything a lab starts is registered with a `Lab` (an ExitStack),
so it is stopped and removed again even when a test fails.
"""
