"""The package version, in a leaf module every other module may import."""

__version__ = "0.2.0"
