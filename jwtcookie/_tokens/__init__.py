"""Tokens: issuing and verifying them (PyJWT's JWS layer, the claim rules, the cache).
Private: ``jwtcookie.keys`` and ``jwtcookie.jwks`` hold the public key classes."""
