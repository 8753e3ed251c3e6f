from __future__ import annotations

from typing import Any

from django import forms

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
