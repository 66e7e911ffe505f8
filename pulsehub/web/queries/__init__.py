"""Read-only, set-based queries behind the dashboard pages (one module per page family)."""
