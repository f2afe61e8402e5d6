"""Log in through the real pages; each role lands on its own start page, in Chinese."""

import pytest
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

START_PAGES = {
    "teller": "tickets:mine",
    "county": "tickets:queue",
    "city": "tickets:queue",
    "dispatcher": "tickets:triage",
    "member": "tickets:group_board",
    "lead": "tickets:group_board",
    "operator": "alerts:board",
    "manager": "reports:index",
    "admin": "admin:index",
}


def test_login_page_is_in_chinese(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "登录" in body
    assert 'lang="zh-hans"' in body


def test_anonymous_home_goes_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", sorted(START_PAGES))
def test_each_role_lands_on_its_start_page(client, org, who):
    person = org.people[who]
    response = client.post(reverse("login"), {"username": person.username, "password": PASSWORD}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse(START_PAGES[who])
    body = response.content.decode()
    if who != "admin":
        assert f'data-nav="{START_PAGES[who]}"' in body  # the start page is linked from the nav
        assert "退出" in body  # logout, in Chinese


def test_wrong_password_says_so_in_chinese(client, org):
    response = client.post(reverse("login"), {"username": "teller1", "password": "nope"})
    assert response.status_code == 200
    assert "不匹配" in response.content.decode()


def test_logout_ends_the_session(client, org):
    client.force_login(org.people["teller"])
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_english_is_available(client, org):
    client.force_login(org.people["teller"])
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    body = client.get(reverse("tickets:mine")).content.decode()
    assert "My requests" in body


def test_person_without_a_role_is_told_so(client, org):
    from tests.factories import make_person

    client.force_login(make_person(org.cities[0]))
    response = client.get("/")
    assert response.status_code == 200
    assert "管理员" in response.content.decode()


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"
