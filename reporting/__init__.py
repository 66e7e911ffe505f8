"""Read models over the unified account model: what people are told (digests, and in time the
dashboard's queries). Pure reads: nothing here writes or calls out."""
