"""The benchmark behind `make bench`: `python bench/run.py` (see run.py's docstring).

Modules, one job each: settings (paths, scales, goals), procs (running and measuring one child process),
children (the code the child interpreters run: the DuckDB peers, the day file, the pages under AppTest),
dataset (the generated datasets and their configuration), report_sql (the report peer: one SQL query),
compare (comparing two CSV tables), machine (the machine and the commit measured), scenarios (the
measurements), output (the text and Markdown report with the goals), run (arguments and main).
Standard library only, on purpose (see run.py).
"""
