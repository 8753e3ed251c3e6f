from __future__ import annotations

from django.contrib import admin

from hub.models import Customer, Membership


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Membership
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "code", "created_at")
    search_fields = ("name", "code")
    inlines = [MembershipInline]
