"""The desk behind a real nginx terminating TLS, as a bank runs it: deploy/nginx/opsdesk.conf (its
name, certificate, ports and upstream replaced) in front of gunicorn with the production defaults
(DJANGO_DEBUG false, HTTPS on, a real secret key, OPSDESK_TRUSTED_PROXIES=127.0.0.1) against this
test's PostgreSQL database. A teller logs in over HTTPS, uses a page, files a request through the
API with the session and uploads an attachment with a token; cookies are Secure, HSTS is sent; a
client reaching gunicorn directly from an untrusted address cannot claim HTTPS; probes are not
redirected.

nginx runs unprivileged-style: its prefix, pid, logs and temp paths are all in the test's folder.
deploy/local/install-nginx.sh (called by `make services`) installs nginx and openssl.
"""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from django.db import connection

from tests.helpers import wait_for
from tests.project.stack import Stack, database_url, free_port
from tests.project.test_secure_settings import production_env
from tests.tickets.helpers import FAULT_DATA, ensure_types

# The deployment stack (nginx, an offline install, pg_dump/pg_restore, an S3 server): `make test`, not `make check`.
pytestmark = pytest.mark.deploy

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "deploy" / "nginx" / "opsdesk.conf"
HOST = "localhost"  # the certificate's name and DJANGO_ALLOWED_HOSTS
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
UNTRUSTED_PEER = "127.0.0.2"  # also loopback, but not in OPSDESK_TRUSTED_PROXIES


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "desk.crt", folder / "desk.key"
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.fail("openssl is not installed: run `make services` (deploy/local/install-nginx.sh)")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={HOST}",
                    "-addext", f"subjectAltName=DNS:{HOST},IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def render_site(cert: Path, key: Path, tls_port: int, http_port: int, web_port: int) -> str:
    """The shipped site file with this machine's values; every value it must carry is checked to be there,
    so the example cannot drift away from what is tested."""
    text = SITE.read_text()
    for old, new, count in (
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{web_port};", 1),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{tls_port} ssl http2;", 1),
        ("listen 80;", f"listen 127.0.0.1:{http_port};", 1),
        ("server_name desk.bank.example;", f"server_name {HOST};", 2),
        ("/etc/nginx/tls/desk.bank.example.crt", str(cert), 1),
        ("/etc/nginx/tls/desk.bank.example.key", str(key), 1),
    ):
        assert text.count(old) == count, f"{SITE.name} no longer has {old!r}"
        text = text.replace(old, new)
    return text


def nginx_conf(folder: Path, site: Path) -> Path:
    """A main nginx.conf that keeps everything nginx writes inside `folder`."""
    # As root, nginx's workers would run as nobody, who cannot enter pytest's private tmp folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = folder / "nginx.conf"
    conf.write_text(f"""{user}worker_processes 1;
pid {folder / 'nginx.pid'};
error_log {folder / 'error.log'} warn;
events {{ worker_connections 256; }}
http {{
    access_log {folder / 'access.log'};
{temp}
    include {site};
}}
""")
    return conf


def direct(port: int, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    """A plain-HTTP request straight to gunicorn from an address that is not a trusted proxy."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(UNTRUSTED_PEER, 0))
    conn.request("GET", path, headers={"Host": HOST, **headers})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


@pytest.mark.django_db(transaction=True)
def test_login_pages_and_api_over_https_through_nginx(org, password, settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.fail("gunicorn here runs against the test's PostgreSQL database: run it with `make test`")
    if not Path(NGINX).exists():
        pytest.fail("nginx is not installed: run `make services` (deploy/local/install-nginx.sh)")
    # The gunicorn process verifies passwords with the production hashers, not the suite's fast one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    teller = org.people["teller"]
    teller.set_password(password)
    teller.save()
    ensure_types()
    from knox.models import AuthToken

    token = AuthToken.objects.create(user=teller)[1]

    folder = tmp_path / "nginx"
    folder.mkdir()
    cert, key = self_signed_certificate(folder)
    web_port, tls_port, http_port = free_port(), free_port(), free_port()
    site = folder / "opsdesk.conf"
    site.write_text(render_site(cert, key, tls_port, http_port, web_port))
    conf = nginx_conf(folder, site)
    desk = f"https://{HOST}:{tls_port}"

    stack = Stack(tmp_path / "stack", {})
    stack.env = production_env(tmp_path, DATABASE_URL=database_url(connection.settings_dict),
                               DJANGO_ALLOWED_HOSTS=HOST, DJANGO_DEBUG="false", OPSDESK_TRUSTED_PROXIES="127.0.0.1",
                               CELERY_BROKER_URL=None, PYTHONUNBUFFERED="1")
    try:
        stack.web(web_port, workers=2)
        stack.start("nginx", [NGINX, "-p", str(folder), "-c", str(conf), "-e", str(folder / "error.log"),
                              "-g", "daemon off;"])
        browser = client(cert)
        wait_for(lambda: _answers(browser, f"{desk}/healthz"), 60, lambda: f"nginx and gunicorn\n{stack.logs()}")

        # --- log in over HTTPS with the form's CSRF token and the browser's Origin -------------------
        login = browser.get(f"{desk}/accounts/login/", timeout=30)
        assert login.status_code == 200 and "登录" in login.text
        assert login.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        origin = {"Origin": desk, "Referer": f"{desk}/accounts/login/"}
        form = {"username": teller.username, "password": password,
                "csrfmiddlewaretoken": browser.cookies["csrftoken"]}
        forged = client(cert).post(f"{desk}/accounts/login/", data=form,
                                   cookies={"csrftoken": browser.cookies["csrftoken"]},
                                   headers={"Origin": "https://evil.example"}, allow_redirects=False, timeout=30)
        assert forged.status_code == 403, "a form posted from another origin is refused"
        signed_in = browser.post(f"{desk}/accounts/login/", data=form, headers=origin, allow_redirects=False,
                                 timeout=30)
        assert signed_in.status_code == 302, signed_in.text[:500]
        assert signed_in.headers["Location"] == "/"
        cookies = {cookie.name: cookie for cookie in browser.cookies}
        assert cookies["sessionid"].secure and cookies["csrftoken"].secure
        assert "HttpOnly" in signed_in.headers["Set-Cookie"]

        # --- a page -------------------------------------------------------------------------------
        start = browser.get(f"{desk}/", timeout=30)
        assert start.status_code == 200
        assert start.url == f"{desk}/tickets/mine/"  # the teller's start page, every hop over https
        assert all(hop.headers["Location"].startswith(("/", desk)) for hop in start.history)
        assert "退出" in start.text
        assert start.headers["Strict-Transport-Security"]

        # --- the API with the session (CSRF over HTTPS) and with a token ------------------------------
        me = browser.get(f"{desk}/api/me/", timeout=30)
        assert me.status_code == 200 and me.json()["username"] == teller.username
        filed = browser.post(f"{desk}/api/requests/", json={
            "type": "fault_report", "subject": "存款交易报错", "system": org.systems[0].pk, "data": FAULT_DATA},
            headers={**origin, "X-CSRFToken": browser.cookies["csrftoken"]}, timeout=30)
        assert filed.status_code == 201, filed.text
        request_id = filed.json()["id"]
        api = client(cert)
        api.headers["Authorization"] = f"Token {token}"
        listed = api.get(f"{desk}/api/requests/", timeout=30)
        assert listed.status_code == 200
        assert [row["id"] for row in listed.json()["results"]] == [request_id]
        # An attachment larger than nginx's default 1 MB body limit passes (client_max_body_size).
        log = b"2026-11-20 09:30:01 ERROR E1021 account state\n" * 100_000  # 4.6 MB
        uploaded = api.post(f"{desk}/api/requests/{request_id}/attachments/",
                            files={"file": ("teller.log", log, "text/plain")}, timeout=60)
        assert uploaded.status_code == 201, uploaded.text[:500]
        download = browser.get(f"{desk}{uploaded.json()['download_url']}", timeout=60)
        assert download.status_code == 200 and download.content == log

        # --- plain http ----------------------------------------------------------------------------
        # To nginx: sent to https.
        typed = client(cert).get(f"http://{HOST}:{http_port}/tickets/mine/", allow_redirects=False, timeout=30)
        assert typed.status_code == 301 and typed.headers["Location"] == f"https://{HOST}/tickets/mine/"
        # Straight to gunicorn from an untrusted address, claiming HTTPS: not believed, sent to https.
        claimed = direct(web_port, "/accounts/login/", {"X-Forwarded-Proto": "https"})
        assert claimed.status == 301 and claimed.headers["Location"] == f"https://{HOST}/accounts/login/"
        assert claimed.headers["Strict-Transport-Security"] is None
        # Probes over plain HTTP are answered, not redirected.
        assert direct(web_port, "/healthz", {}).status == 200
        assert direct(web_port, "/readyz", {}).status == 200
        print(f"\nnginx {tls_port}/tcp TLS → gunicorn {web_port}/tcp: login {signed_in.status_code} → "
              f"{start.url} {start.status_code}; Strict-Transport-Security: {login.headers['Strict-Transport-Security']}; "
              f"Secure cookies: {sorted(name for name, c in cookies.items() if c.secure)}; "
              f"API session {me.status_code}/{filed.status_code}, token {listed.status_code}, "
              f"attachment {len(log):,} B {uploaded.status_code}; forged origin {forged.status_code}; "
              f"http→nginx {typed.status_code}; X-Forwarded-Proto from {UNTRUSTED_PEER} {claimed.status}; "
              f"/healthz over http {direct(web_port, '/healthz', {}).status}")
    except BaseException:
        print(stack.logs())
        print((folder / "error.log").read_text(errors="replace") if (folder / "error.log").exists() else "")
        raise
    finally:
        stack.stop_all(timeout=30)
        stack.cleanup()


def _answers(session: requests.Session, url: str) -> bool:
    try:
        return session.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def client(cert: Path) -> requests.Session:
    """A browser that trusts the test's certificate, and only it (not REQUESTS_CA_BUNDLE or proxies
    from the environment, which would take precedence over Session.verify)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(cert)
    return session
