"""Sources: where records come from (polling, webhooks, files, synthetic)."""
