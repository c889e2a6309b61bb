"""Who may use the app: anyone on this machine when the server listens on the loopback address (the default,
``.streamlit/config.toml``); when it listens on another address, only people logged in through Streamlit's
built-in authentication (``st.login``, OpenID Connect, configured under ``[auth]`` in ``.streamlit/secrets.toml``),
unless the operator opts out explicitly with ``STRATEGIST_ALLOW_ANONYMOUS=1``. Otherwise every page shows why
it is refused and how to configure it, and serves nothing else.
"""

from __future__ import annotations

import ipaddress
import os

ANONYMOUS_ENV = "STRATEGIST_ALLOW_ANONYMOUS"

REFUSED = ("This server listens on {address}, beyond this machine, and no login is configured: it serves "
           "nothing. Configure Streamlit's authentication ([auth] in .streamlit/secrets.toml), or set "
           "STRATEGIST_ALLOW_ANONYMOUS=1 to allow anyone who can reach it, or listen on 127.0.0.1.")


def is_loopback(address: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``; an empty address means every interface (False)."""
    if not address:
        return False
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def mode(address: str | None, auth_configured: bool, environ=None) -> str:
    """``"local"`` (loopback: open), ``"login"`` (exposed, login required), ``"anonymous"`` (exposed, the
    operator opted out) or ``"refuse"``."""
    environ = os.environ if environ is None else environ
    if is_loopback(address):
        return "local"
    if auth_configured:
        return "login"
    if environ.get(ANONYMOUS_ENV, "").strip() == "1":
        return "anonymous"
    return "refuse"


def gate() -> bool:
    """Apply :func:`mode` on the page; True when the page may be served."""
    import streamlit as st

    address = st.get_option("server.address")
    try:
        auth_configured = "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file, or a malformed one: no login configured
        auth_configured = False
    how = mode(address, auth_configured)
    if how in ("local", "anonymous"):
        return True
    if how == "refuse":
        st.error(REFUSED.format(address=address or "every interface"))
        return False
    if not st.user.is_logged_in:
        st.title("strategist")
        st.write("Log in to use this server.")
        st.button("Log in", on_click=st.login, type="primary")
        return False
    st.sidebar.button("Log out", on_click=st.logout)
    return True
