"""Snapshot: the one file that sits between collection and everything else."""
