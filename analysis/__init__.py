"""Analyses over the records, the graph and the search index: evidence links of annual reports."""
