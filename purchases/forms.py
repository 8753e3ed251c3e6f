from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from purchases.services import HISTORY_DEFAULT_DAYS, HISTORY_MAX_DAYS


class ImportRangeForm(forms.Form):
    """The historical import's date range (UTC days, both included)."""

    start = forms.DateField(
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="First day",
    )
    end = forms.DateField(
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Last day",
    )

    @staticmethod
    def defaults(today: date | None = None) -> dict[str, date]:
        today = today or timezone.now().date()
        return {"start": today - timedelta(days=HISTORY_DEFAULT_DAYS), "end": today}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        today = timezone.now().date()
        if start and end:
            if start > end:
                raise forms.ValidationError("The first day must not be after the last day.")
            if end > today:
                raise forms.ValidationError("The last day cannot be in the future.")
            if start < today - timedelta(days=HISTORY_MAX_DAYS):
                raise forms.ValidationError(
                    f"Choose a first day within the last {HISTORY_MAX_DAYS} days."
                )
        return data

    def window(self) -> tuple[datetime, datetime]:
        """[start 00:00 UTC, the day after end 00:00 UTC): feedDate is in UTC."""
        start = datetime.combine(self.cleaned_data["start"], time(), tzinfo=UTC)
        end = datetime.combine(self.cleaned_data["end"] + timedelta(days=1), time(), tzinfo=UTC)
        return start, end


class SyncSettingsForm(forms.Form):
    enabled = forms.BooleanField(label="Sync on a schedule", required=False)
    interval_minutes = forms.IntegerField(
        label="Every (minutes)",
        min_value=5,
        max_value=1440,
        help_text="How often new purchases are read from Amazon Business (5 to 1440).",
    )


class CostCentreForm(forms.Form):
    """Cost centre → one tracking option ("Category: Option"), built from the tenant's chart."""

    def __init__(
        self,
        *args: Any,
        cost_centres: list[str],
        options: list[tuple[str, str]],
        current: dict[str, list[list[str]]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.options = options
        choices = [
            ("", "No tracking"),
            *((str(i), f"{c}: {o}") for i, (c, o) in enumerate(options)),
        ]
        self.names: dict[str, str] = {}
        for n, centre in enumerate(cost_centres):
            name = f"cc_{n}"
            self.names[name] = centre
            pairs = [tuple(p) for p in current.get(centre) or []]
            initial = str(options.index(pairs[0])) if pairs and pairs[0] in options else ""
            self.fields[name] = forms.ChoiceField(
                label=centre, choices=choices, required=False, initial=initial
            )

    def mapping(self) -> dict[str, list[list[str]]]:
        result: dict[str, list[list[str]]] = {}
        for name, centre in self.names.items():
            value = self.cleaned_data.get(name) or ""
            if value:
                category, option = self.options[int(value)]
                result[centre] = [[category, option]]
        return result
