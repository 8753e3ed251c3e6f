"""Provider integrations: one folder per provider, shared plumbing beside them."""
