from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .graph.examples import EXAMPLES


@login_required
def home(request):
    return render(request, "builder/home.html",
                  {"networks": request.user.networks.all(), "examples": EXAMPLES.values()})
