"""``sigilctl verify``: prove a run's files, hashes and ids agree, from its bytes alone."""

from __future__ import annotations

from sigilctl.verify.report import Problem, RunReport, SourceReport, VerifyResult
from sigilctl.verify.run_check import verify_run

__all__ = ["Problem", "RunReport", "SourceReport", "VerifyResult", "verify_run"]
