"""Infrastructure map: compact typed graph, takedown planning, offline parsers."""
