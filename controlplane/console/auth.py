"""Logins for the console (flask-login): nothing but the login page is served without a session.

Users and passwords come from settings (``ECOMCTL_CONSOLE_USERS``); passwords are compared in
constant time and never shown or logged. The guard runs before every request, so Dash's own routes
(``/_dash-layout``, ``/_dash-dependencies``, ``/_dash-update-component``, component bundles) are refused
like the pages: a browser is sent to /login, anything else gets 401.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from html import escape
from pathlib import Path
from urllib.parse import urlparse

import flask_bootstrap
from flask import Flask, Response, redirect, request, send_file
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

log = logging.getLogger(__name__)

# Bootswatch "Slate" (dark, no web fonts to fetch), shipped inside bootstrap-flask: no CDN needed.
THEME_PATH = "/theme/bootstrap.min.css"
_THEME_FILE = (
    Path(flask_bootstrap.__file__).parent / "static" / "bootstrap5" / "css" / "bootswatch" / "slate"
    / "bootstrap.min.css"
)
PUBLIC_PATHS = frozenset({"/login", "/healthz", THEME_PATH})


class User(UserMixin):
    def __init__(self, name: str) -> None:
        self.id = name


def _login_page(error: str = "", next_path: str = "/") -> str:
    alert = f'<div class="alert alert-danger py-2">{escape(error)}</div>' if error else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ecomctl console - sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{THEME_PATH}"></head>
<body class="d-flex align-items-center justify-content-center" style="min-height:100vh">
<main class="card shadow" style="width:22rem"><div class="card-body p-4">
<h1 class="h4 mb-1">ecomctl console</h1><p class="text-muted small mb-4">SRE sign in</p>{alert}
<form method="post" action="/login">
<input type="hidden" name="next" value="{escape(next_path)}">
<div class="mb-3"><label class="form-label" for="username">User</label>
<input class="form-control" id="username" name="username" autocomplete="username" required autofocus></div>
<div class="mb-3"><label class="form-label" for="password">Password</label>
<input class="form-control" id="password" name="password" type="password" autocomplete="current-password"
 required></div>
<button class="btn btn-primary w-100" id="login-button" type="submit">Sign in</button>
</form></div></main></body></html>"""


def _safe_next(target: str | None) -> str:
    """Only same-site paths: a login must not redirect anywhere else."""
    if not target:
        return "/"
    parsed = urlparse(target)
    return target if not parsed.scheme and not parsed.netloc and target.startswith("/") else "/"


def check_password(credentials: Mapping[str, str], name: str, password: str) -> bool:
    expected = credentials.get(name)
    # Compare even for an unknown user, so timing does not tell which names exist.
    ok = hmac.compare_digest((expected or "\0").encode(), password.encode())
    return expected is not None and ok


def install(server: Flask, credentials: Mapping[str, str]) -> None:
    """Add the login/logout views, /healthz and the session guard to the console's Flask server."""
    manager = LoginManager()
    manager.init_app(server)

    @manager.user_loader
    def load_user(name: str) -> User | None:
        return User(name) if name in credentials else None

    @server.before_request
    def guard() -> Response | tuple[str, int] | None:
        if request.path in PUBLIC_PATHS or current_user.is_authenticated:
            return None
        if request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
            return redirect(f"/login?next={request.path}")  # type: ignore[return-value]
        return "login required", 401

    @server.get(THEME_PATH)
    def theme() -> Response:
        return send_file(_THEME_FILE, mimetype="text/css", max_age=3600)

    @server.get("/healthz")
    def healthz() -> tuple[str, int]:
        return "ok", 200

    @server.route("/login", methods=["GET", "POST"])
    def login() -> Response | tuple[str, int] | str:
        if request.method == "GET":
            return _login_page(next_path=_safe_next(request.args.get("next")))
        name = request.form.get("username", "")
        password = request.form.get("password", "")
        next_path = _safe_next(request.form.get("next"))
        if not check_password(credentials, name, password):
            log.warning("console login refused for user %r", name)
            return _login_page("Unknown user or wrong password.", next_path), 401
        login_user(User(name))
        log.info("console login: user %r", name)
        return redirect(next_path)  # type: ignore[return-value]

    @server.get("/logout")
    def logout() -> Response:
        logout_user()
        return redirect("/login")  # type: ignore[return-value]
