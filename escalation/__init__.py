"""Escalations: rules decide who needs to act on an account; sync carries the actions out."""
