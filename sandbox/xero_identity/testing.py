"""Drive the sandbox's Xero consent over HTTP, as a browser would (for tests and benchmarks).

``consent(http, authorize_url, email=...)`` opens the authorize page, signs in as the sandbox
Xero user with that e-mail, ticks organisations and presses Allow access (or Cancel), and returns
the URL Xero sends the browser back to. It reads the real HTML forms (CSRF token included), so a
broken page breaks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


@dataclass
class Form:
    action: str = ""
    fields: list[tuple[str, str]] = field(default_factory=list)  # hidden and text inputs
    checkboxes: list[tuple[str, str, bool]] = field(default_factory=list)  # name, value, checked
    options: dict[str, list[tuple[str, str]]] = field(
        default_factory=dict
    )  # select -> (value, text)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # name, value, label


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._select: str | None = None
        self._option: str | None = None
        self._button: tuple[str, str] | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(action=a.get("action", "")))
        if not self.forms:
            return
        form = self.forms[-1]
        if tag == "input" and a.get("name"):
            if a.get("type") == "checkbox":
                form.checkboxes.append((a["name"], a.get("value", "on"), "checked" in a))
            elif a.get("type") not in ("submit", "button"):
                form.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = a.get("name", "")
            form.options[self._select] = []
        elif tag == "option" and self._select is not None:
            self._option, self._text = a.get("value", ""), ""
        elif tag == "button":
            self._button, self._text = (a.get("name", ""), a.get("value", "")), ""

    def handle_data(self, data: str) -> None:
        self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self._select is not None and self._option is not None:
            self.forms[-1].options[self._select].append((self._option, self._text.strip()))
            self._option = None
        elif tag == "select":
            self._select = None
        elif tag == "button" and self._button is not None:
            self.forms[-1].buttons.append((*self._button, " ".join(self._text.split())))
            self._button = None


def parse_forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


class ConsentError(AssertionError):
    pass


def _form_with(html: str, action: str) -> Form:
    for form in parse_forms(html):
        if any(value == action for _, value, _ in form.buttons):
            return form
    raise ConsentError(f"no form with a {action!r} button on the page:\n{html[:2000]}")


def consent(
    http: requests.Session,
    authorize_url: str,
    *,
    email: str,
    tenant_ids: list[str] | None = None,
    action: str = "allow",
    timeout: float = 10,
) -> str:
    """Go through sign-in and consent; returns the redirect to the app (``Location``).

    ``tenant_ids`` None keeps the page's own ticks, and ticks the first organisation when
    nothing is ticked. ``action`` is ``allow`` or ``cancel``.
    """
    page = http.get(authorize_url, allow_redirects=False, timeout=timeout)
    if page.status_code in (302, 303):
        return page.headers["Location"]
    if page.status_code != 200:
        raise ConsentError(f"authorize page answered {page.status_code}: {page.text[:500]}")
    url = page.url
    for _ in range(3):
        buttons = {b[1] for f in parse_forms(page.text) for b in f.buttons}
        if "signout" in buttons and f"({email})" not in page.text:
            form = _form_with(page.text, "signout")
            data = [*form.fields, ("action", "signout")]
        elif "signin" in buttons:
            form = _form_with(page.text, "signin")
            users = form.options["xero_user"]
            matches = [value for value, text in users if f"({email})" in text]
            if not matches:
                raise ConsentError(f"no sandbox Xero user {email}: {users}")
            data = [*form.fields, ("xero_user", matches[0]), ("action", "signin")]
        else:
            break
        moved = http.post(
            urljoin(url, form.action), data=data, allow_redirects=False, timeout=timeout
        )
        if moved.status_code != 303:
            raise ConsentError(f"sign-in answered {moved.status_code}: {moved.text[:500]}")
        page = http.get(urljoin(url, moved.headers["Location"]), timeout=timeout)
        url = page.url
    form = _form_with(page.text, action)
    data = list(form.fields)
    if action == "allow":
        if tenant_ids is None:
            chosen = [value for _, value, checked in form.checkboxes if checked]
            chosen = chosen or [form.checkboxes[0][1]]
        else:
            chosen = tenant_ids
        data += [("tenant", t) for t in chosen]
    data.append(("action", action))
    answer = http.post(urljoin(url, form.action), data=data, allow_redirects=False, timeout=timeout)
    if answer.status_code != 302:
        raise ConsentError(f"consent answered {answer.status_code}: {answer.text[:1000]}")
    return answer.headers["Location"]
