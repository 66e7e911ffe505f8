"""The CS dashboard and operator surface (FastAPI, server-rendered, offline)."""
