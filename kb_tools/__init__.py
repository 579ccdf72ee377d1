"""kb_tools: a self-hosted help center for online shops, built on MkDocs."""

__version__ = "0.1.0"
