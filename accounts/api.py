"""API tokens: bearer auth for scripts and notebooks, and the endpoints to issue, list and revoke them."""

from datetime import datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.security import HttpBearer, SessionAuth
from pydantic import Field

from .models import ApiToken


class TokenAuth(HttpBearer):
    """`Authorization: Bearer nb_...`. Needs no CSRF token: a browser never sends it by itself."""

    def authenticate(self, request: HttpRequest, token: str):
        user = ApiToken.user_for(token)
        if user is not None:
            request.user = user
        return user


class CsrfSessionAuth(SessionAuth):
    """The session cookie, with Django's CSRF check on writes, made only when there is a session to protect.

    Ninja's own session auth checks CSRF first, so an anonymous write got 403 "CSRF check Failed"; here a
    request without a logged-in session is simply not authenticated by it, and without a token either it gets
    401. A logged-in session's write without the CSRF token still gets 403.
    """

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)


router = Router(tags=["accounts"])


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100)


class TokenOut(Schema):
    id: int
    name: str
    hint: str
    created: datetime
    last_used: datetime | None
    revoked: datetime | None


class NewToken(TokenOut):
    key: str = Field(description="The token itself, shown only this once.")


@router.get("/tokens", response=list[TokenOut], summary="Your API tokens")
def list_tokens(request: HttpRequest):
    return ApiToken.objects.filter(owner=request.user)


@router.post("/tokens", response={201: NewToken}, summary="Issue an API token (its key is shown only now)")
def create_token(request: HttpRequest, payload: TokenIn):
    token, key = ApiToken.issue(request.user, payload.name)
    return Status(201, {**TokenOut.from_orm(token).model_dump(), "key": key})


@router.delete("/tokens/{token_id}", response={204: None}, summary="Revoke an API token")
def revoke_token(request: HttpRequest, token_id: int):
    token = get_object_or_404(ApiToken, pk=token_id, owner=request.user, revoked__isnull=True)
    token.revoked = timezone.now()
    token.save(update_fields=["revoked"])
    return Status(204, None)
