"""The infra graph in the database: importing parsed facts, linking IPs to networks, outlets,
and loading the graph (joined with sightings) back as a compact :class:`InfraGraph`.

The work is split by responsibility — ``store_write`` (the :class:`Writer`: bulk upserts of
nodes, facts, attributes and ranges), ``store_import`` (one file in, IPs linked to networks,
CNAME loops), ``store_outlets`` and ``store_load`` — and re-exported here.
"""

from __future__ import annotations

from takedown.infra.store_import import cname_loops, covering, import_file, link_ips
from takedown.infra.store_load import StoredGraph, _is_ip, load_graph, outlet_subgraph
from takedown.infra.store_outlets import (
    OutletError,
    define_outlet,
    get_outlet,
    outlet_domains,
)
from takedown.infra.store_write import CHUNK, Writer, kind_name

__all__ = [
    "CHUNK",
    "OutletError",
    "StoredGraph",
    "Writer",
    "_is_ip",
    "cname_loops",
    "covering",
    "define_outlet",
    "get_outlet",
    "import_file",
    "kind_name",
    "link_ips",
    "load_graph",
    "outlet_domains",
    "outlet_subgraph",
]
