"""A user's preferences (the theme): read for every page, changed through the API."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _

from chat.apiutil import ApiError, api, json_body
from chat.models import Preferences


def theme_of(user: Any) -> str:
    """The theme a page is drawn in for `user`: "system" unless they chose one."""
    if not getattr(user, "is_authenticated", False):
        return Preferences.Theme.SYSTEM
    found = Preferences.objects.filter(user=user).values_list("theme", flat=True).first()
    return found or Preferences.Theme.SYSTEM


def _as_dict(user: Any) -> dict[str, str]:
    return {"theme": theme_of(user)}


@api("GET", "PATCH")
def preferences(request: HttpRequest, user: Any) -> JsonResponse:
    """GET: the user's preferences. PATCH `{"theme": "system" | "light" | "dark"}`."""
    if request.method == "PATCH":
        data = json_body(request)
        if "theme" in data:
            theme = data["theme"]
            if theme not in Preferences.Theme.values:
                choices = ", ".join(f"“{v}”" for v in Preferences.Theme.values)
                raise ApiError(_("The theme must be one of %(choices)s.") % {"choices": choices})
            Preferences.objects.update_or_create(user=user, defaults={"theme": theme})
    return JsonResponse(_as_dict(user))
