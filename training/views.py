from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie

from builder.models import Network

from . import shares


@login_required
@ensure_csrf_cookie  # the page's scripts send it back as X-CSRFToken on every API write
def dashboard(request, network_id: int):
    """The training dashboard of one of the user's networks; `?run=<id>` selects one of its runs."""
    network = get_object_or_404(Network, pk=network_id, owner=request.user)
    wanted = request.GET.get("run", "")
    # A stale or mistyped run id is ignored rather than refused: the page then shows the latest run.
    run_id = network.runs.filter(pk=int(wanted)).values_list("pk", flat=True).first() \
        if wanted.isascii() and wanted.isdigit() else None
    page = {"network_id": network.pk, "run_id": run_id, "editor_url": f"/networks/{network.pk}/"}
    return render(request, "training/dashboard.html", {"network": network, "page": page})


@never_cache
def shared(request, token: str):
    """A share link's read-only page, for anyone who has the link; a wrong or revoked one is a 404."""
    link = shares.opened(token)
    response = render(request, "training/shared.html", {"share": shares.page(link)})
    # The token is in this page's address: no referrer carries it off to a link's target, no index keeps it.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response
