"""What the tests run on: the site in daphne processes, clients of it, fake upstreams and their
scenarios, the browser's helpers. The fixtures built on these are in the conftest.py files."""
