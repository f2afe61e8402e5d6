"""Attachments on S3-compatible object storage (OPSDESK_STORAGE=s3), the shape of an on-premises object store.

The store is moto's S3 server, started as a real HTTP server on loopback (`moto_server`): the desk talks to
it through django-storages and boto3 exactly as it would to MinIO or Ceph. The settings are built by the
settings module itself from the OPSDESK_S3_* variables, so what is tested is what an operator configures.
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.helpers import wait_for
from tests.project.stack import free_port
from tests.tickets.helpers import file_fault_report

# The deployment stack (nginx, an offline install, pg_dump/pg_restore, an S3 server): `make test`, not `make check`.
pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
BUCKET = "opsdesk-attachments"
# A public grant names one of these groups; a private object has none.
PUBLIC_GROUPS = {"http://acs.amazonaws.com/groups/global/AllUsers",
                 "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"}


def settings_from_env(monkeypatch, **env: str) -> dict:
    """The settings module run afresh with these variables (as a process started with them would)."""
    for name in list(os.environ):
        if name.startswith(("OPSDESK_S3_", "OPSDESK_STORAGE")):
            monkeypatch.delenv(name)
    for name, val in env.items():
        monkeypatch.setenv(name, val)
    return runpy.run_path(str(ROOT / "opsdesk" / "settings.py"))


@pytest.fixture
def s3_server(tmp_path):
    port = free_port()
    log = (tmp_path / "moto.log").open("wb")
    proc = subprocess.Popen([str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "AWS_ACCESS_KEY_ID": "opsdesk", "AWS_SECRET_ACCESS_KEY": "x"})
    endpoint = f"http://127.0.0.1:{port}"

    def answers():
        try:
            return requests.get(endpoint, timeout=1).status_code < 500
        except requests.ConnectionError:
            return proc.poll() is not None  # died: fail below with its log

    try:
        wait_for(answers, timeout=30, message="moto_server to answer")
        assert proc.poll() is None, (tmp_path / "moto.log").read_text()
        yield proc, endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture
def s3_storage(s3_server, settings, monkeypatch):
    """The desk configured for the object store, and a boto3 client that looks into the bucket."""
    proc, endpoint = s3_server
    env = {"OPSDESK_STORAGE": "s3", "OPSDESK_S3_BUCKET": BUCKET, "OPSDESK_S3_ENDPOINT_URL": endpoint,
           "OPSDESK_S3_ACCESS_KEY_ID": "opsdesk", "OPSDESK_S3_SECRET_ACCESS_KEY": "opsdesk-secret",
           "OPSDESK_S3_REGION": "us-east-1", "OPSDESK_S3_PREFIX": "attachments"}
    configured = settings_from_env(monkeypatch, **env)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="opsdesk",
                          aws_secret_access_key="opsdesk-secret")
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = configured["STORAGES"]
    return proc, client


@pytest.mark.django_db
def test_an_attachment_filed_through_the_api_lives_in_the_bucket_privately(org, api_client_for, s3_storage):
    from tickets.models import Attachment

    _, client = s3_storage
    request = file_fault_report(org)
    teller = api_client_for(org.people["teller"])
    uploaded = teller.post(f"/api/requests/{request.pk}/attachments/",
                           {"file": SimpleUploadedFile("柜面截图.png", PNG, content_type="image/png")},
                           format="multipart")
    assert uploaded.status_code == 201, uploaded.content

    # The object is in the bucket under the prefix, a random name, private.
    key = "attachments/" + Attachment.objects.get().file.name
    assert key.startswith("attachments/requests/") and "柜面截图" not in key
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == [key]
    assert client.get_object(Bucket=BUCKET, Key=key)["Body"].read() == PNG
    grants = client.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
    assert grants and not [g for g in grants if g["Grantee"].get("URI") in PUBLIC_GROUPS]

    # The county centre reads it back through the scoped view, never a URL of the store.
    county = api_client_for(org.people["county"])
    listed = county.get(f"/api/requests/{request.pk}/attachments/").json()
    assert listed[0]["download_url"].startswith(f"/api/requests/{request.pk}/attachments/")
    download = county.get(listed[0]["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert download["Content-Disposition"].startswith("attachment")
    # Someone outside the request's scope gets nothing, from the store as from the desk.
    assert api_client_for(org.people["county_other"]).get(listed[0]["download_url"]).status_code == 404


@pytest.mark.django_db
def test_a_page_download_reads_from_the_bucket_and_a_store_that_is_down_answers_503(org, client, password,
                                                                                   s3_storage):
    from tickets import services

    proc, s3 = s3_storage
    request = file_fault_report(org)
    attachment = services.request_attachment_add(
        request=request, uploader=org.people["teller"],
        upload=SimpleUploadedFile("日志.txt", "交易日志 E1021\n".encode(), content_type="text/plain"))
    client.force_login(org.people["county"])
    url = reverse("tickets:download", args=[request.pk, attachment.pk])
    page = client.get(url)
    assert page.status_code == 200 and b"".join(page.streaming_content) == "交易日志 E1021\n".encode()

    # An object missing from the bucket is a 404, not a 500.
    s3.delete_object(Bucket=BUCKET, Key="attachments/" + attachment.file.name)
    assert client.get(url).status_code == 404

    # The store goes away: a clear 503 with Retry-After, not a 500.
    proc.terminate()
    proc.wait(timeout=30)
    down = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert down.status_code == 503 and down["Retry-After"]
    assert "文件存储" in down.content.decode()


@pytest.mark.parametrize(("env", "named"), [
    ({"OPSDESK_STORAGE": "s3"}, "OPSDESK_S3_BUCKET"),
    ({"OPSDESK_STORAGE": "nfs"}, "OPSDESK_STORAGE"),
    ({"OPSDESK_STORAGE": "s3", "OPSDESK_S3_BUCKET": "b", "OPSDESK_S3_ADDRESSING_STYLE": "dns"},
     "OPSDESK_S3_ADDRESSING_STYLE"),
    ({"OPSDESK_STORAGE": "s3", "OPSDESK_S3_BUCKET": "b", "OPSDESK_S3_VERIFY": "/etc/no-such-ca.pem"},
     "OPSDESK_S3_VERIFY"),
    ({"OPSDESK_STORAGE": "s3", "OPSDESK_S3_BUCKET": "b", "OPSDESK_S3_ACCESS_KEY_ID": "AKIA"},
     "OPSDESK_S3_SECRET_ACCESS_KEY"),
])
def test_a_misconfigured_store_stops_the_desk_with_one_line_naming_the_variable(env, named):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPSDESK_S3_", "OPSDESK_STORAGE"))}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, env={**clean, **env})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0] and "Traceback" not in result.stderr, result.stderr
