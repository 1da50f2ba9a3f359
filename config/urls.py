from django.contrib import admin
from django.urls import include, path

from accounts.api import router as accounts_api
from builder.api import api
from training.api import router as training_api

from . import views

api.add_router("", training_api)
api.add_router("", accounts_api)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", api.urls),
    path("", include("training.urls")),
    path("", include("builder.urls")),
]
