from django.http import HttpResponse
from django.urls import path

app_name = "builder"


def home(request):  # placeholder until the pages land
    return HttpResponse("Network builder")


urlpatterns = [path("", home, name="home")]
