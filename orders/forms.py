from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from orders.models import AccountingMode


class ModeForm(forms.Form):
    mode = forms.ChoiceField(
        label="Accounting mode", choices=AccountingMode.choices, widget=forms.RadioSelect
    )
    since = forms.DateField(
        label="Per order from",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Orders purchased on or after this day get an invoice each.",
    )
    contact_per_buyer = forms.BooleanField(
        label="A Xero contact per buyer (when Amazon shares buyer details)", required=False
    )
    create_items = forms.BooleanField(
        label="Create a Xero Item for each SKU that has none", required=False
    )


class BackfillForm(forms.Form):
    start = forms.DateField(
        label="From", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label="To", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    @staticmethod
    def defaults() -> dict[str, date]:
        today = timezone.now().date()
        return {"start": today - timedelta(days=30), "end": today}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        today = timezone.now().date()
        if start and end:
            if end < start:
                raise forms.ValidationError("The end of the range is before its start.")
            if end > today:
                raise forms.ValidationError("The range cannot end in the future.")
            if start < today - timedelta(days=730):
                raise forms.ValidationError(
                    "Amazon's Orders API keeps two years of orders: start within the last two "
                    "years."
                )
        return data
