"""Compiled inner loops of takedown planning (numba, cached on disk after first use).

The functions are those of :mod:`takedown.infra.kernels_py`, compiled; :mod:`takedown.infra.plan`
uses these only for serving subgraphs too big to run in plain Python quickly.

* :func:`serving_csr` — the outlet's serving subgraph (BFS over the serving edge kinds) as a
  local CSR adjacency with a virtual sink as the last local node;
* :func:`dominators` — Cooper-Harvey-Kennedy immediate dominators on a local CSR;
* :func:`min_vertex_cut` — one minimum vertex cut between the outlet and the sink.
"""

from __future__ import annotations

from numba import njit

from takedown.infra import kernels_py

serving_csr = njit(cache=True)(kernels_py.serving_csr)
dominators = njit(cache=True)(kernels_py.dominators)
min_vertex_cut = njit(cache=True)(kernels_py.min_vertex_cut)
