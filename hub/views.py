from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from hub.forms import WorkspaceForm
from hub.tenancy import customer_create, customer_for_request, customers_for_user


def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "hub/landing.html")


@login_required
def app_home(request: HttpRequest) -> HttpResponse:
    """Where a signed-in user lands: their workspace, a choice of several, or a new one."""
    customers = customers_for_user(request.user)
    if len(customers) == 1:
        return redirect("workspace", code=customers[0].code)
    if not customers:
        return redirect("workspace-new")
    return render(request, "hub/workspaces.html", {"customers": customers})


@login_required
@require_http_methods(["GET", "POST"])
def workspace_new(request: HttpRequest) -> HttpResponse:
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)  # login_required
        customer = customer_create(name=form.cleaned_data["name"], owner=request.user)
        return redirect("workspace", code=customer.code)
    return render(request, "hub/workspace_new.html", {"form": form})


@login_required
def workspace(request: HttpRequest, code: str) -> HttpResponse:
    access = customer_for_request(request, code)
    members = access.customer.memberships.select_related("user").order_by("role", "user__email")
    return render(
        request,
        "hub/workspace.html",
        {"customer": access.customer, "access": access, "members": members},
    )
