"""Records → RDF (rdflib, stored in Oxigraph) and NetworkX; the ontology, SHACL shapes and SPARQL."""
