"""sigilctl: run governed, reproducible LLM content jobs and prove what produced every output."""

__version__ = "0.1.0"
