"""Benchmarks: ``run.py`` (over HTTP, against stock aiogram and a tuned bare bot), ``memory.py``,
``purge.py``, ``inprocess.py``, ``check_speed.py`` and the search checks."""
