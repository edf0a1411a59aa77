"""Audit and accounting over finished runs: diff, replay, attest and export (SPEC §12).

Every tool here reads a run through ``reading`` only, so nothing outside the run folder is ever
opened, and none of them writes inside a run folder: run folders stay immutable.
"""
