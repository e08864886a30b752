"""The verdict: analytic against numerical gradients entry by entry; the results every report formats."""
