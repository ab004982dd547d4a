"""The package version, on the ground floor: stages write it into what they produce
(manifest.json, timing results) without importing ``xlalens`` itself, which imports them."""

__version__ = "0.1.0"
