"""Small, optional helpers that make jwtcookie read natively in each framework.

The core (``jwtcookie``) imports no framework. Each module here imports exactly one, so
``import jwtcookie.contrib.flask`` needs Flask and nothing else:

- :mod:`jwtcookie.contrib.flask`: ``current_user()`` and ``@login_required``.
- :mod:`jwtcookie.contrib.fastapi`: ``Depends(current_user)`` and ``Depends(require_user)``.
- :mod:`jwtcookie.contrib.django`: ``current_user(request)`` and ``@login_required``.
- :mod:`jwtcookie.contrib.starlette`: ``@login_required`` for HTTP and WebSocket endpoints.
"""
