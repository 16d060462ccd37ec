"""Pairtime's domain: time, rules, the availability engine, parsing, use cases and views.

Pure Python: nothing here imports from adapters/, storage/ or bot/, nor any
chat, HTTP or SQL library (tests/unit/test_architecture.py keeps it so).
"""
