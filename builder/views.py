from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import ensure_csrf_cookie

from .models import Network


# Both pages write through the JSON API, whose POST/PATCH/DELETE need the CSRF cookie to exist.
@login_required
@ensure_csrf_cookie
def home(request):
    return render(request, "builder/home.html", {"networks": request.user.networks.all()})


@login_required
@ensure_csrf_cookie
def editor(request, network_id: int):
    """The visual editor of one network; another user's network is a 404, as a missing one."""
    network = get_object_or_404(Network, id=network_id, owner=request.user)
    return render(request, "builder/editor.html", {
        "network": network,
        "editor_data": {"id": network.id, "name": network.name, "version": network.version,
                        "graph": network.graph},
    })
