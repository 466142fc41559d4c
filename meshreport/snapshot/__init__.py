"""Snapshot: the contract between collection and everything else.

`model` (the dataclasses), `keys` (the keys query results are stored under) and `store` (the
.mrsnap file). The packed encoding (`packed`, `table`) belongs to the store; this package
imports nothing of meshreport's but `errors`.
"""
