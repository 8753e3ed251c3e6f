from __future__ import annotations

from django import forms


class WorkspaceForm(forms.Form):
    name = forms.CharField(
        max_length=200,
        label="Workspace name",
        help_text="Usually your business name. You can connect several Amazon accounts to it.",
    )

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the workspace a name, e.g. your business name.")
        return name
