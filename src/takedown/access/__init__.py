"""Access control: who may see and do what, in one place every face and workflow asks.

* :mod:`~takedown.access.roles` — roles, permissions, API key scopes.
* :mod:`~takedown.access.visibility` — which sightings (and all derived from them) an agency,
  a platform or the operator sees; what a second reporter learns (:func:`co_reporters`).
* :mod:`~takedown.access.shares` — sharing one sighting with another agency on purpose.
* :mod:`~takedown.access.holds` — scope limits of deconfliction holds.
* :mod:`~takedown.access.banks` — bank owners and sharing.
* :mod:`~takedown.access.policy` — the access policy every HTTP route and page declares
  next to itself (read by the generated access test).
* :mod:`~takedown.access.passwords` — password hashing.

The written model is ``docs/security.md``. This package imports tables and the store, never
the faces (``api``, ``web``, ``cli``).
"""
