"""Subcommands of the ``signature-engine`` command line.

Each module here is one subcommand. It defines ``HELP`` (one line for the command
list), ``configure(parser)`` to add its arguments, and ``run(args) -> int`` that
returns the process exit code. ``engine.cli`` discovers the modules by name and
imports only the one that runs, so a slow import (FastAPI, Dask) never delays the
others.
"""
