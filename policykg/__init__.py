"""policykg: a knowledge graph with semantic search for Chinese government policy plans."""

__version__ = "0.1.0"
