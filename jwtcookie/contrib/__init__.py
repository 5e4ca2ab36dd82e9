"""Small, optional helpers that make jwtcookie read natively in each framework.

The core (``jwtcookie``) imports no framework. Each module here imports exactly one, so
``import jwtcookie.contrib.flask`` needs Flask and nothing else:

- :mod:`jwtcookie.contrib.flask`: the ``JWTCookie`` extension, ``current_user`` (a proxy, in
  templates too) and ``@login_required``.
- :mod:`jwtcookie.contrib.fastapi`: the cookie as an OpenAPI security scheme (``JWTCookie``),
  and the ``Auth``, ``CurrentUser`` and ``RequiredUser`` dependencies.
- :mod:`jwtcookie.contrib.django`: a ``settings.MIDDLEWARE`` entry that sets ``request.user``,
  ``login``/``logout``, system checks; :mod:`jwtcookie.contrib.drf` and
  :mod:`jwtcookie.contrib.ninja` authenticate DRF and Django Ninja views (each imports its own).
- :mod:`jwtcookie.contrib.starlette`: ``@login_required`` for HTTP and WebSocket endpoints.
"""
