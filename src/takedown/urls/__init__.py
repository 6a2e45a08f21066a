"""URL canonicalisation, refanging and the platform registry (pure: nothing is fetched)."""

from takedown.urls.canon import PSL_VERSION, CanonicalURL, InvalidURL, canonicalize
from takedown.urls.platforms import Platform, PlatformRegistry, RegistryError, unknown
from takedown.urls.refang import extract_urls, refang

__all__ = [
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
