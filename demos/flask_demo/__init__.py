"""Flask demo of jwtcookie: `python -m demos.flask_demo`; the app is `app.app`."""
