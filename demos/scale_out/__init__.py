"""Several services, one login: an issuer, two verify-only services, Redis (see README.md)."""
