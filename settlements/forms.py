from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from settlements.history import DEFAULT_DAYS, EARLIEST_DAYS

# A settlement file of a very busy account is tens of MB; refuse what cannot be one.
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".txt,.tsv,.csv,.gz"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class UploadForm(forms.Form):
    settlement_files = MultipleFileField(
        label="Settlement files",
        help_text=(
            "In Seller Central: Reports → Payments → All statements → Download flat file (V2). "
            "Several files at once are fine; a file uploaded twice is recognised."
        ),
    )

    def clean_settlement_files(self) -> list[Any]:
        files: list[Any] = self.cleaned_data["settlement_files"]
        for upload in files:
            if (upload.size or 0) > MAX_UPLOAD_BYTES:
                raise forms.ValidationError(
                    f"{upload.name} is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: that "
                    "is not one settlement file."
                )
        return files


class OptionsForm(forms.Form):
    sync_enabled = forms.BooleanField(
        required=False,
        label="Fetch new settlements from Amazon on a schedule",
    )
    split_month_end = forms.BooleanField(
        required=False,
        label="Split settlements at month end",
        help_text="A settlement spanning two months posts as two documents that add up to it.",
    )
    group_by_sku = forms.BooleanField(
        required=False,
        label="One line per SKU",
        help_text="Lines per category and SKU instead of per category.",
    )


class ImportRangeForm(forms.Form):
    """The days whose settlements a check reads (UTC days, both included; by the day each
    settlement ended)."""

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
    too_old = False  # the range starts before what Amazon's Reports API still keeps

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")  # the labels read exactly "From" and "To"
        super().__init__(*args, **kwargs)

    @staticmethod
    def defaults(today: date | None = None) -> dict[str, date]:
        today = today or timezone.now().date()
        return {"start": today - timedelta(days=DEFAULT_DAYS), "end": today}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        today = timezone.now().date()
        if start and end:
            if start > end:
                raise forms.ValidationError("The first day must not be after the last day.")
            if end > today:
                raise forms.ValidationError("The last day cannot be in the future.")
            earliest = today - timedelta(days=EARLIEST_DAYS)
            if start < earliest:
                self.too_old = True
                raise forms.ValidationError(
                    "Amazon's Reports API keeps settlement reports for 90 days, so a check can "
                    f"start on {earliest.day} {earliest:%B %Y} at the earliest. For older "
                    "settlements, download their files in Seller Central and upload them on the "
                    "settlements page."
                )
        return data

    def window(self) -> tuple[datetime, datetime]:
        """[start 00:00 UTC, the day after end 00:00 UTC)."""
        start = datetime.combine(self.cleaned_data["start"], time(), tzinfo=UTC)
        end = datetime.combine(self.cleaned_data["end"] + timedelta(days=1), time(), tzinfo=UTC)
        return start, end
