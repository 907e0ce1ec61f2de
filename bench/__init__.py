"""Benchmarks (run as scripts: bench/dispatch.py, bench/ivr.py); a package so their module names stay apart
from the app's (bench/ivr.py is bench.ivr, not the ivr package)."""
