"""Analyses over parsed plans and the graph: workload, networks, follow-through, plan alignment."""
