"""URL canonicalisation, refanging and the platform registry (pure: nothing is fetched)."""

from takedown.urls.canon import MAX_WRAP_DEPTH, PSL_VERSION, CanonicalURL, canonicalize
from takedown.urls.errors import InvalidURL
from takedown.urls.platforms import KINDS, Platform, PlatformRegistry, RegistryError, unknown
from takedown.urls.refang import extract_urls, refang

__all__ = [
    "KINDS",
    "MAX_WRAP_DEPTH",
    "PSL_VERSION",
    "CanonicalURL",
    "InvalidURL",
    "Platform",
    "PlatformRegistry",
    "RegistryError",
    "canonicalize",
    "extract_urls",
    "refang",
    "unknown",
]
