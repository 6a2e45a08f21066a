"""A synthetic Referral Action Day: invented outlets, drawn media, generated statements."""

from takedown.demo.generate import DemoManifest, DemoSpec, generate

__all__ = ["DemoManifest", "DemoSpec", "generate"]
