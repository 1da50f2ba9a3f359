from django.contrib import admin
from django.urls import include, path

from . import views
from .api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", api.urls),
    path("", include("training.urls")),
    path("", include("builder.urls")),
]
