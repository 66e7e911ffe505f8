"""Read models over the unified account model: the dashboard's pages, the terminal report,
the operator's queues and the weekly digests. Pure reads: nothing here writes or calls out,
and nothing here imports `pulsehub` (the wiring imports this, never the reverse)."""
