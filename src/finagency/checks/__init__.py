"""Pre-publication checks: grounding, lexicon, disclosures, platform fit and near-duplicates.

Callers use :func:`run_checks` with a :class:`CheckContext` and read the :func:`verdict`;
the per-check modules are importable for tools that want one check alone.
"""

from finagency.checks.disclosures import Sponsorship
from finagency.checks.service import CheckContext, run_checks
from finagency.checks.types import Finding, Severity, Verdict, verdict

__all__ = ["CheckContext", "Finding", "Severity", "Sponsorship", "Verdict", "run_checks", "verdict"]
