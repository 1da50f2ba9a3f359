from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from builder.models import Network


@login_required
def dashboard(request, network_id: int):
    """The training dashboard of one network (placeholder until the page lands)."""
    network = get_object_or_404(Network, pk=network_id, owner=request.user)
    return render(request, "training/dashboard.html", {"network": network})
