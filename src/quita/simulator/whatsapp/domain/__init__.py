"""Pure rules of the fake Cloud API: errors, identities, templates, rate limits, webhook payloads."""
