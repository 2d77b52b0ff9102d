"""Records → RDF (rdflib, stored in Oxigraph) and NetworkX; the ontology, SHACL shapes and the canned
SPARQL queries (``queries/*.rq``, run through the ``sparql`` package)."""
