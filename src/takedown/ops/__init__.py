"""Multi-agency operations: deconfliction, audit chain, reports."""
