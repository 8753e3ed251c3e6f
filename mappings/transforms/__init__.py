"""Pure transforms: normalised Amazon records + a MappingSet → Xero document payloads."""
