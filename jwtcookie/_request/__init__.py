"""The request path: the view of a request, the policy that decides it, reading the token
(cookie, bearer, duplicates), writing the response (Set-Cookie, cache headers), and the
cross-site rules (origin, double submit). Private: the public names live one level up."""
