"""Account mappings and the pure transforms from Amazon records to Xero documents."""
