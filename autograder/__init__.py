"""The grading pipeline: sandboxed runner, trusted checker, parallel pool, ledger, feedback.

See PROTOCOL.md for the runner / checker contract and ``python -m autograder --help``.
"""
