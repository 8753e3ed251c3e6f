from __future__ import annotations

from typing import Any, cast

from django import forms

from connectors.models import XeroTenant
from connectors.providers import BUSINESS_REGIONS, SP_REGIONS


class TenantChoiceForm(forms.Form):
    tenant_id = forms.ChoiceField(label="Xero organisation", widget=forms.RadioSelect)

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["tenant_id"]).choices = choices
        if len(choices) == 1:
            self.fields["tenant_id"].initial = choices[0][0]


class AmazonAccountForm(forms.Form):
    region = forms.ChoiceField(label="Region")
    name = forms.CharField(
        label="Name for this account",
        max_length=100,
        help_text="How the account appears in Ledgerbridge, e.g. “Amazon Europe”.",
    )
    tenant = forms.ModelChoiceField(
        queryset=XeroTenant.objects.none(),
        required=False,
        label="Post into Xero organisation",
        empty_label=None,
    )

    def __init__(
        self, *args: Any, business: bool, tenants: list[XeroTenant] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        regions = BUSINESS_REGIONS if business else SP_REGIONS
        cast(forms.ChoiceField, self.fields["region"]).choices = [
            (r.code, f"{r.name} ({r.marketplaces})") for r in regions.values()
        ]
        if business:
            cast(
                "forms.ModelChoiceField[XeroTenant]", self.fields["tenant"]
            ).queryset = XeroTenant.objects.filter(pk__in=[t.pk for t in tenants or []])
            self.fields["tenant"].required = True
        else:
            del self.fields["tenant"]

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the account a name, e.g. “Amazon Europe”.")
        return name


class MarketplacesForm(forms.Form):
    marketplaces = forms.MultipleChoiceField(
        label="Marketplaces to sync",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one marketplace to sync."},
    )
    tenant = forms.ModelChoiceField(
        queryset=XeroTenant.objects.none(), empty_label=None, label="Post into Xero organisation"
    )

    def __init__(
        self,
        *args: Any,
        marketplaces: list[dict[str, str]],
        tenants: list[XeroTenant],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.MultipleChoiceField, self.fields["marketplaces"]).choices = [
            (m["id"], f"{m['name']} ({m['country']}, {m['currency']})") for m in marketplaces
        ]
        cast(
            "forms.ModelChoiceField[XeroTenant]", self.fields["tenant"]
        ).queryset = XeroTenant.objects.filter(pk__in=[t.pk for t in tenants])
        if not tenants:
            self.fields["tenant"].error_messages["required"] = "Connect a Xero organisation first."
