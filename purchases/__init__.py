"""Amazon Business purchases into Xero: pull, store, transform, post, and the import pages."""
