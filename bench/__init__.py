"""Benchmarks, run by hand: `python -m bench NAME` runs bench/NAME.py:main()."""
